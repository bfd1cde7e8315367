/**
 * Hostile peers for availability tests: handshakes reset before the 101,
 * clients that never answer a close, slow request heads, and a count of a
 * process's open descriptors. Built on `node:net` because it can reset a
 * connection (RST) and bind the client's side to a chosen loopback address.
 *
 * @module
 */

import net from "node:net";
import { HANDSHAKE_HEADERS, within } from "./helpers.ts";

/** A complete WebSocket upgrade request for `path`. */
export function handshakeRequest(headers: Record<string, string> = {}, path = "/"): string {
  const lines = Object.entries({ ...HANDSHAKE_HEADERS, ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return `GET ${path} HTTP/1.1\r\n${lines}\r\n`;
}

/** Where to connect, and from which local address. */
export interface Target {
  /** The port on 127.0.0.1. */
  port: number;
  /** The client's address, 127.0.0.1 unless given (any of 127.0.0.0/8 works). */
  from?: string;
}

/** Opens a TCP connection and resolves once it is established. */
export function connect({ port, from }: Target): Promise<net.Socket> {
  return within(
    new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({
        port,
        host: "127.0.0.1",
        ...(from ? { localAddress: from } : {}),
      });
      socket.once("connect", () => resolve(socket));
      socket.once("error", reject);
    }),
    5000,
    `a TCP connection to port ${port}`,
  );
}

/**
 * Sends `count` valid upgrade requests, each reset (RST, not FIN) as soon as
 * it is written: before the 101 can be read.
 */
export async function resetHandshakes(target: Target, count: number): Promise<void> {
  const request = handshakeRequest();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = await connect(target);
      await new Promise<void>((resolve) => socket.write(request, () => resolve()));
      socket.resetAndDestroy();
    }),
  );
}

/**
 * A client that completes the handshake and then neither reads nor answers
 * anything, so a close frame from the server is never answered.
 */
export class SilentClient implements Disposable {
  /** The status line and headers of the answer. */
  head = "";

  private constructor(readonly socket: net.Socket) {}

  /** Connects, upgrades, and waits for the answer's head. */
  static async open(target: Target, headers: Record<string, string> = {}): Promise<SilentClient> {
    const socket = await connect(target);
    const client = new SilentClient(socket);
    await within(
      new Promise<void>((resolve, reject) => {
        const onData = (chunk: Uint8Array) => {
          client.head += new TextDecoder().decode(chunk);
          if (!client.head.includes("\r\n\r\n")) return;
          socket.off("data", onData);
          // Stop reading: whatever the server sends next stays unread.
          socket.pause();
          resolve();
        };
        socket.on("data", onData);
        socket.once("error", reject);
        socket.write(handshakeRequest(headers));
      }),
      5000,
      "the answer to a handshake",
    );
    return client;
  }

  /** The answer's status code. */
  get status(): number {
    return Number(this.head.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  }

  /** Resolves when the other side closes the connection. */
  get ended(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.resume();
    });
  }

  [Symbol.dispose](): void {
    this.socket.destroy();
  }
}

/**
 * Opens a connection and sends part of a request head, never the end of it.
 */
export async function slowHead(target: Target): Promise<net.Socket> {
  const socket = await connect(target);
  socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
  return socket;
}

/** Resolves when the other side closes `socket` (reading and dropping what comes). */
export function closedByPeer(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once("close", () => resolve());
    socket.on("error", () => {});
    socket.resume();
  });
}

/** How many descriptors process `pid` has open (Linux, read from `/proc`). */
export function openDescriptors(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** Fetches `/metrics` and returns the value of one sample, e.g. `switchboard_sockets`. */
export async function metric(port: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  if (line === undefined) throw new Error(`No sample ${sample} in /metrics:\n${text}`);
  return Number(line.slice(sample.length + 1));
}

/**
 * Polls `probe` until it returns true, every 20 ms, for at most `ms`: for
 * state that another process owns and announces no event for.
 */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  ms: number,
  what: string,
) {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
