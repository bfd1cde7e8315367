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
import {
  CLIENT_USAGE,
  type ClientFlags,
  parseClientFlags,
  UsageError,
  usageError,
} from "./lib/server/flags.ts";
import {
  ICE_CREDENTIAL_ENV,
  iceServersFromUrls,
  needsCredential,
} from "./lib/protocol/ice_servers.ts";
import {
  getWriterSink,
  jsonFormatter,
  setupLogging,
  textFormatter,
} from "./lib/runtime/logging.ts";
import { missingFlags, readSecretEnv, WEBRTC_PERMISSIONS } from "./lib/runtime/permissions.ts";
import { ProgressDisplay } from "./lib/cli/files/progress.ts";
import { receivePermissions } from "./lib/cli/files/transfers.ts";
import { errorText } from "./lib/runtime/safe_text.ts";
import { type PeerConnectionFactory, weriftFactory } from "./lib/cli/werift/peer.ts";

export { type ClientIo, runClient } from "./lib/cli/run.ts";

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
    const receiving = await checkDownloadDir(flags);
    if (receiving !== 0) return receiving;
    const prepared = await prepareWebrtc(flags);
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

/**
 * Checks WebRTC mode's permissions and starts loading the WebRTC library in
 * the background, so the client connects and shows its id meanwhile.
 *
 * @returns The connection factory, or an exit code after one line on stderr.
 */
async function prepareWebrtc(
  flags: ClientFlags,
): Promise<{ factory: PeerConnectionFactory; ready: Promise<unknown> } | number> {
  const missing = await missingFlags(WEBRTC_PERMISSIONS);
  if (missing.length > 0) {
    console.error(
      `WebRTC mode needs ${missing.join(" ")} (run it with: deno task peer)`,
    );
    return 2;
  }
  let credential: string | undefined;
  try {
    if (needsCredential(flags.iceUrls)) credential = await readSecretEnv(ICE_CREDENTIAL_ENV);
  } catch (error) {
    console.error(`Cannot start WebRTC mode: ${errorText(error)}`);
    return 1;
  }
  const ready = weriftFactory({
    ownIceServers: iceServersFromUrls(flags.iceUrls, flags.iceUsername, credential),
    relayOnly: flags.relayOnly,
    interfaces: Deno.networkInterfaces(),
  });
  // A failure shows on the first pairing, whose link falls back to the server.
  ready.catch(() => {});
  return { factory: async (iceServers) => (await ready)(iceServers), ready };
}

/**
 * With `--accept-files` (or a `--download-dir`), checks up front that the
 * folder can be written, and makes it if it is missing: one line naming the
 * flags, never a prompt later.
 *
 * @returns 0, or the exit code after one line on stderr.
 */
async function checkDownloadDir(flags: ClientFlags): Promise<number> {
  if (!flags.acceptFiles && flags.downloadDir === ".") return 0;
  const missing = await missingFlags(receivePermissions(flags.downloadDir));
  if (missing.length > 0) {
    console.error(
      `Receiving files into ${flags.downloadDir} needs ${
        missing.join(" ")
      } (or run: deno task peer-files)`,
    );
    return 2;
  }
  try {
    if (!(await Deno.stat(flags.downloadDir)).isDirectory) throw new Error("not a folder");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return await makeDownloadDir(flags.downloadDir);
    console.error(`--download-dir ${flags.downloadDir}: ${errorText(error)}`);
    return 2;
  }
  return 0;
}

async function makeDownloadDir(dir: string): Promise<number> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    console.error(`--download-dir ${dir}: cannot make the folder: ${errorText(error)}`);
    return 2;
  }
  console.error(`Made the download folder ${dir}`);
  return 0;
}

function writeAll(file: { writeSync(bytes: Uint8Array): number }, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
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
