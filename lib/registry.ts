/**
 * The in-memory client registry: client id → entry. Pure state, no I/O, so
 * it is testable without a network and generic over what a "socket" is.
 *
 * @module
 */

/** One registered client. */
export interface ClientEntry<S> {
  /** The client's id, a v4 UUID. */
  readonly id: string;
  /** How the server reaches the client: its connection, in the server. */
  readonly socket: S;
  /** The peer's address as `ip:port`. */
  readonly remoteAddr: string;
  /** When the client registered, in milliseconds since the epoch. */
  readonly connectedAt: number;
}

/**
 * Connected clients by id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "./registry.ts";
 * const registry = new Registry<string>();
 * const id = registry.register("socket", "127.0.0.1:5000");
 * assert.equal(registry.size, 1);
 * assert.equal(registry.get(id)?.remoteAddr, "127.0.0.1:5000");
 * assert.equal(registry.unregister(id), true);
 * assert.equal(registry.unregister(id), false); // already gone
 * ```
 */
export class Registry<S> implements Iterable<ClientEntry<S>> {
  #clients = new Map<string, ClientEntry<S>>();

  /**
   * Registers a client under a new v4 UUID and returns the id.
   *
   * @param socket The client's socket.
   * @param remoteAddr The peer's address as `ip:port`.
   * @param connectedAt When the client connected; now by default.
   * @returns The new client id.
   */
  register(socket: S, remoteAddr: string, connectedAt = Date.now()): string {
    const id = crypto.randomUUID();
    this.#clients.set(id, { id, socket, remoteAddr, connectedAt });
    return id;
  }

  /**
   * Registers a client under an id it already had: a resumed session. A
   * connection still registered under `id` is replaced.
   *
   * @param id The session's id, which the caller has verified is the client's own.
   * @param socket The client's new socket.
   * @param remoteAddr The peer's address as `ip:port`.
   * @param connectedAt When the client connected; now by default.
   */
  restore(id: string, socket: S, remoteAddr: string, connectedAt = Date.now()): void {
    this.#clients.set(id, { id, socket, remoteAddr, connectedAt });
  }

  /**
   * Removes a client. Idempotent: Deno can fire `close` twice for one socket
   * (a ping timeout does), so a second call is normal and returns `false`.
   *
   * @returns Whether the client was registered.
   */
  unregister(id: string): boolean {
    return this.#clients.delete(id);
  }

  /** The entry for `id`, or `undefined` when no such client is connected. */
  get(id: string): ClientEntry<S> | undefined {
    return this.#clients.get(id);
  }

  /** Whether a client with `id` is connected. */
  has(id: string): boolean {
    return this.#clients.has(id);
  }

  /** How many clients are connected. */
  get size(): number {
    return this.#clients.size;
  }

  /** The connected clients, in registration order. */
  [Symbol.iterator](): IterableIterator<ClientEntry<S>> {
    return this.#clients.values();
  }
}
