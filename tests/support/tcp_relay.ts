/**
 * A TCP relay in front of a server, for tests of a network that goes away
 * and comes back: {@linkcode TcpRelay.cut} drops every connection through
 * it without a word to either end and stops listening, so the port refuses
 * connections; {@linkcode TcpRelay.restore} listens on the same port again.
 *
 * @module
 */

/** Relays `127.0.0.1:port` to `127.0.0.1:targetPort`. */
export class TcpRelay implements AsyncDisposable {
  readonly targetPort: number;
  #listener: Deno.Listener | undefined;
  #port = 0;
  readonly #conns = new Set<Deno.Conn>();
  #accepting: Promise<void> = Promise.resolve();

  /** Starts relaying to `targetPort`, on a free port unless `port` is given. */
  constructor(targetPort: number, port = 0) {
    this.targetPort = targetPort;
    this.#listen(port);
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#port;
  }

  /** Drops every relayed connection (no close frame, no warning) and stops listening. */
  async cut(): Promise<void> {
    this.#listener?.close();
    this.#listener = undefined;
    for (const conn of this.#conns) close(conn);
    this.#conns.clear();
    await this.#accepting;
  }

  /** Listens on the same port again. */
  restore(): void {
    this.#listen(this.#port);
  }

  #listen(port: number): void {
    const listener = this.#listener = Deno.listen({ hostname: "127.0.0.1", port });
    this.#port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = (async () => {
      try {
        for await (const client of listener) this.#relay(client);
      } catch {
        // Closed by cut().
      }
    })();
  }

  async #relay(client: Deno.Conn): Promise<void> {
    this.#conns.add(client);
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.targetPort });
    } catch {
      close(client);
      return;
    }
    this.#conns.add(server);
    const end = (): void => {
      close(client);
      close(server);
      this.#conns.delete(client);
      this.#conns.delete(server);
    };
    pump(client, server).finally(end);
    pump(server, client).finally(end);
  }

  /** Cuts everything. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.cut();
  }
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) return;
      for (let sent = 0; sent < n;) sent += await to.write(buffer.subarray(sent, n));
    }
  } catch {
    // Either side closed.
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
