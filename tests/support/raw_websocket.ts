/**
 * A WebSocket client over a raw TCP connection, for tests that must lose a
 * connection the way a network does: {@linkcode RawWebSocket.drop} closes
 * the TCP connection without a close frame, which no WebSocket API can do.
 *
 * @module
 */

import { HANDSHAKE_HEADERS, MessageQueue, within } from "./helpers.ts";

/** Text frames as parsed JSON, then how the connection ended. */
export class RawWebSocket {
  readonly #conn: Deno.TcpConn;
  readonly #messages = new MessageQueue();
  #buffer: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  /** Resolves with the close frame's code, or 1006 when the TCP connection just ended. */
  readonly closed: Promise<number>;
  #closedWith: (code: number) => void = () => {};

  private constructor(conn: Deno.TcpConn, rest: Uint8Array<ArrayBuffer>) {
    this.#conn = conn;
    this.closed = new Promise((resolve) => this.#closedWith = resolve);
    this.#buffer = rest;
    this.#read();
  }

  /**
   * Opens a WebSocket to `127.0.0.1:port` at `path` (with its query), with
   * `headers` added to the handshake's.
   */
  static async connect(
    port: number,
    path = "/",
    headers: Record<string, string> = {},
  ): Promise<RawWebSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const lines = Object.entries({ ...HANDSHAKE_HEADERS, ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\n${lines}\r\n`));
    let received: Uint8Array<ArrayBuffer> = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    while (true) {
      const end = headEnd(received);
      if (end >= 0) {
        const head = new TextDecoder().decode(received.subarray(0, end));
        if (!head.startsWith("HTTP/1.1 101")) {
          conn.close();
          throw new Error(`handshake refused: ${head.split("\r\n")[0]}`);
        }
        return new RawWebSocket(conn, received.slice(end + 4));
      }
      const n = await within(conn.read(chunk), 5000, "the 101 response");
      if (n === null) throw new Error("connection closed during the handshake");
      received = concat(received, chunk.subarray(0, n));
    }
  }

  /** The next text message, parsed. */
  next(ms = 5000): Promise<unknown> {
    return this.#messages.next(ms);
  }

  /** Sends `message` as JSON in a masked text frame. */
  async send(message: unknown): Promise<void> {
    await this.#write(0x1, new TextEncoder().encode(JSON.stringify(message)));
  }

  /** Drops the TCP connection: no close frame, as when a network goes away. */
  drop(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async #write(opcode: number, payload: Uint8Array): Promise<void> {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const length = payload.length;
    const head = length < 126
      ? [0x80 | opcode, 0x80 | length]
      : [0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff];
    const frame = new Uint8Array(head.length + 4 + length);
    frame.set(head);
    frame.set(mask, head.length);
    for (let i = 0; i < length; i++) frame[head.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
    await this.#conn.write(frame);
  }

  async #read(): Promise<void> {
    const chunk = new Uint8Array(65536);
    try {
      while (true) {
        while (this.#frame()) { /* each call takes one frame */ }
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        this.#buffer = concat(this.#buffer, chunk.subarray(0, n));
      }
    } catch {
      // Dropped by the test, or reset by the server.
    }
    this.#closedWith(1006);
  }

  /** Takes one complete frame from the buffer; `false` when none is complete. */
  #frame(): boolean {
    const b = this.#buffer;
    if (b.length < 2) return false;
    const opcode = b[0]! & 0x0f;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return false;
      length = (b[2]! << 8) | b[3]!;
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return false;
      length = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
      offset = 10;
    }
    if (b.length < offset + length) return false;
    const payload = b.slice(offset, offset + length);
    this.#buffer = b.slice(offset + length);
    if (opcode === 0x1) {
      this.#messages.push(JSON.parse(new TextDecoder().decode(payload)));
    } else if (opcode === 0x8) {
      this.#closedWith(payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005);
    } else if (opcode === 0x9) {
      this.#write(0xa, payload).catch(() => {});
    }
    return true;
  }
}

function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
