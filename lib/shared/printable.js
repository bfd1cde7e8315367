// This module is browser compatible.
// @ts-check
/**
 * Text from the network made safe to show, in a terminal and on the page
 * alike: the command-line peer, the server's log and the browser page all
 * import this file (the server serves it to the page as it is).
 *
 * A peer chooses file names, chat lines and error reasons, so it must not
 * be able to forge a line (a newline), drive a terminal (an escape sequence)
 * or make text read differently from what it is: a right-to-left override
 * shows `\u202Egnp.exe` as "exe.png". Such characters are shown as escapes
 * instead, so the user sees that they are there.
 *
 * @module
 */

/**
 * What is escaped: C0 and C1 controls, DEL, the two JavaScript line
 * separators, and every character that reorders text: the Unicode
 * `Bidi_Control` set (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)
 * and the deprecated U+206A–U+206F, which swap mirrored brackets and digit
 * shapes.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u206f]/g;

/** @type {Readonly<Record<string, string>>} */
const NAMED = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Escapes control and text-reordering characters as `\n`, `\r`, `\t` or
 * `\uXXXX`; everything else, including other scripts and emoji, is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./printable.js";
 * assert.equal(printable("a\nb\u001b[2J\u009b"), "a\\nb\\u001b[2J\\u009b");
 * assert.equal(printable("\u202Egnp.exe"), "\\u202egnp.exe");
 * assert.equal(printable("שלום 🚀"), "שלום 🚀");
 * ```
 *
 * @param {string} text
 * @returns {string}
 */
export function printable(text) {
  return text.replace(
    UNSAFE,
    (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
