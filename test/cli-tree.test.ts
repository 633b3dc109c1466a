import type { Command, Option } from 'commander';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli.js';
import { CommandContext } from '../src/commands/context.js';
import type { IO } from '../src/output/io.js';
import { runCli } from './support/cli.js';

/**
 * The guard for a whole class of mistakes: an option that commander hands to another command than
 * the one whose action reads it (a parent and a child declaring the same flag, say), so a
 * `--dry-run` silently becomes a write. Every command that runs an action gets every option it can
 * see, in every place its help allows (after its own name, after its arguments, after each
 * ancestor's name), and the action must receive it.
 */

function silentIO(): IO {
  const sink = () => new PassThrough().resume();
  return { stdin: new PassThrough(), stdout: sink(), stderr: sink(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, cwd: process.cwd(), now: () => new Date() };
}

function chainOf(command: Command): Command[] {
  const chain: Command[] = [];
  for (let current: Command | null = command; current; current = current.parent) chain.unshift(current);
  return chain;
}

function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((child) => allCommands(child))];
}

function hasAction(command: Command): boolean {
  return Boolean((command as unknown as { _actionHandler: unknown })._actionHandler);
}

/** A value every parser of the tree accepts and no default equals. */
function valueFor(option: Option): string | undefined {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices?.length) return option.argChoices.find((choice) => choice !== option.defaultValue) ?? option.argChoices[0];
  return '7';
}

function expectedValue(option: Option, raw: string | undefined): unknown {
  if (raw === undefined) return !option.negate;
  const parsed = option.parseArg ? option.parseArg(raw, option.defaultValue) : raw;
  return parsed;
}

interface Case {
  name: string;
  argv: string[];
  target: string;
  option: Option;
  declaredOn: string;
}

function pathOf(command: Command): string[] {
  return chainOf(command).slice(1).map((c) => c.name());
}

/** The target's arguments, and the options it cannot run without (`--result`, …) unless they are the one under test. */
function argumentsFor(command: Command, tested: Option): string[] {
  const mandatory = command.options.filter((option) => option.mandatory && option.long !== tested.long);
  return [...command.registeredArguments.map((argument) => `ARG-${argument.name()}`), ...mandatory.flatMap((option) => [option.long!, '7'])];
}

/** Every placement of every option visible to every command with an action. */
function cases(root: Command): Case[] {
  const result: Case[] = [];
  for (const target of allCommands(root).filter(hasAction)) {
    const chain = chainOf(target);
    const path = pathOf(target);
    chain.forEach((declaring, declaringIndex) => {
      for (const option of declaring.options) {
        if (option.long === '--version' || option.long === '--help') continue;
        const raw = valueFor(option);
        const args = argumentsFor(target, option);
        const flag = raw === undefined ? [option.long!] : [option.long!, raw];
        const places: Array<[string, string[]]> = [];
        // after the name of the declaring command and of every command below it, before the target's arguments
        for (let at = declaringIndex; at < chain.length; at++) {
          places.push([`after "${chain[at].name()}"`, [...path.slice(0, at), ...flag, ...path.slice(at), ...args]]);
        }
        if (args.length > 0) places.push(['after the arguments', [...path, ...args, ...flag]]);
        for (const [where, argv] of places) {
          result.push({ name: `${["qbank", ...path].join(" ")}: ${option.long} (of "${declaring.name()}") ${where}`, argv, target: path.join(' '), option, declaredOn: declaring.name() });
        }
      }
    });
  }
  return result;
}

/** What the action sees for an option: its own options from `opts()`, inherited ones through `optsWithGlobals()`. */
function seenByAction(command: Command, ownOptions: Record<string, unknown>, option: Option): unknown {
  const key = option.attributeName();
  const declaredHere = command.options.some((o) => o.attributeName() === key);
  return declaredHere ? ownOptions[key] : command.optsWithGlobals()[key];
}

function buildSpiedProgram(): { program: Command; calls: Array<{ command: Command; options: Record<string, unknown> }> } {
  const program = buildProgram(new CommandContext(silentIO()));
  const calls: Array<{ command: Command; options: Record<string, unknown> }> = [];
  for (const command of allCommands(program).filter(hasAction)) {
    command.action((...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      calls.push({ command: self, options: actionArgs[actionArgs.length - 2] as Record<string, unknown> });
    });
  }
  return { program, calls };
}

const ALL_CASES = cases(buildProgram(new CommandContext(silentIO())));

describe('every option reaches the action of the command it is given to', () => {
  it('walks a tree with commands and options', () => {
    expect(ALL_CASES.length).toBeGreaterThan(100);
    expect(ALL_CASES.some((c) => c.target === 'import exams' && c.option.long === '--dry-run')).toBe(true);
  });

  it.each(ALL_CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const { program, calls } = buildSpiedProgram();
    await program.parseAsync(testCase.argv, { from: 'user' });
    expect(calls.map((call) => pathOf(call.command).join(' '))).toEqual([testCase.target]);
    const [{ command, options }] = calls;
    expect(seenByAction(command, options, testCase.option)).toEqual(expectedValue(testCase.option, valueFor(testCase.option)));
  });
});

describe('every command that does something shows examples in its help', () => {
  const program = buildProgram(new CommandContext(silentIO()));
  const leaves = allCommands(program).filter((command) => command.commands.length === 0 || hasAction(command));
  it.each(leaves.map((command) => [['qbank', ...pathOf(command)].join(' '), command] as const))('%s --help', async (_name, command) => {
    const result = await runCli([...pathOf(command), '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\nExamples:\n {2}\$ qbank /);
  });
});
