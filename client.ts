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

import { readApiKey } from "./lib/auth/client_key.ts";
import { runClient } from "./lib/client.ts";
import { CLIENT_USAGE, type ClientFlags, parseClientFlags, UsageError } from "./lib/flags.ts";
import { ICE_CREDENTIAL_ENV, iceServersFromUrls, needsCredential } from "./lib/ice_servers.ts";
import { setupLogging } from "./lib/logging.ts";
import { missingFlags, readSecretEnv, WEBRTC_PERMISSIONS } from "./lib/permissions.ts";
import { errorText } from "./lib/text.ts";
import { type PeerConnectionFactory, weriftFactory } from "./lib/webrtc/werift_peer.ts";

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
  let peerConnections: PeerConnectionFactory | undefined;
  if (flags.webrtc) {
    const prepared = await prepareWebrtc(flags);
    if (typeof prepared === "number") return prepared;
    peerConnections = prepared;
  }
  let apiKey: string | undefined;
  try {
    apiKey = await readApiKey(flags.apiKeyFile);
  } catch (error) {
    console.error(`Cannot read the API key: ${errorText(error)}`);
    return 1;
  }
  setupLogging({ format: flags.logFormat });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, onSignal);
  }
  try {
    return await runClient(apiKey === undefined ? flags : { ...flags, apiKey }, {
      print: (line) => console.log(line),
      signal: stop.signal,
      input: lines(Deno.stdin.readable),
      ...(peerConnections ? { peerConnections } : {}),
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
async function prepareWebrtc(flags: ClientFlags): Promise<PeerConnectionFactory | number> {
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
  return async (iceServers) => (await ready)(iceServers);
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
