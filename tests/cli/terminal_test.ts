import assert from "node:assert/strict";
import { lines, writeAll } from "../../lib/cli/terminal.ts";

Deno.test("lines() splits on LF and CRLF across chunks, keeping a last line without an ending", async () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  const stream = ReadableStream.from([
    encode("pair B\r"),
    encode("\nsend hé"),
    encode("llo\nquit"),
  ]);
  assert.deepEqual(await Array.fromAsync(lines(stream)), ["pair B", "send héllo", "quit"]);
});

Deno.test("lines() yields nothing for empty input", async () => {
  assert.deepEqual(await Array.fromAsync(lines(ReadableStream.from<Uint8Array>([]))), []);
});

Deno.test("writeAll() writes every byte however few each write takes", () => {
  const written: number[] = [];
  const file = {
    writeSync(bytes: Uint8Array): number {
      written.push(bytes[0]!);
      return 1;
    },
  };
  writeAll(file, Uint8Array.from([1, 2, 3]));
  assert.deepEqual(written, [1, 2, 3]);
});
