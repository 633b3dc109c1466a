/**
 * The little of SpreadsheetML qbank reads, scanned with indexOf and small regular expressions
 * rather than a general XML parser: a sheet is rows of cells, and on 200,000 rows a SAX parser's
 * events cost more than the import's writes.
 */

const ENTITY = /&(?:#x([0-9a-fA-F]+)|#(\d+)|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Excel's escape for characters XML cannot hold (and for a literal `_xHHHH_`: `_x005F_xHHHH_`). */
const EXCEL_ESCAPE = /_x([0-9a-fA-F]{4})_/g;

/** XML text as the characters it stands for: entities, line ends as XML reads them, then Excel's `_xHHHH_`. */
export function decodeText(xml: string): string {
  let text = xml.indexOf('\r') === -1 ? xml : xml.replace(/\r\n?/g, '\n');
  if (text.indexOf('&') !== -1) text = text.replace(ENTITY, (_, hex, dec, name) => (name ? NAMED[name] : String.fromCodePoint(parseInt(hex ?? dec, hex ? 16 : 10))));
  if (text.indexOf('_x') !== -1) text = text.replace(EXCEL_ESCAPE, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  return text;
}

/** An attribute's decoded value in a tag's text, or undefined. */
export function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${name}="([^"]*)"`).exec(tag) ?? new RegExp(`(?:^|\\s)${name}='([^']*)'`).exec(tag);
  return match ? decodeText(match[1]) : undefined;
}

/** Every `<name .../>` or `<name ...>` start tag's attribute text, in order. */
export function startTags(xml: string, name: string): string[] {
  const tags: string[] = [];
  const pattern = new RegExp(`<${name}(\\s[^>]*?)?/?>`, 'g');
  for (let match = pattern.exec(xml); match; match = pattern.exec(xml)) tags.push(match[1] ?? '');
  return tags;
}

const RUN_TEXT = /<t(?:\s[^>]*)?>([\s\S]*?)<\/t>/g;
const PHONETIC = /<rPh\b[\s\S]*?<\/rPh>/g;

/** The plain text of a string item (`<si>`, `<is>`): its `<t>` runs joined, rich-text formatting and phonetic guides left out. */
export function stringItemText(xml: string): string {
  const body = xml.indexOf('<rPh') === -1 ? xml : xml.replace(PHONETIC, '');
  let text = '';
  RUN_TEXT.lastIndex = 0;
  for (let match = RUN_TEXT.exec(body); match; match = RUN_TEXT.exec(body)) text += match[1];
  return decodeText(text);
}

/** The shared strings of a workbook, in order. */
export function sharedStrings(xml: string): string[] {
  const strings: string[] = [];
  let at = 0;
  for (;;) {
    const start = xml.indexOf('<si', at);
    if (start === -1) break;
    const tagEnd = xml.indexOf('>', start);
    if (xml.charCodeAt(tagEnd - 1) === 47) {
      strings.push('');
      at = tagEnd + 1;
      continue;
    }
    const end = xml.indexOf('</si>', tagEnd);
    if (end === -1) break;
    strings.push(stringItemText(xml.slice(tagEnd + 1, end)));
    at = end + 5;
  }
  return strings;
}

const BUILT_IN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

/** Whether a number format shows a date or time: a d, m, y, h or s outside quotes, escapes and [colour] brackets. */
function isDateFormat(code: string): boolean {
  const bare = code.replace(/"[^"]*"/g, '').replace(/\\./g, '').replace(/\[(?![hms]+\])[^\]]*\]/gi, '');
  return /[dmyhs]/i.test(bare) && !/^general$/i.test(bare.trim());
}

/** For each cell style (`s="N"`), whether its number format is a date. */
export function dateStyles(stylesXml: string): boolean[] {
  const custom = new Map<number, string>();
  for (const tag of startTags(stylesXml, 'numFmt')) custom.set(Number(attribute(tag, 'numFmtId')), attribute(tag, 'formatCode') ?? '');
  const start = stylesXml.indexOf('<cellXfs');
  const end = stylesXml.indexOf('</cellXfs>', start);
  if (start === -1 || end === -1) return [];
  return startTags(stylesXml.slice(start, end), 'xf').map((tag) => {
    const id = Number(attribute(tag, 'numFmtId') ?? 0);
    return BUILT_IN_DATE_FORMATS.has(id) || (custom.has(id) && isDateFormat(custom.get(id)!));
  });
}

/** Column number (from 1) of a reference such as `K12`. */
export function columnOfReference(reference: string): number {
  let column = 0;
  for (let i = 0; i < reference.length; i++) {
    const code = reference.charCodeAt(i);
    if (code < 65 || code > 90) break;
    column = column * 26 + (code - 64);
  }
  return column;
}

/** A spreadsheet date serial as ISO 8601: the date alone when it has no time of day. */
export function serialToIso(serial: number, date1904: boolean): string {
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  const date = new Date(epoch + Math.round(serial * 86_400_000));
  const iso = date.toISOString();
  if (Number.isInteger(serial)) return iso.slice(0, 10);
  return iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
}
