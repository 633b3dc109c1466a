import { correctLetters } from '../../db/review/pingtopass-options.js';
import type { ReviewSession } from '../../db/review/session.js';
import type { EditableField, ReviewItem } from '../../db/review/types.js';
import type { Colors } from './render.js';
import { EditorUnavailableError, type ReviewPrompts, type TextEditor } from './terminal.js';

/**
 * The `e` key: pick a field by the name an editor sees, change it in the editor (multi-line text)
 * or a prompt (one-line values), and confirm an edit that removes much of the text before saving.
 */

export interface EditDependencies {
  session: ReviewSession;
  prompts: ReviewPrompts;
  editText: TextEditor;
  write: (text: string) => void;
  colors: Colors;
}

export function currentValue(item: ReviewItem, field: EditableField): string {
  if (item.system === 'pingtopass' && field.kind === 'option') return item.options[field.optionIndex ?? -1]?.text ?? '';
  if (item.system === 'pingtopass' && field.kind === 'correct') return correctLetters(item.options);
  const value = item.state[field.column];
  if (value === null || value === undefined) return '';
  if (field.kind === 'tags') {
    try {
      const parsed = JSON.parse(String(value));
      if (Array.isArray(parsed)) return parsed.join(', ');
    } catch {
      return String(value);
    }
  }
  return String(value);
}

export function preview(value: string): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length > 50 ? flat.slice(0, 49) + '…' : flat || '(empty)';
}

/** Text with more than one line never goes through a one-line prompt, whatever the field. */
const needsEditor = (field: EditableField, initial: string) => field.kind === 'multiline' || initial.includes('\n');

const PROMPT_HINTS: Partial<Record<EditableField['kind'], string>> = { tags: ' (comma-separated)', correct: ' (option letters: B, or A, C)' };

// ---------------------------------------------------------------------------------------------
// How much an edit removes

type DiffLine = { kind: 'same' | 'removed' | 'added'; text: string };

/** Line diff by longest common subsequence; texts too long for that count as replaced whole. */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length * b.length > 4_000_000) return [...a.map((text) => ({ kind: 'removed' as const, text })), ...b.map((text) => ({ kind: 'added' as const, text }))];
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push({ kind: 'same', text: a[i++] });
      j++;
    } else if (i < a.length && (j === b.length || lengths[i + 1][j] >= lengths[i][j + 1])) lines.push({ kind: 'removed', text: a[i++] });
    else lines.push({ kind: 'added', text: b[j++] });
  }
  return lines;
}

function commonAffixes(a: string, b: string): number {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  return prefix + suffix;
}

/**
 * Characters of the old text that the new one no longer has: per changed block of lines, what
 * the removed lines hold beyond the prefix and suffix they share with the lines that replace them
 * (so a typo fixed in a long line removes one character, not the line).
 */
export function removedCharacters(before: string, after: string): number {
  let removed = 0;
  let block: { removed: string[]; added: string[] } = { removed: [], added: [] };
  const flush = () => {
    if (block.removed.length) {
      const old = block.removed.join('\n');
      removed += old.length + 1 - commonAffixes(old, block.added.join('\n')) - (block.added.length ? 1 : 0);
    }
    block = { removed: [], added: [] };
  };
  for (const line of lineDiff(before, after)) {
    if (line.kind === 'same') flush();
    else block[line.kind].push(line.text);
  }
  flush();
  return Math.min(before.length, Math.max(0, removed));
}

/** The removed lines, then the added ones, each list cut to `perSide` lines and each line to the screen. */
export function shortDiff(before: string, after: string, c: Colors, perSide = 6): string[] {
  const changed = lineDiff(before, after);
  const cut = (text: string) => (text.length > 96 ? text.slice(0, 95) + '…' : text);
  const side = (kind: 'removed' | 'added', mark: string, color: (text: string) => string) => {
    const lines = changed.filter((line) => line.kind === kind);
    const shown = lines.slice(0, perSide).map((line) => color(`${mark} ${cut(line.text)}`));
    if (lines.length > perSide) shown.push(c.dim(`  … ${lines.length - perSide} more ${kind} line(s)`));
    return shown;
  };
  return [...side('removed', '-', c.red), ...side('added', '+', c.green)];
}

/** Fields holding prose; a difficulty or the correct letters are replaced whole by nature. */
const TEXT_KINDS = new Set<EditableField['kind']>(['multiline', 'text', 'option', 'tags']);

/** An edit that removes more than a third of a field's text is shown and confirmed first. */
export const removesTooMuch = (before: string, after: string) => before.length > 0 && removedCharacters(before, after) * 3 > before.length;

// ---------------------------------------------------------------------------------------------
// The edit itself

async function newValue(deps: EditDependencies, item: ReviewItem, field: EditableField, initial: string): Promise<string | undefined> {
  if (field.kind === 'choice') return deps.prompts.select(field.label, (field.choices ?? []).map((choice) => ({ value: choice, label: choice })));
  if (needsEditor(field, initial)) return deps.editText(initial, field);
  return deps.prompts.text(`${field.label} of ${item.id}${PROMPT_HINTS[field.kind] ?? ''}`, { initialValue: initial, required: !field.nullable });
}

/** Runs one edit with the terminal handed over; returns the notice for the next screen. */
export async function editItem(deps: EditDependencies, item: ReviewItem): Promise<string> {
  const { session, prompts, colors: c } = deps;
  const fields = session.queue.fieldsOf(item);
  if (fields.length === 0) return c.dim('nothing to edit on a work-queue item');
  const name = await prompts.select(
    `Edit which field of ${item.id}?`,
    fields.map((f) => ({ value: f.name, label: f.label, hint: preview(currentValue(item, f)) })),
  );
  const field = fields.find((f) => f.name === name);
  if (!field) return c.dim('nothing edited');
  const initial = currentValue(item, field);
  let value: string | undefined;
  try {
    value = await newValue(deps, item, field, initial);
  } catch (error) {
    if (error instanceof EditorUnavailableError) return c.yellow('✗ ') + `nothing edited: ${error.message}`;
    throw error;
  }
  if (value === undefined || value === initial) return c.dim(`nothing edited: ${field.label} is unchanged`);
  if (TEXT_KINDS.has(field.kind) && removesTooMuch(initial, value)) {
    const removed = removedCharacters(initial, value);
    deps.write('');
    deps.write(c.yellow(`This edit removes ${removed.toLocaleString('en-US')} of the ${initial.length.toLocaleString('en-US')} characters of ${field.label}:`));
    for (const line of shortDiff(initial, value, c)) deps.write('  ' + line);
    const keep = await prompts.confirm(`Save ${field.label} of ${item.id} with ${value.length.toLocaleString('en-US')} character(s)?`);
    if (!keep) return c.dim(`nothing edited: ${field.label} of ${item.id} is as it was`);
  }
  const outcome = await session.edit(field, value);
  return outcome.ok ? c.green('✔ ') + outcome.message : c.yellow('✗ ') + outcome.message;
}
