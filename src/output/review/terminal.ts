import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { emitKeypressEvents, type Key } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { EditableField } from '../../db/review/types.js';

/** The terminal plumbing of the review screen: keys, prompts, and handing the terminal to an editor. */

export interface ReviewScreenIO {
  stdin: Readable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
}

export interface ReviewPrompts {
  /** A line of text; undefined when the reviewer cancels. */
  text(message: string, options?: { initialValue?: string; required?: boolean }): Promise<string | undefined>;
  select<T extends string>(message: string, options: Array<{ value: T; label: string; hint?: string }>): Promise<T | undefined>;
  /** Yes or no, no by default; undefined when the reviewer cancels. */
  confirm(message: string): Promise<boolean | undefined>;
}

export function clackPrompts(io: ReviewScreenIO): ReviewPrompts {
  return {
    async text(message, options = {}) {
      const { text, isCancel } = await import('@clack/prompts');
      const answer = await text({
        message,
        initialValue: options.initialValue,
        input: io.stdin,
        output: io.stderr,
        validate: options.required ? (value) => (value && value.trim() ? undefined : 'required') : undefined,
      });
      return isCancel(answer) ? undefined : answer;
    },
    async select(message, options) {
      const { select, isCancel } = await import('@clack/prompts');
      const answer = await select({ message, options: options as never, input: io.stdin, output: io.stderr });
      return isCancel(answer) ? undefined : (answer as never);
    },
    async confirm(message) {
      const { confirm, isCancel } = await import('@clack/prompts');
      const answer = await confirm({ message, initialValue: false, input: io.stdin, output: io.stderr });
      return isCancel(answer) ? undefined : answer === true;
    },
  };
}

/** Edits a field's whole text; undefined when the reviewer abandoned the edit. */
export type TextEditor = (initial: string, field: EditableField) => Promise<string | undefined>;

/** No editor can be opened: the message says which variable to set. */
export class EditorUnavailableError extends Error {}

/** Editors tried, as git does, when neither $VISUAL nor $EDITOR is set. */
const DEFAULT_EDITORS = ['vi', 'nano'];

function onPath(name: string, env: Record<string, string | undefined>): boolean {
  for (const directory of (env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    try {
      accessSync(join(directory, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** `$VISUAL`, else `$EDITOR`, else `vi` or `nano` from PATH; undefined when there is none. */
export function resolveEditor(env: Record<string, string | undefined>): string | undefined {
  const configured = env.VISUAL?.trim() || env.EDITOR?.trim();
  if (configured) return configured;
  return DEFAULT_EDITORS.find((name) => onPath(name, env));
}

/**
 * Opens the editor on a temporary file holding the field's text, with the terminal handed over
 * while it runs. The text comes back byte for byte: the one newline an editor adds at the end of
 * a file is removed again when the field had none.
 */
export function systemEditor(io: ReviewScreenIO): TextEditor {
  return async (initial, field) => {
    const editor = resolveEditor(io.env);
    if (!editor) throw new EditorUnavailableError(`no editor to edit ${field.label} in: set $VISUAL or $EDITOR (for example EDITOR=nano), or install vi`);
    if (!io.stdinIsTTY || io.stdin !== process.stdin) throw new EditorUnavailableError(`${field.label} is edited in ${editor}, which needs this terminal as its input`);
    const directory = mkdtempSync(join(tmpdir(), 'qbank-edit-'));
    const file = join(directory, `${field.name}.md`);
    try {
      writeFileSync(file, initial, { mode: 0o600 });
      io.stdin.pause();
      // through a shell, as git runs core.editor: the variable may hold arguments ("code --wait")
      const result = spawnSync('/bin/sh', ['-c', `${editor} "$@"`, editor, file], { stdio: 'inherit', env: io.env as NodeJS.ProcessEnv });
      if (result.error) throw new EditorUnavailableError(`could not start ${editor}: ${result.error.message}; set $VISUAL or $EDITOR`);
      if (result.status !== 0) return undefined;
      const edited = readFileSync(file, 'utf8');
      return !initial.endsWith('\n') && edited.endsWith('\n') ? edited.slice(0, -1) : edited;
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  };
}

export interface KeyPress {
  name: string;
  ctrl: boolean;
  /** "G" is g with shift. */
  shift?: boolean;
}

/**
 * One key per decision. Keys that arrive while the previous one is still being handled are
 * dropped, not queued: a key must never decide an item the reviewer has not seen yet.
 */
export class KeyReader {
  private waiter: ((key: KeyPress) => void) | undefined;
  private attached = false;
  /** Ctrl-C while a write is in flight is kept: the loop stops once the write has answered. */
  private interrupted = false;

  constructor(private readonly input: Readable) {
    emitKeypressEvents(input);
  }

  private rawMode(on: boolean): void {
    const tty = this.input as Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
    if (tty.isTTY && typeof tty.setRawMode === 'function') tty.setRawMode(on);
  }

  private onKey = (text: string | undefined, key: Key | undefined) => {
    const press = { name: (key?.name ?? text ?? '').toLowerCase(), ctrl: Boolean(key?.ctrl), shift: Boolean(key?.shift) };
    const waiter = this.waiter;
    if (!waiter) {
      if (press.ctrl && press.name === 'c') this.interrupted = true;
      return;
    }
    this.waiter = undefined;
    waiter(press);
  };

  private onEnd = () => {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ name: 'q', ctrl: false });
  };

  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.input.on('keypress', this.onKey);
    this.input.on('end', this.onEnd);
    this.rawMode(true);
    this.input.resume();
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.input.off('keypress', this.onKey);
    this.input.off('end', this.onEnd);
    this.rawMode(false);
  }

  next(): Promise<KeyPress> {
    this.attach();
    if (this.input.readableEnded || this.interrupted) return Promise.resolve({ name: 'q', ctrl: false });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Prompts and the editor read the same stream: step aside while they run. */
  async aside<T>(work: () => Promise<T>): Promise<T> {
    this.detach();
    try {
      return await work();
    } finally {
      this.attach();
    }
  }
}
