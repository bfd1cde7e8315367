import assert from "node:assert/strict";
import { printable } from "../../lib/shared/printable.js";
import { printable as terminalPrintable } from "../../lib/runtime/safe_text.ts";

Deno.test("printable() shows a right-to-left override as an escape, so a name reads as it is", () => {
  assert.equal(printable("\u202Egnp.exe"), "\\u202egnp.exe");
  assert.equal(printable("photo\u202Dgpj.exe"), "photo\\u202dgpj.exe");
});

Deno.test("printable() escapes every character that reorders text", () => {
  const reordering: string[] = [];
  for (let code = 0; code <= 0xffff; code++) {
    const c = String.fromCharCode(code);
    if (/\p{Bidi_Control}/u.test(c)) reordering.push(c);
  }
  // U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069.
  assert.equal(reordering.length, 12);
  // The deprecated shaping and swapping controls reorder too.
  for (let code = 0x206a; code <= 0x206f; code++) reordering.push(String.fromCharCode(code));
  for (const c of reordering) {
    assert.equal(printable(`a${c}b`), `a\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}b`);
  }
});

Deno.test("printable() keeps right-to-left scripts, joined emoji and combining marks", () => {
  const text = "שלום مرحبا 👨‍👩‍👧 e\u0301 日本";
  assert.equal(printable(text), text);
});

Deno.test("the terminal and the page escape text with the same function", () => {
  assert.equal(terminalPrintable, printable);
});
