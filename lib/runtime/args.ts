/**
 * Command-line flags declared as data: each flag's name, value name, usage
 * text, parser and default are written once, and both the parsing and the
 * `--help` text come from that declaration. Pure: no Deno I/O.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helpFlag, parseFlags, usageText, valueFlag, wholeNumber } from "./args.ts";
 * const flags = {
 *   port: valueFlag({ name: "port", value: "PORT", help: "TCP port", default: 8765, parse: wholeNumber(0, 65535) }),
 *   help: helpFlag,
 * };
 * assert.deepEqual(parseFlags(["--port", "80"], flags), { port: 80, help: false });
 * assert.equal(
 *   usageText("Usage: x [options]", [{ entries: Object.values(flags) }]),
 *   "Usage: x [options]\n\n" +
 *     "  --port PORT                 TCP port (default 8765)\n" +
 *     "  -h, --help                  show this help\n",
 * );
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { errorText } from "./safe_text.ts";

/** A bad command line; the message says what to fix. */
export class UsageError extends Error {
  /** @param message What is wrong, for the user. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * What a program prints for a bad command line: the usage, then what is
 * wrong as the last line, where the eye lands (just above the prompt).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageError } from "./args.ts";
 * assert.equal(usageError("Usage: x [options]\n", "Unknown option '--y'"), "Usage: x [options]\n\nUnknown option '--y'");
 * ```
 */
export function usageError(usage: string, message: string): string {
  return `${usage.trimEnd()}\n\n${message}`;
}

/** Every flag on the command line, by long name, as `parseArgs` read it; absent ones `undefined`. */
export type GivenFlags = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** What a flag's parser is told besides the value. */
export interface FlagContext {
  /** The flag as the user types it, such as `--port`, for messages. */
  readonly flag: string;
  /** The whole command line, for a flag that only makes sense with another. */
  readonly given: GivenFlags;
}

/**
 * Turns a flag's text into its value.
 *
 * @throws {UsageError} When the text is not a value the flag takes.
 */
export type FlagParser<T> = (raw: string, context: FlagContext) => T;

/** One flag, declared once: what `parseArgs` needs, what `--help` shows, and how to read it. */
export interface Flag<T> {
  /** The long name, without the dashes: `port` for `--port`. */
  readonly name: string;
  /** A one-letter alias, without the dash. */
  readonly short?: string;
  /** The value's name in the usage (`PORT`); a switch, which takes none, has none. */
  readonly value?: string;
  /** Whether the flag may be given more than once, each value kept. */
  readonly multiple?: boolean;
  /** The usage text; each `\n` starts a line of its own, indented under the first. */
  readonly help: string;
  /** The default as the usage shows it, if it shows one. */
  readonly shownDefault?: string;
  /** The flag's value from what the command line gave (`undefined` when absent). */
  readonly read: (given: GivenFlags[string], context: FlagContext) => T;
}

/** The values a record of flag declarations parses to, under the same keys. */
export type FlagValues<Flags> = {
  [K in keyof Flags]: Flags[K] extends Flag<infer T> ? T : never;
};

/** A check across several flags, run on the whole command line before any flag's value is read. */
export type FlagRule = (given: GivenFlags) => void;

interface FlagText {
  /** The long name, without the dashes. */
  name: string;
  /** The usage text; each `\n` starts a line of its own. */
  help: string;
}

/** What {@linkcode valueFlag} takes. */
export interface ValueFlagSpec<T> extends FlagText {
  /** The value's name in the usage, such as `PORT`. */
  value: string;
  /** The value when the flag is absent; without one the value is `undefined` then. */
  default?: T;
  /**
   * The default as the usage shows it, appended as `(default …)`; by default
   * the default itself, and `false` shows none (when `help` says it in words).
   */
  showDefault?: string | false;
  /** Reads the text; the text itself when omitted. */
  parse?: FlagParser<T>;
}

/**
 * Declares a flag that takes one value, such as `--port 8765`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags, valueFlag } from "./args.ts";
 * const flags = { pair: valueFlag({ name: "pair", value: "ID", help: "pair with ID" }) };
 * assert.deepEqual(parseFlags(["--pair", "abc"], flags), { pair: "abc" });
 * assert.deepEqual(parseFlags([], flags), { pair: undefined });
 * ```
 */
export function valueFlag<T>(
  spec: ValueFlagSpec<T> & { parse: FlagParser<T>; default: T },
): Flag<T>;
/** Declares a flag that takes one value and has no default. */
export function valueFlag<T>(
  spec: ValueFlagSpec<T> & { parse: FlagParser<T> },
): Flag<T | undefined>;
/** Declares a flag that takes one value as text, with a default. */
export function valueFlag(spec: ValueFlagSpec<string> & { default: string }): Flag<string>;
/** Declares a flag that takes one value as text, with no default. */
export function valueFlag(spec: ValueFlagSpec<string>): Flag<string | undefined>;
export function valueFlag<T>(spec: ValueFlagSpec<T>): Flag<T | undefined> {
  const parse = spec.parse ?? ((raw: string) => raw as T);
  const shown = spec.showDefault ??
    (spec.default === undefined ? undefined : String(spec.default));
  return {
    name: spec.name,
    value: spec.value,
    help: spec.help,
    ...(shown === false || shown === undefined ? {} : { shownDefault: shown }),
    read: (raw, context) => raw === undefined ? spec.default : parse(String(raw), context),
  };
}

/** What {@linkcode listFlag} takes. */
export interface ListFlagSpec<T> extends FlagText {
  /** The name of one value in the usage, such as `URL`. */
  value: string;
  /** The values when the flag is absent; none by default. */
  default?: readonly T[];
  /** The default as the usage shows it, appended as `(default …)`; none by default. */
  showDefault?: string;
  /** Reads one value; the text itself when omitted. */
  parse?: FlagParser<T>;
}

/**
 * Declares a repeatable flag, such as `--allowed-origin A --allowed-origin B`;
 * its values come in command-line order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listFlag, parseFlags } from "./args.ts";
 * const flags = { origins: listFlag({ name: "origin", value: "ORIGIN", help: "allow ORIGIN" }) };
 * assert.deepEqual(parseFlags(["--origin", "a", "--origin", "b"], flags), { origins: ["a", "b"] });
 * ```
 */
export function listFlag<T>(spec: ListFlagSpec<T> & { parse: FlagParser<T> }): Flag<T[]>;
/** Declares a repeatable flag whose values are text. */
export function listFlag(spec: ListFlagSpec<string>): Flag<string[]>;
export function listFlag<T>(spec: ListFlagSpec<T>): Flag<T[]> {
  const parse = spec.parse ?? ((raw: string) => raw as T);
  return {
    name: spec.name,
    value: spec.value,
    multiple: true,
    help: spec.help,
    ...(spec.showDefault === undefined ? {} : { shownDefault: spec.showDefault }),
    read: (raw, context) =>
      raw === undefined
        ? [...spec.default ?? []]
        : (raw as string[]).map((item) => parse(item, context)),
  };
}

/** What {@linkcode switchFlag} takes. */
export interface SwitchFlagSpec extends FlagText {
  /** A one-letter alias, without the dash. */
  short?: string;
}

/**
 * Declares a flag that takes no value, such as `--once`: `true` when given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags, switchFlag } from "./args.ts";
 * const flags = { once: switchFlag({ name: "once", help: "exit at once" }) };
 * assert.deepEqual(parseFlags(["--once"], flags), { once: true });
 * assert.deepEqual(parseFlags([], flags), { once: false });
 * ```
 */
export function switchFlag(spec: SwitchFlagSpec): Flag<boolean> {
  return {
    name: spec.name,
    ...(spec.short === undefined ? {} : { short: spec.short }),
    help: spec.help,
    read: (raw) => raw === true,
  };
}

/** `-h, --help`, which every program takes. */
export const helpFlag: Flag<boolean> = switchFlag({
  name: "help",
  short: "h",
  help: "show this help",
});

/**
 * Parses a command line against flag declarations: the rules across flags
 * first, in their order, then each flag's value, in declaration order, so the
 * first mistake reported is always the same one.
 *
 * @param rules Checks that tie flags together, such as two that go together.
 * @returns Each declaration's value, under its key.
 * @throws {UsageError} On an unknown flag, a missing or bad value, a stray
 *   argument, or a broken rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags, positiveNumber, UsageError, valueFlag } from "./args.ts";
 * const flags = { wait: valueFlag({ name: "wait", value: "SECONDS", help: "", default: 1, parse: positiveNumber() }) };
 * assert.deepEqual(parseFlags(["--wait=2.5"], flags), { wait: 2.5 });
 * assert.throws(() => parseFlags(["--wait", "0"], flags), UsageError);
 * assert.throws(() => parseFlags(["--other"], flags), UsageError);
 * ```
 */
export function parseFlags<Flags extends Readonly<Record<string, Flag<unknown>>>>(
  args: readonly string[],
  flags: Flags,
  rules: readonly FlagRule[] = [],
): FlagValues<Flags> {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {};
  for (const flag of Object.values(flags)) {
    options[flag.name] = {
      type: flag.value === undefined ? "boolean" : "string",
      ...(flag.multiple ? { multiple: true } : {}),
      ...(flag.short === undefined ? {} : { short: flag.short }),
    };
  }
  let given: GivenFlags;
  try {
    given = parseArgs({ args: [...args], options, strict: true }).values as GivenFlags;
  } catch (error) {
    throw new UsageError(errorText(error));
  }
  for (const rule of rules) rule(given);
  const values: Record<string, unknown> = {};
  for (const [key, flag] of Object.entries(flags)) {
    values[key] = flag.read(given[flag.name], { flag: `--${flag.name}`, given });
  }
  return values as FlagValues<Flags>;
}

/** A line of the usage that is not a flag, such as a subcommand. */
export interface UsageLine {
  /** What the user types, in the left column. */
  readonly term: string;
  /** What it does; each `\n` starts a line of its own. */
  readonly help: string;
}

/** A block of the usage, after a blank line. */
export interface UsageSection {
  /** A line (or lines) above the entries. */
  readonly heading?: string;
  /** The flags (and other lines) it lists, in order. */
  readonly entries: readonly (Flag<unknown> | UsageLine)[];
}

// Usage text starts in this column; a longer term pushes it one space right.
const TERM_WIDTH = 28;

/**
 * The `--help` text: the synopsis, then each section after a blank line, an
 * entry a line (`  --port PORT   TCP port (default 8765)`), longer usage text
 * continued below, indented under it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageText } from "./args.ts";
 * assert.equal(
 *   usageText("Usage: x", [{ heading: "Commands:", entries: [{ term: "keys ...", help: "manage keys\nsee keys --help" }] }]),
 *   "Usage: x\n\nCommands:\n  keys ...                    manage keys\n                              see keys --help\n",
 * );
 * ```
 */
export function usageText(synopsis: string, sections: readonly UsageSection[]): string {
  const blocks = sections.map((section) => {
    const lines = section.entries.map((entry) =>
      "term" in entry
        ? usageEntry(entry.term, entry.help)
        : usageEntry(flagTerm(entry), flagHelp(entry))
    );
    return [...(section.heading === undefined ? [] : [section.heading]), ...lines].join("\n");
  });
  return `${[synopsis, ...blocks].join("\n\n")}\n`;
}

function flagTerm(flag: Flag<unknown>): string {
  const short = flag.short === undefined ? "" : `-${flag.short}, `;
  const value = flag.value === undefined ? "" : ` ${flag.value}`;
  return `${short}--${flag.name}${value}`;
}

/** The usage text with the default at its end, on a line of its own when the text ends with `\n`. */
function flagHelp(flag: Flag<unknown>): string {
  if (flag.shownDefault === undefined) return flag.help;
  const shown = `(default ${flag.shownDefault})`;
  return flag.help === "" || flag.help.endsWith("\n") ? flag.help + shown : `${flag.help} ${shown}`;
}

function usageEntry(term: string, help: string): string {
  const indent = " ".repeat(2 + TERM_WIDTH);
  const [first, ...rest] = help.split("\n");
  return [`  ${term.padEnd(TERM_WIDTH - 1)} ${first}`, ...rest.map((line) => indent + line)].join(
    "\n",
  );
}

/**
 * The longest timeout a flag takes, in seconds: a day. Longer ones are
 * mistakes, and overflow the runtime's timers.
 */
export const DAY = 86_400;

/**
 * A parser for a positive number, fractions allowed, up to `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveNumber } from "./args.ts";
 * const context = { flag: "--wait", given: {} };
 * assert.equal(positiveNumber(10)("2.5", context), 2.5);
 * assert.throws(() => positiveNumber(10)("11", context), /--wait takes a positive number up to 10, got "11"/);
 * ```
 */
export function positiveNumber(max = Number.MAX_SAFE_INTEGER): FlagParser<number> {
  return (raw, { flag }) => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value <= 0 || value > max) {
      throw new UsageError(`${flag} takes a positive number up to ${max}, got "${raw}"`);
    }
    return value;
  };
}

/**
 * A parser for a whole number from `min` to `max`, written in digits only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wholeNumber } from "./args.ts";
 * const context = { flag: "--port", given: {} };
 * assert.equal(wholeNumber(0, 65535)("8765", context), 8765);
 * assert.throws(() => wholeNumber(0, 65535)("-1", context), /--port takes a whole number from 0 to 65535, got "-1"/);
 * ```
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): FlagParser<number> {
  return (raw, { flag }) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

/**
 * A parser for one of a few words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneOf } from "./args.ts";
 * const context = { flag: "--log-format", given: {} };
 * assert.equal(oneOf(["text", "json"] as const)("json", context), "json");
 * assert.throws(() => oneOf(["text", "json"])("xml", context), /--log-format takes text or json, got "xml"/);
 * ```
 */
export function oneOf<T extends string>(choices: readonly T[]): FlagParser<T> {
  return (raw, { flag }) => {
    const choice = choices.find((c) => c === raw);
    if (choice === undefined) {
      throw new UsageError(`${flag} takes ${choices.join(" or ")}, got "${raw}"`);
    }
    return choice;
  };
}
