import type { RawRecord } from '../import/records.js';
import type { InterchangeFormat } from './model.js';

/**
 * A rejects file in a learning platform's format: each question left out as the file wrote it,
 * after its error (a `//` comment in GIFT, an XML comment in Moodle XML; Aiken has no comments,
 * so its rejects file holds the questions alone). Fix them and import the file as it is.
 */
export function interchangeRejectsStart(format: InterchangeFormat): string {
  return format === 'moodle-xml' ? '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' : '';
}

export function interchangeRejectsEnd(format: InterchangeFormat): string {
  return format === 'moodle-xml' ? '</quiz>\n' : '';
}

export function interchangeReject(format: InterchangeFormat, raw: RawRecord, error: string): string {
  const text = raw.kind === 'text' ? raw.text : raw.kind === 'json' ? raw.text : raw.kind === 'csv' ? raw.fields.join(',') : '';
  const oneLine = error.replace(/\s+/g, ' ');
  if (format === 'gift') return `// error: ${oneLine}\n${text}\n\n`;
  if (format === 'moodle-xml') return `<!-- error: ${oneLine.replace(/--/g, '- -')} -->\n${text}\n`;
  return `${text}\n\n`;
}
