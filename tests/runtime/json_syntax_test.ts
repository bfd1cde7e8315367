import assert from "node:assert/strict";
import { JsonSyntaxError, parseJson } from "../../lib/runtime/json_syntax.ts";

function errorOf(text: string): JsonSyntaxError {
  try {
    parseJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error(`parsed: ${JSON.stringify(text)}`);
}

Deno.test("parseJson() parses what JSON.parse parses, and ignores a leading byte-order mark", () => {
  for (const text of ['{"a": [1, -2.5e3, "x\\u00e9", true, false, null]}', "[]", '"s"', " 0 "]) {
    assert.deepEqual(parseJson(text), JSON.parse(text));
  }
  assert.deepEqual(parseJson('\uFEFF{"version": 1}'), { version: 1 });
});

Deno.test("parseJson() names the line and column of the first error and what was expected there", () => {
  const cases: [string, number, number, RegExp][] = [
    ["", 1, 1, /^the text is empty$/],
    ["{", 1, 2, /^the text ends; expected a property name in double quotes$/],
    ['{"a": 1,}', 1, 9, /^expected a property name in double quotes$/],
    ['{"a" 1}', 1, 6, /^expected ':' after the property name$/],
    ["[1 2]", 1, 4, /^expected ',' or '\]'$/],
    ['{"a": 1', 1, 8, /^the text ends; expected ',' or '\}'$/],
    ['{"a":1} x', 1, 9, /^more text after the JSON value$/],
    ['{\n  "a": [1,\n    -]\n}', 3, 6, /^expected a digit$/],
    ['{\n  "a": tru\n}', 2, 8, /^expected a value/],
    ['"\\x"', 1, 2, /^a bad escape in a string$/],
    ['["a\tb"]', 1, 4, /^a control character in a string/],
    ['"abc', 1, 5, /^the text ends; expected the string's closing '"'$/],
  ];
  for (const [text, line, column, problem] of cases) {
    const error = errorOf(text);
    assert.equal(error.line, line, JSON.stringify(text));
    assert.equal(error.column, column, JSON.stringify(text));
    assert.match(error.problem, problem, JSON.stringify(text));
    assert.equal(error.message, `line ${line}, column ${column}: ${error.problem}`);
  }
});

Deno.test("parseJson() never quotes the text, where JSON.parse does", () => {
  const text = "sbk_lwubJvQ5s0m3th1ngS3cr3t\n";
  assert.throws(() => JSON.parse(text), /sbk_lwubJv/);
  const error = errorOf(text);
  assert.equal(
    error.message,
    "line 1, column 1: expected a value (an object, array, string, number, true, false or null)",
  );
  assert.ok(!error.message.includes("sbk"));
});

Deno.test("parseJson() locates an error under 100000 open brackets without overflowing the stack", () => {
  const error = errorOf("[".repeat(100_000));
  assert.equal(error.column, 100_001);
  assert.match(error.problem, /^the text ends; expected a value/);
});
