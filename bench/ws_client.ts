/**
 * A bare WebSocket client over `Deno.connect`, just enough of RFC 6455 to
 * connect, read the `your_id` message, answer pings and close. The runtime's
 * `WebSocket` costs more CPU per connection than the servers under test, so a
 * load generator built on it measures itself; this one stays out of the way.
 *
 * @module
 */

import { uuidVersion, validateUuid } from "../lib/runtime/deps.ts";
import { yourId } from "../lib/protocol/messages.ts";

/** Why a connection failed, for the error counts. */
export type FailureKind =
  | "connect"
  | "handshake"
  | "closed"
  | "bad_id"
  | "timeout";

/** A failed connection attempt. */
export class ClientFailure extends Error {
  /**
   * @param kind The kind of failure, for counting.
   * @param message What happened, for people.
   */
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
    this.name = "ClientFailure";
  }
}

// The key only has to defeat caching proxies, and loopback has none, so one
// fixed key (RFC 6455's own example) lets every accept be checked for free.
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
// Taken from the protocol's own builder, so the type string is declared once.
const YOUR_ID = yourId("").type;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One server frame (servers never mask). */
interface Frame {
  opcode: number;
  payload: Uint8Array;
}

/** Reads whole frames from a connection, carrying leftovers between reads. */
class FrameReader {
  #pending = new Uint8Array(0);
  constructor(private readonly conn: Deno.TcpConn) {}

  /** Appends one read's bytes; `false` at end of stream. */
  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(4096);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const merged = new Uint8Array(this.#pending.length + n);
    merged.set(this.#pending);
    merged.set(chunk.subarray(0, n), this.#pending.length);
    this.#pending = merged;
    return true;
  }

  /** The HTTP response head, or `undefined` at end of stream. */
  async head(): Promise<string | undefined> {
    for (;;) {
      const text = decoder.decode(this.#pending);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        // Header bytes are ASCII, so string offsets are byte offsets.
        this.#pending = this.#pending.subarray(end + 4);
        return text.slice(0, end);
      }
      if (this.#pending.length > 16_384 || !(await this.#fill())) return undefined;
    }
  }

  /** The next frame, or `undefined` at end of stream. */
  async frame(): Promise<Frame | undefined> {
    for (;;) {
      const frame = this.#take();
      if (frame) return frame;
      if (!(await this.#fill())) return undefined;
    }
  }

  #take(): Frame | undefined {
    const bytes = this.#pending;
    if (bytes.length < 2) return undefined;
    let length = bytes[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (bytes.length < 4) return undefined;
      length = (bytes[2]! << 8) | bytes[3]!;
      offset = 4;
    } else if (length === 127) {
      throw new ClientFailure("bad_id", "unexpectedly large frame");
    }
    if (bytes.length < offset + length) return undefined;
    this.#pending = bytes.subarray(offset + length);
    return { opcode: bytes[0]! & 0x0f, payload: bytes.subarray(offset, offset + length) };
  }
}

/** A masked client frame, as RFC 6455 requires of clients. */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  // Control frames and short messages fit a 7-bit length; relayed messages may need 16 bits.
  if (payload.length > 0xffff) throw new RangeError("bench frames stay under 64 KiB");
  const extra = payload.length < 126 ? 0 : 2;
  const frame = new Uint8Array(6 + extra + payload.length);
  frame[0] = 0x80 | opcode;
  if (extra === 0) frame[1] = 0x80 | payload.length;
  else {
    frame[1] = 0x80 | 126;
    frame[2] = payload.length >> 8;
    frame[3] = payload.length & 0xff;
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, 2 + extra);
  const start = 6 + extra;
  for (let i = 0; i < payload.length; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
}

/** Closes the connection if `ms` pass first; the pending read then fails. */
function deadline(conn: Deno.TcpConn, ms: number): { cancel(): boolean } {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    conn.close();
  }, ms);
  return {
    cancel() {
      clearTimeout(timer);
      return fired;
    },
  };
}

/**
 * Connects to `127.0.0.1:port`, completes the handshake and waits for the
 * `your_id` message, checking that the id is a v4 UUID.
 *
 * @param port The server's port on loopback.
 * @param timeoutMs How long the whole attempt may take.
 * @param headers More request header lines, each ending in CRLF (an `Authorization`).
 * @returns The open connection and its id; the caller must close it.
 * @throws {ClientFailure} When any step fails, with its kind.
 */
export async function connectClient(
  port: number,
  timeoutMs: number,
  headers = "",
): Promise<BenchClient> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (error) {
    throw new ClientFailure("connect", String(error));
  }
  const timer = deadline(conn, timeoutMs);
  try {
    await writeAll(
      conn,
      encoder.encode(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
          `${headers}\r\n`,
      ),
    );
    const reader = new FrameReader(conn);
    const head = await reader.head();
    if (head === undefined) throw new ClientFailure("closed", "closed during the handshake");
    if (!head.startsWith("HTTP/1.1 101") || !head.includes(ACCEPT)) {
      throw new ClientFailure("handshake", head.split("\r\n")[0] ?? "");
    }
    const frame = await reader.frame();
    if (frame === undefined) throw new ClientFailure("closed", "closed before your_id");
    const id = parseYourId(frame);
    if (timer.cancel()) throw new ClientFailure("timeout", `no id within ${timeoutMs} ms`);
    return new BenchClient(conn, id, reader);
  } catch (error) {
    const fired = timer.cancel();
    try {
      conn.close();
    } catch {
      // Already closed by the deadline.
    }
    if (fired) throw new ClientFailure("timeout", `no id within ${timeoutMs} ms`);
    if (error instanceof ClientFailure) throw error;
    throw new ClientFailure("closed", String(error));
  }
}

function parseYourId(frame: Frame): string {
  if (frame.opcode !== OP_TEXT) {
    throw new ClientFailure("bad_id", `first frame has opcode ${frame.opcode}`);
  }
  let message: unknown;
  try {
    message = JSON.parse(decoder.decode(frame.payload));
  } catch {
    throw new ClientFailure("bad_id", "first message is not JSON");
  }
  const { type, id } = (message ?? {}) as { type?: unknown; id?: unknown };
  if (
    type !== YOUR_ID || typeof id !== "string" || !validateUuid(id) ||
    uuidVersion(id) !== 4
  ) {
    throw new ClientFailure("bad_id", `not a your_id with a v4 UUID: ${JSON.stringify(message)}`);
  }
  return id;
}

/** An open connection that has received its id. */
export class BenchClient {
  /**
   * @param conn The TCP connection.
   * @param id The id the server sent.
   * @param reader The frame reader holding any bytes read past the id.
   */
  constructor(
    readonly conn: Deno.TcpConn,
    readonly id: string,
    private readonly reader: FrameReader,
  ) {}

  #idling: Promise<void> | undefined;

  /** Sends one text message. */
  send(text: string): Promise<void> {
    return writeAll(this.conn, clientFrame(OP_TEXT, encoder.encode(text)));
  }

  /**
   * The next text message, answering pings on the way; `undefined` once the
   * server closes. Not to be mixed with {@linkcode BenchClient.idle}.
   */
  async text(): Promise<string | undefined> {
    for (let frame = await this.reader.frame(); frame; frame = await this.reader.frame()) {
      if (frame.opcode === OP_TEXT) return decoder.decode(frame.payload);
      if (frame.opcode === OP_CLOSE) return undefined;
      if (frame.opcode === OP_PING) await writeAll(this.conn, clientFrame(OP_PONG, frame.payload));
    }
    return undefined;
  }

  /**
   * Sends a close frame (1000) and waits, at most `timeoutMs`, for the server
   * to finish the closing handshake, so the server sees the clean close a
   * real client makes.
   */
  async close(timeoutMs: number): Promise<void> {
    const timer = deadline(this.conn, timeoutMs);
    try {
      await writeAll(this.conn, clientFrame(OP_CLOSE, new Uint8Array([0x03, 0xe8])));
      await this.idle();
    } catch {
      // The server may drop the connection before our close frame lands.
    } finally {
      if (!timer.cancel()) this.conn.close();
    }
  }

  /**
   * Keeps the connection alive, answering the server's pings, until the
   * server closes it or it is closed locally.
   *
   * @returns When the server's close frame or the end of stream arrives.
   */
  idle(): Promise<void> {
    return this.#idling ??= this.#answerPings();
  }

  async #answerPings(): Promise<void> {
    try {
      for (let frame = await this.reader.frame(); frame; frame = await this.reader.frame()) {
        if (frame.opcode === OP_CLOSE) return;
        if (frame.opcode === OP_PING) {
          await writeAll(this.conn, clientFrame(OP_PONG, frame.payload));
        }
      }
    } catch {
      // Closed locally while reading: nothing more will arrive.
    }
  }
}
