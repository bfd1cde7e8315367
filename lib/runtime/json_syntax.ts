/**
 * Parses JSON from a file and, when it is not JSON, says where by line and
 * column, never quoting the text: the runtime's own message quotes the
 * file's first bytes (`Unexpected token 's', "sbk_lwubJv"...`), which a log
 * must not show when the file is the wrong one (a key, a system file behind
 * a symlink). Pure: a string in, a value or an error out.
 *
 * @module
 */

/** Text that is not JSON: where, and what was expected there, never the text itself. */
export class JsonSyntaxError extends SyntaxError {
  /**
   * @param line The line of the first error, from 1.
   * @param column The column of the first error, from 1, in UTF-16 code units.
   * @param problem What is wrong there, in words that quote nothing from the text.
   */
  constructor(readonly line: number, readonly column: number, readonly problem: string) {
    super(`line ${line}, column ${column}: ${problem}`);
    this.name = "JsonSyntaxError";
  }
}

/**
 * `JSON.parse`, with a leading byte-order mark ignored (editors on Windows
 * write one) and a syntax error that names its line and column only.
 *
 * @throws {JsonSyntaxError} When `text` is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJson } from "./json_syntax.ts";
 * assert.deepEqual(parseJson('\uFEFF{"a": [1]}'), { a: [1] });
 * assert.throws(
 *   () => parseJson('{\n  "a": sbk_secret\n}'),
 *   { name: "JsonSyntaxError", message: "line 2, column 8: expected a value (an object, array, string, number, true, false or null)" },
 * );
 * ```
 */
export function parseJson(text: string): unknown {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const { index, problem } = firstError(body);
    const before = body.slice(0, index);
    const lineStart = before.lastIndexOf("\n") + 1;
    throw new JsonSyntaxError(
      before.split("\n").length,
      index - lineStart + 1,
      problem,
    );
  }
}

const VALUE = "a value (an object, array, string, number, true, false or null)";
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/**
 * The first place `text` breaks the JSON grammar (RFC 8259). Iterative, so
 * deep nesting cannot overflow the stack; called only once `JSON.parse` has
 * failed, so its speed does not matter.
 */
function firstError(text: string): { index: number; problem: string } {
  const open: ("}" | "]")[] = [];
  let i = 0;
  let expect: "value" | "key" | "next" = "value";
  const at = (problem: string) => ({
    index: i,
    problem: i >= text.length ? `the text ends; expected ${problem}` : `expected ${problem}`,
  });
  while (true) {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
    const c = text[i];
    if (expect === "value") {
      if (c === undefined && open.length === 0) return { index: i, problem: "the text is empty" };
      if (c === "{" || c === "[") {
        i++;
        while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
        const close = c === "{" ? "}" : "]";
        if (text[i] === close) {
          i++;
          expect = "next";
        } else {
          open.push(close);
          expect = close === "}" ? "key" : "value";
        }
        continue;
      }
      if (c === '"') {
        const error = skipString();
        if (error) return error;
      } else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
        NUMBER.lastIndex = i;
        const match = NUMBER.exec(text);
        if (!match) {
          i++; // past the minus sign, where the digit should be
          return at("a digit");
        }
        i += match[0].length;
      } else {
        const literal = ["true", "false", "null"].find((word) => text.startsWith(word, i));
        if (literal === undefined) return at(VALUE);
        i += literal.length;
      }
      expect = "next";
    } else if (expect === "key") {
      if (c !== '"') return at("a property name in double quotes");
      const error = skipString();
      if (error) return error;
      while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
      if (text[i] !== ":") return at("':' after the property name");
      i++;
      expect = "value";
    } else {
      const close = open.at(-1);
      if (close === undefined) {
        if (c !== undefined) return { index: i, problem: "more text after the JSON value" };
        // JSON.parse refused what this grammar accepts: point at the start.
        return { index: 0, problem: "not valid JSON" };
      }
      if (c === close) {
        open.pop();
        i++;
      } else if (c === ",") {
        i++;
        expect = close === "}" ? "key" : "value";
      } else {
        return at(`',' or '${close}'`);
      }
    }
  }

  function skipString(): { index: number; problem: string } | undefined {
    i++;
    while (true) {
      const c = text[i];
      if (c === undefined) return at("the string's closing '\"'");
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === "\\") {
        ESCAPE.lastIndex = i;
        const match = ESCAPE.exec(text);
        if (!match) return { index: i, problem: "a bad escape in a string" };
        i += match[0].length;
      } else if (c < " ") {
        return { index: i, problem: "a control character in a string (escape it)" };
      } else {
        i++;
      }
    }
  }
}
