/**
 * The command-line client's terminal: the lines typed or piped on stdin, and
 * unbuffered writes to stderr.
 *
 * @module
 */

/**
 * Splits a byte stream into lines, without their line endings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lines } from "./terminal.ts";
 * const bytes = ReadableStream.from([new TextEncoder().encode("pair B\r\nsend hi\nquit")]);
 * assert.deepEqual(await Array.fromAsync(lines(bytes)), ["pair B", "send hi", "quit"]);
 * ```
 */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split(/\r?\n/);
    rest = parts.pop() ?? "";
    yield* parts;
  }
  if (rest) yield rest;
}

/** Writes all of `bytes` to `file` at once, so lines reach a terminal in order. */
export function writeAll(file: { writeSync(bytes: Uint8Array): number }, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}
