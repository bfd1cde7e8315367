/**
 * werift's UDP sockets read each datagram into 16 KiB instead of 64 KiB.
 *
 * @module
 */

import type { Socket } from "node:dgram";
import { getLogger, type Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  collapsedSource,
  markPatched,
  methodPatch,
  prototypeOf,
  WeriftMismatch,
} from "./patch.ts";

const logger = getLogger(["switchboard", "webrtc"]);

/** The part of werift {@link udpReadsPatch} reads. */
type Module = Pick<Werift, "UdpTransport">;

/**
 * How many bytes each read of a werift socket takes. What arrives is far
 * smaller: an SCTP packet of at most 1,191 bytes (werift's MTU) in a DTLS
 * record, 1,228 bytes in all with AES-GCM and never more than 1,256;
 * TURN wraps that in at most 36 bytes more (a Data indication); STUN messages
 * are a few hundred bytes; werift sends each DTLS handshake message in one
 * datagram, the largest being the certificate: 423 bytes with the ECDSA key
 * the peer uses, 817 with a 2048-bit RSA one (measured), and browsers
 * fragment theirs to their MTU. 16 KiB leaves room for a whole certificate
 * chain, and for any one DTLS record of up to 16 KiB.
 */
export const READ_BYTES = 16 * 1024;

// How werift 0.25.2's UDP transport reads, white space collapsed: the
// constructor makes the socket and hands every datagram to one "message"
// listener; init() binds it and waits until it listens.
const CONSTRUCTOR_CODE =
  'this.socket = createSocket2(socketType); this.socket.on("message", (data, info) => {';
const INIT_CODE = 'await new Promise((r) => this.socket.once("listening", r));';

// How Deno's node:dgram reads (ext/node/polyfills/internal_binding/udp_wrap.ts,
// Deno 2.9.6, minified): every read allocates a fresh buffer of the size
// setRecvBufferSize() last stored, 64 KiB by default, and a datagram longer
// than that arrives cut to it; setRecvBufferSize() only stores the size (it
// never touches the OS socket, whose kernel buffer stays as it is), doubled
// on Linux as Node's getRecvBufferSize() reports it there.
const DENO_READ = /#receive\(\)\s*\{[^]*?new \w+\(this\.#recvBufferSize\)/;
const DENO_STORE = /this\.#recvBufferSize\s*=/;

interface UdpTransportInternals {
  socket: Socket;
}

/**
 * Makes every UDP socket of werift read into {@link READ_BYTES}. Deno's
 * node:dgram allocates a zeroed 64 KiB buffer for every datagram it reads,
 * whatever its size: for the 1.2 KB packets of a file transfer that was
 * about a fifth of each peer's CPU time, and garbage collection besides.
 *
 * A datagram that fills the whole buffer may have been cut: it is dropped,
 * and that socket reads 64 KiB again from then on, so the sender's
 * retransmission (DTLS, SCTP) arrives whole.
 *
 * Nothing changes when Deno's node:dgram no longer reads that way.
 */
export const udpReadsPatch = methodPatch<Module>({
  replaces: [["UdpTransport", "init"]],
  check(werift) {
    const init = prototypeOf(werift, "UdpTransport").init;
    if (typeof init !== "function") throw new WeriftMismatch("UdpTransport.init", "is missing");
    if (
      !collapsedSource(werift.UdpTransport).includes(CONSTRUCTOR_CODE) ||
      !collapsedSource(init).includes(INIT_CODE)
    ) {
      throw new WeriftMismatch("UdpTransport", "no longer makes and binds its socket as expected");
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "UdpTransport");
    const init = proto.init as (this: UdpTransportInternals) => Promise<void>;
    proto.init = markPatched(async function (this: UdpTransportInternals) {
      await init.call(this);
      readInto(this.socket, READ_BYTES);
    });
  },
});

/**
 * Applies {@link udpReadsPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's UDP transport no longer looks as expected.
 */
export function withSmallUdpReads(werift: Module): void {
  applyPatches(werift, [udpReadsPatch]);
}

let denoReadsChecked: boolean | undefined;

/**
 * Whether this Deno sizes every read of `socket` by `setRecvBufferSize()`
 * and nothing else, read from its own source once per process.
 */
export function readsSizedByRecvBuffer(socket: Socket): boolean {
  if (denoReadsChecked !== undefined) return denoReadsChecked;
  const state = Object.getOwnPropertySymbols(socket)
    .filter((symbol) => symbol.description === "kStateSymbol")
    .map((symbol) => (socket as unknown as Record<symbol, { handle?: object }>)[symbol])[0];
  const handle = state?.handle as { constructor: unknown; bufferSize?: unknown } | undefined;
  const store = String(handle?.bufferSize ?? "");
  denoReadsChecked = handle !== undefined && DENO_READ.test(String(handle.constructor)) &&
    DENO_STORE.test(store) && !store.includes("#rid");
  if (!denoReadsChecked) {
    logger.debug("Deno's UDP sockets no longer read as expected: werift's read at 64 KiB.");
  }
  return denoReadsChecked;
}

/** Sets how many bytes each read of `socket` takes, whatever the platform reports. */
function setReadBytes(socket: Socket, bytes: number): number {
  socket.setRecvBufferSize(bytes);
  const reported = socket.getRecvBufferSize();
  // Linux reports (and Deno stores) twice what was asked, as the kernel does.
  if (reported !== bytes) {
    socket.setRecvBufferSize(Math.max(1, Math.round(bytes * bytes / reported)));
  }
  return socket.getRecvBufferSize();
}

function readInto(socket: Socket, bytes: number): void {
  if (!readsSizedByRecvBuffer(socket)) return;
  const full = socket.getRecvBufferSize();
  let size = setReadBytes(socket, bytes);
  // werift's own listener, added when the socket was made, sees only what fits.
  const listeners = socket.listeners("message") as ((...args: unknown[]) => void)[];
  socket.removeAllListeners("message");
  socket.on("message", (data: Uint8Array, info: unknown) => {
    if (size !== 0 && data.length >= size) {
      logger.debug(
        "Dropped a datagram of {bytes} bytes or more from {info}; the socket reads {full} bytes from now on.",
        { bytes: size, info, full },
      );
      setReadBytes(socket, full);
      size = 0;
      return;
    }
    for (const listener of listeners) listener.call(socket, data, info);
  });
}
