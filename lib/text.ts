/**
 * Text from the network made safe to show: short, and with no control
 * characters, so a client can neither flood a log line nor forge one (a
 * newline) nor drive the operator's terminal (an escape sequence).
 *
 * @module
 */

// C0 and C1 controls, DEL, and the two JavaScript line separators.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Escapes control characters as `\n`, `\r`, `\t` or `\u00XX`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./text.ts";
 * assert.equal(printable("a\nb\u001b[2J\u009b"), "a\\nb\\u001b[2J\\u009b");
 * ```
 */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Shortens text for a log line or an error message, so a large or hostile
 * message cannot flood the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { truncate } from "./text.ts";
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
 * import { errorText } from "./text.ts";
 * assert.equal(errorText(new Error("boom")), "boom");
 * assert.equal(errorText("plain"), "plain");
 * ```
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
