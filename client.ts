/**
 * Switchboard's command-line client.
 *
 * ```sh
 * deno run --allow-net client.ts --url ws://localhost:8765
 * SWITCHBOARD_API_KEY=sbk_... deno run --allow-net --allow-env=SWITCHBOARD_API_KEY client.ts
 * ```
 *
 * @module
 */

import { readApiKey } from "./lib/cli/api_key.ts";
import { runClient } from "./lib/cli/run.ts";
import { CLIENT_USAGE, parseClientFlags } from "./lib/cli/flags.ts";
import { UsageError, usageError } from "./lib/runtime/args.ts";
import {
  getWriterSink,
  jsonFormatter,
  setupLogging,
  textFormatter,
} from "./lib/runtime/logging.ts";
import { ProgressDisplay } from "./lib/cli/files/progress.ts";
import { checkDownloadDir } from "./lib/cli/files/download_dir.ts";
import { lines, writeAll } from "./lib/cli/terminal.ts";
import { prepareWebrtc } from "./lib/cli/webrtc_mode.ts";
import type { PeerConnectionFactory } from "./lib/cli/werift/peer.ts";
import { errorText } from "./lib/runtime/safe_text.ts";

export { type ClientIo, runClient } from "./lib/cli/run.ts";
export { lines } from "./lib/cli/terminal.ts";

/**
 * Runs the client until the connection ends, the user types `quit`, or
 * presses Ctrl+C. Commands are read from stdin, a line each; those that come
 * before the id wait for it, piped ones also wait for the answer to a `pair`
 * or `accept` before them, and input that ends after at least one line quits
 * once they have run.
 *
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseClientFlags(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(usageError(CLIENT_USAGE, error.message));
    return 2;
  }
  if (flags.help) {
    console.log(CLIENT_USAGE);
    return 0;
  }
  let peerConnections: PeerConnectionFactory | undefined;
  let peerReady: Promise<unknown> | undefined;
  let progress: ProgressDisplay | undefined;
  if (flags.webrtc) {
    const receiving = await checkDownloadDir(flags, console.error);
    if (receiving !== 0) return receiving;
    const prepared = await prepareWebrtc(flags, console.error);
    if (typeof prepared === "number") return prepared;
    peerConnections = prepared.factory;
    peerReady = prepared.ready;
    progress = new ProgressDisplay({
      write: (text) => writeAll(Deno.stderr, new TextEncoder().encode(text)),
      tty: Deno.stderr.isTerminal(),
    });
  }
  let apiKey: string | undefined;
  try {
    apiKey = await readApiKey(flags.apiKeyFile);
  } catch (error) {
    console.error(`Cannot read the API key: ${errorText(error)}`);
    return 1;
  }
  // Written at once, not batched: a log line ("Connected to server.") and the
  // stdout lines printed with it must reach a terminal in the order they happened.
  setupLogging({
    format: flags.logFormat,
    sink: getWriterSink(flags.logFormat === "json" ? jsonFormatter : textFormatter),
  });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, onSignal);
  }
  try {
    return await runClient(apiKey === undefined ? flags : { ...flags, apiKey }, {
      print: (line) => {
        // A progress line drawn in place on the terminal is cleared first.
        progress?.clear();
        console.log(line);
      },
      signal: stop.signal,
      input: lines(Deno.stdin.readable),
      scripted: !Deno.stdin.isTerminal(),
      ...(peerConnections ? { peerConnections } : {}),
      ...(peerReady ? { peerReady } : {}),
      ...(progress ? { progress } : {}),
    });
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.removeSignalListener(signal, onSignal);
    }
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
