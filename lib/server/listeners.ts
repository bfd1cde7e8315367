/**
 * The sockets a server listens on: one per address of its host, all on one
 * port, each listening again after the process ran out of descriptors.
 * `localhost` is two addresses, `127.0.0.1` and `::1`, since browsers and
 * `curl` try either: listening on one of them leaves `curl -6` and some
 * browsers refused.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import type { TlsFiles } from "./config.ts";
import { errorText } from "../runtime/safe_text.ts";

const logger = getLogger(["switchboard", "server"]);

/**
 * The addresses to listen on for `host`: both loopbacks for `localhost`,
 * else `host` alone (with IPv6 brackets removed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenHosts } from "./listeners.ts";
 * assert.deepEqual(listenHosts("localhost"), ["127.0.0.1", "::1"]);
 * assert.deepEqual(listenHosts("[::1]"), ["::1"]);
 * assert.deepEqual(listenHosts("0.0.0.0"), ["0.0.0.0"]);
 * ```
 */
export function listenHosts(host: string): string[] {
  if (host.toLowerCase() === "localhost") return ["127.0.0.1", "::1"];
  return [host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host];
}

/** An address that cannot be listened on, and why. */
export class ListenError extends Error {
  /**
   * @param address The address, as `host:port` (IPv6 in brackets).
   * @param reason Why, from the system.
   */
  constructor(readonly address: string, readonly reason: string) {
    super(`${address}: ${reason}`);
    this.name = "ListenError";
  }
}

/** What to listen on and how to answer. */
export interface ListenOptions {
  /** A host name or address; see {@linkcode listenHosts}. */
  host: string;
  /** The port; 0 picks one free on every address. */
  port: number;
  /** The certificate to serve TLS with; plain TCP when absent. */
  tls?: TlsFiles | undefined;
  /** Answers every request on every address. */
  handler: Deno.ServeHandler<Deno.NetAddr>;
  /**
   * Whether to log `Server listening on ws://…` each time a listener listens
   * again: for the clients' listeners, whose start line says the same.
   */
  announce?: boolean;
}

/** Listeners on every address of one host, on one port. */
export class Listeners {
  /** The bound addresses, the first address of the host first. */
  readonly addrs: readonly Deno.NetAddr[];
  /** Resolves once every listener has stopped for good. */
  readonly finished: Promise<void>;
  #servers: Deno.HttpServer<Deno.NetAddr>[];
  #stopping = false;

  private constructor(servers: Deno.HttpServer<Deno.NetAddr>[], options: ListenOptions) {
    this.#servers = servers;
    this.addrs = servers.map((server) => server.addr);
    this.finished = Promise.all(servers.map((_, i) => this.#keepListening(i, options))).then(
      () => {},
    );
  }

  /**
   * Listens on every address of `options.host`. The first address must
   * work; a later one that cannot be had (`::1` on a host without IPv6) is
   * left out with a warning. With port 0, a port free on the first address
   * but taken on a later one is given up for another.
   *
   * @throws {ListenError} When the first address cannot be listened on, or
   *   a later one's fixed port is taken.
   */
  static open(options: ListenOptions): Listeners {
    const [first, ...rest] = listenHosts(options.host);
    for (let attempt = 1;; attempt++) {
      let servers;
      try {
        servers = [serve(first!, options.port, options)];
      } catch (error) {
        throw new ListenError(`${bracketed(first!)}:${options.port}`, errorText(error));
      }
      const port = servers[0]!.addr.port;
      try {
        for (const host of rest) {
          try {
            servers.push(serve(host, port, options));
          } catch (error) {
            if (error instanceof Deno.errors.AddrInUse) throw error;
            logger.warn("Not listening on {addr}: {error}", {
              addr: `${bracketed(host)}:${port}`,
              error: errorText(error),
            });
          }
        }
      } catch (error) {
        for (const server of servers) server.shutdown().catch(() => {});
        if (options.port === 0 && attempt < PORT_ATTEMPTS) continue;
        throw new ListenError(`${bracketed(rest[servers.length - 1]!)}:${port}`, errorText(error));
      }
      return new Listeners(servers, options);
    }
  }

  /** Stops listening on every address, after open connections end. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#servers.map((server) =>
      server.shutdown().catch(() => {
        // A listener that already failed has nothing left to shut down.
      })
    ));
  }

  // When the process runs out of file descriptors the runtime stops accepting
  // for good, though open connections carry on: listen again once some close.
  async #keepListening(i: number, options: ListenOptions): Promise<void> {
    const addr = this.addrs[i]!;
    while (true) {
      try {
        await this.#servers[i]!.finished;
        return;
      } catch (error) {
        if (this.#stopping) return;
        logger.error("Stopped accepting connections: {error}. Listening again in {seconds} s.", {
          error: errorText(error),
          seconds: RELISTEN_DELAY_MS / 1000,
        });
        await new Promise((resolve) => setTimeout(resolve, RELISTEN_DELAY_MS));
        if (this.#stopping) return;
        try {
          this.#servers[i] = serve(addr.hostname, addr.port, options);
          if (options.announce) {
            const scheme = options.tls === undefined ? "ws" : "wss";
            const url = `${scheme}://${formatAddr(this.#servers[i]!.addr)}`;
            logger.info("Server listening on {url}", { url });
          }
        } catch (error) {
          logger.error("Cannot listen again: {error}", { error: errorText(error) });
        }
      }
    }
  }
}

/**
 * Formats an address as `ip:port`, bracketing IPv6.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatAddr } from "./listeners.ts";
 * assert.equal(formatAddr({ transport: "tcp", hostname: "::1", port: 80 }), "[::1]:80");
 * ```
 */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

function serve(
  hostname: string,
  port: number,
  options: ListenOptions,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname, port, ...(options.tls ?? {}), onListen: () => {} },
    options.handler,
  );
}

function bracketed(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Ports tried for port 0 before giving up, when a later address has the first one taken. */
const PORT_ATTEMPTS = 5;

/** How long to wait before listening again after a listener failed. */
const RELISTEN_DELAY_MS = 1000;
