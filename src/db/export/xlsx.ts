import { crc32, deflateRawSync } from 'node:zlib';
import type { ExportColumn } from './tables.js';
import { cellText, type RecordWriter } from './formats.js';

/**
 * A streaming .xlsx writer: the worksheet's XML is compressed chunk by chunk into the ZIP package
 * as it is produced, so memory stays flat whatever the row count. Written here rather than with
 * exceljs's WorkbookWriter, which took 18-34 s for 200,000 rows where this takes a few seconds (see
 * `npm run bench -- xlsx`).
 *
 * Every cell is an inline string styled as Text (`@`), so a spreadsheet reinterprets nothing (no
 * dates out of `1-2`, no numbers out of `007`); characters XML 1.0 cannot hold, and a carriage
 * return (which XML readers turn into a line feed), are written as Excel writes them, `_x000D_`,
 * and a literal `_xHHHH_` in the text as `_x005F_xHHHH_`.
 */

/** A cell as written: text, a number, a boolean; null or undefined leaves it empty. */
export type XlsxValue = string | number | boolean | Date | null | undefined;

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
  '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>';

const ROOT_RELS =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>';

const WORKBOOK_RELS =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>' +
  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>';

/** Style 0 the default, 1 Text (`@`, built-in format 49), 2 bold Text for the header. */
const STYLES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>';

function workbookXml(sheet: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView/></bookViews>' +
    `<sheets><sheet name="${escapeXml(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>`
  );
}

const SHEET_START =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
  '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>';
const SHEET_END = '</sheetData></worksheet>';

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[&<>"\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|_x[0-9a-fA-F]{4}_/;
// eslint-disable-next-line no-control-regex
const ESCAPES = /[&<>"\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|_(?=x[0-9a-fA-F]{4}_)/g;

function escapeXml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(ESCAPES, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`;
    }
  });
}

/** An inline-string cell at `ref` styled `style`; text with surrounding spaces keeps them. */
function textCell(ref: string, text: string, style: number): string {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  const space = first <= 32 || last <= 32 || /^\s|\s$/.test(text) ? ' xml:space="preserve"' : '';
  return `<c r="${ref}" s="${style}" t="inlineStr"><is><t${space}>${escapeXml(text)}</t></is></c>`;
}

/** A row of cells; a cell left empty is not written (its position is kept by the next cell's reference). */
function rowXml(row: number, cells: XlsxValue[], style: number): string {
  let xml = `<row r="${row}">`;
  for (let i = 0; i < cells.length; i++) {
    const value = cells[i];
    if (value === null || value === undefined || value === '') continue;
    const ref = `${columnName(i + 1)}${row}`;
    if (typeof value === 'number' && Number.isFinite(value)) xml += `<c r="${ref}"><v>${value}</v></c>`;
    else if (typeof value === 'boolean') xml += `<c r="${ref}" t="b"><v>${value ? 1 : 0}</v></c>`;
    else xml += textCell(ref, value instanceof Date ? value.toISOString() : String(value), style);
  }
  return xml + '</row>';
}

const COLUMN_NAMES: string[] = [];
function columnName(column: number): string {
  let name = COLUMN_NAMES[column];
  if (name === undefined) {
    name = '';
    for (let n = column; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
    COLUMN_NAMES[column] = name;
  }
  return name;
}

/** DOS date and time of the ZIP entries: a fixed 1980-01-01, so the same rows make the same file. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const FLAG_DESCRIPTOR_UTF8 = 0x0008 | 0x0800;
/** Compression level: deflating the sheet is most of the work, and level 1 does it several times faster than 6 for some more bytes. */
const LEVEL = 1;

interface ZipEntry {
  name: Buffer;
  offset: number;
  crc: number;
  compressed: number;
  size: number;
}

/** What an entry's local header and its central directory record both hold, from "version needed" to the date, at `at`. */
function writeEntryFields(header: Buffer, at: number): void {
  header.writeUInt16LE(20, at); // version needed: 2.0
  header.writeUInt16LE(FLAG_DESCRIPTOR_UTF8, at + 2);
  header.writeUInt16LE(8, at + 4); // deflated
  header.writeUInt16LE(DOS_TIME, at + 6);
  header.writeUInt16LE(DOS_DATE, at + 8);
}

/**
 * A ZIP file written front to back: each entry's local header, its deflated data (streamed, with
 * the sizes in a data descriptor after it), and the central directory at the end.
 */
class ZipStreamWriter {
  private offset = 0;
  private readonly entries: ZipEntry[] = [];
  private open: ZipEntry | undefined;

  constructor(private readonly sink: (chunk: Buffer) => Promise<void>) {}

  private async put(chunk: Buffer): Promise<void> {
    this.offset += chunk.length;
    await this.sink(chunk);
  }

  async begin(name: string): Promise<void> {
    const nameBytes = Buffer.from(name, 'utf8');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(header, 4);
    header.writeUInt16LE(nameBytes.length, 26);
    this.open = { name: nameBytes, offset: this.offset, crc: 0, compressed: 0, size: 0 };
    await this.put(Buffer.concat([header, nameBytes]));
  }

  /** Deflates `data` as a run of blocks of the entry's one deflate stream (each chunk flushed, none final). */
  async data(data: Buffer): Promise<void> {
    const entry = this.open!;
    entry.crc = crc32(data, entry.crc);
    entry.size += data.length;
    const compressed = deflateRawSync(data, { level: LEVEL, finishFlush: 2 /* Z_SYNC_FLUSH */ });
    entry.compressed += compressed.length;
    await this.put(compressed);
  }

  async end(): Promise<void> {
    const entry = this.open!;
    this.open = undefined;
    const last = deflateRawSync(Buffer.alloc(0));
    entry.compressed += last.length;
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(entry.crc >>> 0, 4);
    descriptor.writeUInt32LE(entry.compressed, 8);
    descriptor.writeUInt32LE(entry.size, 12);
    this.entries.push(entry);
    await this.put(Buffer.concat([last, descriptor]));
  }

  async file(name: string, text: string): Promise<void> {
    await this.begin(name);
    await this.data(Buffer.from(text, 'utf8'));
    await this.end();
  }

  async finish(): Promise<void> {
    const start = this.offset;
    const parts: Buffer[] = [];
    for (const entry of this.entries) {
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(20, 4); // made by: version 2.0
      writeEntryFields(header, 6);
      header.writeUInt32LE(entry.crc >>> 0, 16);
      header.writeUInt32LE(entry.compressed, 20);
      header.writeUInt32LE(entry.size, 24);
      header.writeUInt16LE(entry.name.length, 28);
      header.writeUInt32LE(entry.offset, 42);
      parts.push(header, entry.name);
    }
    const directory = Buffer.concat(parts);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(start, 16);
    await this.put(Buffer.concat([directory, end]));
  }
}

/** Sheet XML gathered up to this many characters before it is deflated. */
const CHUNK_CHARS = 1 << 20;

/**
 * A workbook of one sheet, written as rows come: `start`, `row` for each row (the first is the
 * header: bold, frozen), `finish`. `sheetText` takes rows already rendered (the export's path).
 */
export class XlsxSheetWriter {
  private readonly zip: ZipStreamWriter;
  private pending = '';
  private rows = 0;

  constructor(
    sink: (chunk: Buffer) => Promise<void>,
    private readonly options: { sheet: string; columns?: number },
  ) {
    this.zip = new ZipStreamWriter(sink);
  }

  async start(): Promise<void> {
    await this.zip.file('[Content_Types].xml', CONTENT_TYPES);
    await this.zip.file('_rels/.rels', ROOT_RELS);
    await this.zip.file('xl/workbook.xml', workbookXml(this.options.sheet));
    await this.zip.file('xl/_rels/workbook.xml.rels', WORKBOOK_RELS);
    await this.zip.file('xl/styles.xml', STYLES);
    await this.zip.begin('xl/worksheets/sheet1.xml');
    this.pending = SHEET_START;
  }

  async row(cells: XlsxValue[]): Promise<void> {
    this.rows++;
    await this.sheetText(rowXml(this.rows, cells, this.rows === 1 ? 2 : 1));
  }

  /** Rows already rendered: text, or its UTF-8 bytes (deflated as they are, after any text before them). */
  async sheetText(xml: string | Buffer): Promise<void> {
    if (typeof xml !== 'string') {
      await this.flush();
      return this.zip.data(xml);
    }
    this.pending += xml;
    if (this.pending.length >= CHUNK_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    await this.zip.data(Buffer.from(text, 'utf8'));
  }

  async finish(): Promise<void> {
    this.pending += SHEET_END;
    await this.flush();
    await this.zip.end();
    await this.zip.finish();
  }
}

/**
 * The export's rows as worksheet XML (the package around it is `XlsxSheetWriter`'s): the header
 * of the export's columns, then each record as Text cells holding exactly the CSV cell's text.
 */
export function xlsxRecordWriter(columns: ExportColumn[]): RecordWriter {
  const kinds = columns.map((column) => column.kind);
  let row = 1;
  return {
    start: () => rowXml(1, columns.map((column) => column.name), 2),
    record(values) {
      row++;
      let xml = `<row r="${row}">`;
      for (let i = 0; i < kinds.length; i++) {
        const text = cellText(values[i], kinds[i]);
        if (text !== '') xml += textCell(columnName(i + 1) + row, text, 1);
      }
      return xml + '</row>';
    },
    end: () => '',
  };
}
