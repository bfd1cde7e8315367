/**
 * Text from the network made safe to show: short, and with no control or
 * text-reordering characters, so a client can neither flood a log line nor
 * forge one (a newline) nor drive the operator's terminal (an escape
 * sequence) nor make a name read backwards (a right-to-left override).
 *
 * @module
 */

/**
 * Escapes control and text-reordering characters as `\n`, `\r`, `\t` or
 * `\uXXXX`. The page runs the same function: it lives in `lib/shared/printable.js`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./safe_text.ts";
 * assert.equal(printable("a\nb\u001b[2J\u009b"), "a\\nb\\u001b[2J\\u009b");
 * assert.equal(printable("\u202Egnp.exe"), "\\u202egnp.exe");
 * ```
 */
export { printable } from "../shared/printable.js";

/**
 * Shortens text for a log line or an error message, so a large or hostile
 * message cannot flood the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { truncate } from "./safe_text.ts";
 * assert.equal(truncate("x".repeat(100), 10), "xxxxxxxxxx…");
 * assert.equal(truncate("short", 10), "short");
 * ```
 */
export function truncate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * The message of a caught error, or the thrown value as text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorText } from "./safe_text.ts";
 * assert.equal(errorText(new Error("boom")), "boom");
 * assert.equal(errorText("plain"), "plain");
 * ```
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A count and its noun, singular for exactly one: "1 message", "2 messages".
 *
 * @param many The plural when it is not `noun` + "s".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plural } from "./safe_text.ts";
 * assert.equal(plural(1, "message"), "1 message");
 * assert.equal(plural(0, "client"), "0 clients");
 * assert.equal(plural(3, "entry", "entries"), "3 entries");
 * ```
 */
export function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`;
}
