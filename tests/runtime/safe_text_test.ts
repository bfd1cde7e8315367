import assert from "node:assert/strict";
import { errorText, printable, truncate } from "../../lib/runtime/safe_text.ts";

Deno.test("printable() escapes newlines, tabs and carriage returns by name", () => {
  assert.equal(printable("a\nb\rc\td"), "a\\nb\\rc\\td");
});

Deno.test("printable() escapes other control characters, DEL, C1 and line separators", () => {
  assert.equal(
    printable("\u001b[2J\u0000\u007f\u0085\u2028\u2029"),
    "\\u001b[2J\\u0000\\u007f\\u0085\\u2028\\u2029",
  );
});

Deno.test("printable() leaves ordinary text, quotes and non-ASCII alone", () => {
  const text = 'Client "é" 🚀 {x}';
  assert.equal(printable(text), text);
});

Deno.test("truncate() shortens long text and leaves short text alone", () => {
  assert.equal(truncate("short"), "short");
  assert.equal(truncate("x".repeat(80)), "x".repeat(80));
  assert.equal(truncate("x".repeat(100), 10), `${"x".repeat(10)}…`);
});

Deno.test("errorText() gives an error's message, or the thrown value as text", () => {
  assert.equal(errorText(new TypeError("bad type")), "bad type");
  assert.equal(errorText("plain"), "plain");
  assert.equal(errorText(42), "42");
});
