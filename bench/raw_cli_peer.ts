/**
 * One side of the raw command-line data channel the file benchmark measures
 * as its reference: a werift peer connection made exactly as the CLI peer
 * makes it (`weriftFactory()`: the same fixes, tuning, keys and warm-up), one
 * ordered channel, and nothing else — no file, no hashing, no disk, no
 * protocol. The sender sends `BYTES` in 64 KiB messages with the file
 * transfer's high and low water marks; the receiver counts them.
 *
 * ```sh
 * deno run --allow-net --allow-env --allow-sys=networkInterfaces bench/raw_cli_peer.ts send BYTES
 * deno run --allow-net --allow-env --allow-sys=networkInterfaces bench/raw_cli_peer.ts receive BYTES
 * ```
 *
 * The benchmark is the signaling: it carries the lines between the two.
 *
 * - sender prints `offer <JSON>`; the receiver is typed that line and prints
 *   `answer <JSON>`, which the sender is typed;
 * - each prints `open` once the channel is open;
 * - the sender is typed `go` and starts; the receiver prints
 *   `done <bytes>` when every byte has arrived.
 *
 * @module
 */

import { weriftFactory } from "../lib/cli/werift/peer.ts";
import { CHUNK_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../lib/shared/file_protocol.js";
import type { FileChannelLike, PeerConnectionLike } from "../lib/shared/rtc_types.js";

/** What the sender sends per message: the file transfer's piece, 64 KiB. */
const MESSAGE_BYTES = CHUNK_BYTES;

function print(line: string): void {
  console.log(line);
}

/** The lines typed on stdin, one at a time. */
async function* stdinLines(): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    yield* parts;
  }
}

async function nextLine(lines: AsyncGenerator<string>, prefix: string): Promise<string> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`stdin closed before "${prefix}"`);
    if (value.startsWith(prefix)) return value.slice(prefix.length);
  }
}

function opened(channel: FileChannelLike): Promise<void> {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve) => channel.addEventListener("open", () => resolve()));
}

/** Waits until the channel's buffer falls to the low water mark. */
function drained(channel: FileChannelLike): Promise<void> {
  return new Promise((resolve) => {
    const low = () => {
      channel.removeEventListener("bufferedamountlow", low);
      resolve();
    };
    channel.addEventListener("bufferedamountlow", low);
  });
}

async function send(connection: PeerConnectionLike, total: number): Promise<void> {
  const lines = stdinLines();
  const channel = connection.createDataChannel("raw", {
    ordered: true,
  }) as unknown as FileChannelLike;
  channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
  await connection.setLocalDescription(await connection.createOffer());
  print(`offer ${JSON.stringify(connection.localDescription)}`);
  const answer = JSON.parse(await nextLine(lines, "answer "));
  await connection.setRemoteDescription(answer);
  await opened(channel);
  print("open");
  await nextLine(lines, "go");
  const message = new Uint8Array(MESSAGE_BYTES);
  crypto.getRandomValues(message);
  for (let sent = 0; sent < total;) {
    if (channel.bufferedAmount > HIGH_WATER_BYTES) {
      await drained(channel);
      continue;
    }
    const size = Math.min(message.length, total - sent);
    // A fresh copy each time: the stack may keep a reference until sent.
    channel.send(message.slice(0, size));
    sent += size;
  }
  // Stays up until the benchmark ends it, so the last bytes can leave.
}

async function receive(connection: PeerConnectionLike, total: number): Promise<void> {
  const lines = stdinLines();
  let received = 0;
  connection.ondatachannel = ({ channel: plain }) => {
    const channel = plain as unknown as FileChannelLike;
    channel.binaryType = "arraybuffer";
    channel.addEventListener("message", (event: { data: ArrayBuffer | Uint8Array | string }) => {
      const data = event.data;
      received += typeof data === "string" ? data.length : data.byteLength;
      if (received >= total) print(`done ${received}`);
    });
    void opened(channel).then(() => print("open"));
  };
  const offer = JSON.parse(await nextLine(lines, "offer "));
  await connection.setRemoteDescription(offer);
  await connection.setLocalDescription(await connection.createAnswer());
  print(`answer ${JSON.stringify(connection.localDescription)}`);
}

if (import.meta.main) {
  const [role, raw] = Deno.args;
  const total = Number(raw);
  if ((role !== "send" && role !== "receive") || !Number.isSafeInteger(total) || total < 1) {
    console.error("usage: raw_cli_peer.ts send|receive BYTES");
    Deno.exit(2);
  }
  const factory = await weriftFactory({
    ownIceServers: [],
    relayOnly: false,
    interfaces: Deno.networkInterfaces(),
  });
  const connection = await factory([]);
  await (role === "send" ? send(connection, total) : receive(connection, total));
}
