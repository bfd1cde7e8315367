/**
 * Switchboard's command-line client.
 *
 * ```sh
 * deno run --allow-net client.ts --url ws://localhost:8765
 * ```
 *
 * @module
 */

import { runClient } from "./lib/client.ts";
import { CLIENT_USAGE, parseClientFlags, UsageError } from "./lib/flags.ts";
import { setupLogging } from "./lib/logging.ts";

export { type ClientIo, runClient } from "./lib/client.ts";

/**
 * Runs the client until the connection ends, the user types `quit`, or
 * presses Ctrl+C. Commands are read from stdin, a line each; those that come
 * before the id wait for it, and input that ends after at least one line
 * quits once they are sent.
 *
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseClientFlags(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${CLIENT_USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(CLIENT_USAGE);
    return 0;
  }
  setupLogging({ format: flags.logFormat });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, onSignal);
  }
  try {
    return await runClient(flags, {
      print: (line) => console.log(line),
      signal: stop.signal,
      input: lines(Deno.stdin.readable),
    });
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.removeSignalListener(signal, onSignal);
    }
  }
}

/** Splits a byte stream into lines, without their line endings. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split(/\r?\n/);
    rest = parts.pop() ?? "";
    yield* parts;
  }
  if (rest) yield rest;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
