/**
 * The tenant rule: each key is a tenant, and a client can pair and relay
 * only with clients of its own. Pure state: which client came with which
 * key (by the key's hash), and how many each key has. Held by `access.ts`,
 * which the server asks.
 *
 * @module
 */

/**
 * Connected clients by tenant. On an open server every client is in the
 * one tenant `undefined`, so everyone can reach everyone, as before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tenants } from "./tenants.ts";
 * const tenants = new Tenants();
 * tenants.join("a1", "hash-a");
 * tenants.join("a2", "hash-a");
 * tenants.join("b1", "hash-b");
 * assert.ok(tenants.same("a1", "a2"));
 * assert.ok(!tenants.same("a1", "b1"));
 * assert.equal(tenants.count("hash-a"), 2);
 * tenants.leave("a2");
 * assert.equal(tenants.count("hash-a"), 1);
 * assert.deepEqual([...tenants.clientsOf("hash-b")], ["b1"]);
 * ```
 */
export class Tenants {
  readonly #tenantOf = new Map<string, string | undefined>();
  readonly #clients = new Map<string | undefined, Set<string>>();

  /** Records that `clientId` connected with the key whose hash is `tenant`. */
  join(clientId: string, tenant: string | undefined): void {
    this.leave(clientId);
    this.#tenantOf.set(clientId, tenant);
    let clients = this.#clients.get(tenant);
    if (clients === undefined) this.#clients.set(tenant, clients = new Set());
    clients.add(clientId);
  }

  /** Forgets a client; idempotent. */
  leave(clientId: string): void {
    if (!this.#tenantOf.has(clientId)) return;
    const tenant = this.#tenantOf.get(clientId);
    this.#tenantOf.delete(clientId);
    const clients = this.#clients.get(tenant);
    clients?.delete(clientId);
    if (clients?.size === 0) this.#clients.delete(tenant);
  }

  /**
   * The tenant `clientId` joined with (`undefined` for no key); `null` when
   * it is not a member at all.
   */
  tenantOf(clientId: string): string | undefined | null {
    return this.#tenantOf.has(clientId) ? this.#tenantOf.get(clientId) : null;
  }

  /** Whether both clients are connected and came with the same key. */
  same(a: string, b: string): boolean {
    return this.#tenantOf.has(a) && this.#tenantOf.has(b) &&
      this.#tenantOf.get(a) === this.#tenantOf.get(b);
  }

  /** How many clients of `tenant` are connected. */
  count(tenant: string | undefined): number {
    return this.#clients.get(tenant)?.size ?? 0;
  }

  /** The connected clients of `tenant`. */
  clientsOf(tenant: string | undefined): ReadonlySet<string> {
    return this.#clients.get(tenant) ?? new Set();
  }
}
