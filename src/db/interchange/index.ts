import { UsageError } from '../../errors.js';
import type { RecordStream } from '../import/records.js';
import type { TextSource } from '../import/text-source.js';
import { readAiken } from './aiken.js';
import { readGift } from './gift.js';
import { recordStream, type InterchangeDefaults, type InterchangeFormat } from './model.js';

export type { InterchangeDefaults, InterchangeFormat } from './model.js';
export { fileLooksLikeAiken, looksLikeAiken } from './aiken.js';

/** The learning platforms' formats qbank reads and writes for PingToPass questions. */
export const INTERCHANGE_FORMATS: readonly InterchangeFormat[] = ['moodle-xml', 'gift', 'aiken'];

export function isInterchangeFormat(format: string): format is InterchangeFormat {
  return (INTERCHANGE_FORMATS as readonly string[]).includes(format);
}

/**
 * The records of a Moodle XML, GIFT or Aiken file, as PingToPass question records. The XML reader
 * (and its parser, 40 ms to load) is loaded only for a Moodle XML file.
 */
export async function readInterchange(source: TextSource, format: InterchangeFormat, defaults: InterchangeDefaults, onText?: () => void): Promise<RecordStream> {
  const items = format === 'gift' ? readGift(source, onText) : format === 'aiken' ? readAiken(source, onText) : (await import('./moodle-xml.js')).readMoodleXml(source, onText);
  return recordStream(items, format, defaults);
}

/** Moodle XML, GIFT and Aiken hold multiple-choice questions: PingToPass questions, nothing else. */
export class InterchangeKindError extends UsageError {
  constructor(
    readonly format: InterchangeFormat,
    readonly system: string,
    readonly kind: string,
  ) {
    super(`${format} holds multiple-choice questions: PingToPass questions, not ${system} ${kind}`);
  }
}

export function checkInterchangeKind(system: string, kind: string, format: string): void {
  if (isInterchangeFormat(format) && (system !== 'pingtopass' || kind !== 'questions')) throw new InterchangeKindError(format, system, kind);
}
