/**
 * A TCP relay in front of a server that can hold back what its clients send
 * (the server's answers still pass): for tests of messages that were sent
 * before their sender heard of a change, and reach the server after it.
 *
 * @module
 */

/** Relays `127.0.0.1:port` to `127.0.0.1:targetPort`. */
export class HeldRelay implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  #holding = false;
  // Bytes from clients held back, per server connection, in order.
  readonly #held = new Map<Deno.Conn, Uint8Array[]>();
  #accepting: Promise<void>;

  /** Starts relaying to `targetPort` on a free port. */
  constructor(readonly targetPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** `ws://127.0.0.1:PORT`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** How many bytes from clients are held back. */
  get heldBytes(): number {
    let bytes = 0;
    for (const chunks of this.#held.values()) {
      for (const chunk of chunks) bytes += chunk.length;
    }
    return bytes;
  }

  /** Holds back what clients send from now on. */
  hold(): void {
    this.#holding = true;
  }

  /** Sends on what was held back, in order, and stops holding. */
  async release(): Promise<void> {
    this.#holding = false;
    for (const [server, chunks] of this.#held) {
      for (const chunk of chunks) await writeAll(server, chunk);
    }
    this.#held.clear();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) this.#relay(client);
    } catch {
      // Closed on dispose.
    }
  }

  async #relay(client: Deno.Conn): Promise<void> {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: this.targetPort });
    this.#conns.add(client).add(server);
    const down = pump(server, client);
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let n; (n = await client.read(buffer)) !== null;) {
        const chunk = buffer.slice(0, n);
        if (this.#holding) {
          this.#held.set(server, [...(this.#held.get(server) ?? []), chunk]);
        } else {
          await writeAll(server, chunk);
        }
      }
    } catch {
      // Closed on dispose, or by either end.
    }
    close(server);
    await down;
    close(client);
  }

  /** Stops listening and drops every connection. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) close(conn);
    await this.#accepting;
  }
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let n; (n = await from.read(buffer)) !== null;) {
      await writeAll(to, buffer.subarray(0, n));
    }
  } catch {
    // Closed on dispose, or by either end.
  }
  close(to);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
