import { FileProblem } from '../import/records.js';
import { InvalidBytesError, type TextSource } from '../import/text-source.js';

/** A line of a text file: its number (from 1) and its text without the line ending (`\n` or `\r\n`). */
export interface TextLine {
  line: number;
  text: string;
}

/**
 * The lines of a text source, a batch per chunk read, so a large file is never whole in memory.
 * Bytes that are not valid in the file's encoding stop the read with their offset.
 */
export async function* textLines(source: TextSource, onText?: () => void): AsyncGenerator<TextLine[]> {
  let rest = '';
  let line = 0;
  const split = (text: string, final: boolean): TextLine[] => {
    const parts = (rest + text).split('\n');
    rest = final ? '' : (parts.pop() ?? '');
    if (final && parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
    return parts.map((part) => ({ line: ++line, text: part.endsWith('\r') ? part.slice(0, -1) : part }));
  };
  try {
    for await (const text of source.chunks()) {
      onText?.();
      yield split(text, false);
    }
  } catch (error) {
    if (error instanceof InvalidBytesError) {
      throw new FileProblem([{ line: line + 1, message: `bytes at byte offset ${error.byteOffset} are not valid ${error.encoding}` }]);
    }
    throw error;
  }
  yield split('', true);
}

/** Groups lines into blocks separated by blank lines (GIFT's and Aiken's question boundaries). */
export async function* textBlocks(lines: AsyncGenerator<TextLine[]>): AsyncGenerator<TextLine[][]> {
  let block: TextLine[] = [];
  for await (const batch of lines) {
    const blocks: TextLine[][] = [];
    for (const entry of batch) {
      if (entry.text.trim() === '') {
        if (block.length > 0) blocks.push(block);
        block = [];
      } else block.push(entry);
    }
    yield blocks;
  }
  if (block.length > 0) yield [block];
}
