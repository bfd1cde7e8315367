/**
 * Access control in one place: the key or token check at the handshake, the
 * check again as a client opens (its key may have been revoked since, or be
 * at its client limit), the tenant rule (a client reaches only clients of its
 * own key, or of its token's tenant), token grants, each key's limits, and
 * the reload that replaces the keys. The server asks; this decides. State
 * only: headers and ids in, verdicts out (a token's check is asynchronous).
 *
 * @module
 */

import {
  type Admitted,
  checkKey,
  type Denied,
  misplacedCredential,
  presented,
  WWW_AUTHENTICATE,
} from "./credentials.ts";
import type { KeyRecord } from "./key_file.ts";
import { Keyring } from "./keyring.ts";
import { Tenants } from "./tenants.ts";
import {
  type AccessToken,
  grantRecord,
  isTokenTenant,
  mayPair,
  TOKEN_TENANT_PREFIX,
} from "./token_claims.ts";
import type { TokenVerifier } from "./tokens.ts";
import { looksLikeToken } from "../protocol/token_format.ts";

/** A handshake let through: with the key or token it presented, or none on an open server. */
export interface Entered {
  /** The key's entry; `undefined` for a token or on an open server. */
  record: KeyRecord | undefined;
  /** The verified access token, when it presented one. */
  token?: AccessToken;
}

/** Whether a client may register as it opens, and if not, why. */
export type Opening =
  | { ok: true }
  /** Its key was taken out of the keys file since the handshake. */
  | { ok: false; why: "revoked" }
  /** Its key has `maxClients` clients connected already. */
  | { ok: false; why: "limit"; key: KeyRecord; maxClients: number };

/**
 * Who may connect, and whom a client may reach. On an open server (no keys)
 * everyone may connect and every client is in the one tenant `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Access } from "./access.ts";
 * import { generateKey, hashKey } from "./key_file.ts";
 * const key = generateKey();
 * const record = { label: "acme", sha256: hashKey(key), createdAt: "2026-01-01T00:00:00.000Z" };
 * const access = new Access([record]);
 * const entered = access.handshake(new Headers({ authorization: `Bearer ${key}` }));
 * assert.ok("record" in entered && entered.record?.label === "acme");
 * assert.deepEqual(access.open(record.sha256), { ok: true });
 * access.join("a1", record.sha256);
 * access.join("x1", undefined);
 * assert.notEqual(access.tenantOf("a1"), access.tenantOf("x1"));
 * access.reload([]);
 * assert.ok(access.revoked(record.sha256));
 * ```
 */
export class Access {
  #keyring: Keyring | undefined;
  readonly #tenants = new Tenants();
  // Keys revoked on another instance that shares this one's state, by SHA-256.
  readonly #revokedElsewhere = new Set<string>();
  readonly #tokens: TokenVerifier | undefined;
  // The tokens of connected token clients, for their grants.
  readonly #tokenOf = new Map<string, AccessToken>();

  /**
   * @param keys The accepted keys; `undefined` for no API keys.
   * @param tokens The access token check; `undefined` for no tokens. With
   *   neither, the server is open.
   */
  constructor(keys: readonly KeyRecord[] | undefined, tokens?: TokenVerifier) {
    this.#keyring = keys === undefined ? undefined : new Keyring(keys);
    this.#tokens = tokens;
  }

  /** Whether clients need a key or a token: each is then in a tenant. */
  get keyed(): boolean {
    return this.#keyring !== undefined || this.#tokens !== undefined;
  }

  /** Whether the server takes API keys. */
  get takesKeys(): boolean {
    return this.#keyring !== undefined;
  }

  /** Whether the server takes access tokens. */
  get takesTokens(): boolean {
    return this.#tokens !== undefined;
  }

  /**
   * Checks the key or token a handshake presents, before the upgrade. An
   * open server lets every handshake through. A token's check is
   * asynchronous (its signature), a key's is not.
   */
  handshake(headers: Headers): Entered | Denied | Promise<Entered | Denied> {
    if (!this.keyed) return { record: undefined };
    const shown = presented(headers);
    const credential = shown.key;
    if (this.#tokens !== undefined && credential !== undefined && looksLikeToken(credential)) {
      const misplaced = misplacedCredential(shown);
      if (misplaced) return misplaced;
      // A token presented again is let through at once, without the signature's round trip.
      const known = this.#tokens.cached(credential);
      if (known !== undefined) return { record: undefined, token: known };
      return this.verifyToken(credential).then((verdict) =>
        "reason" in verdict ? invalidToken(verdict.reason) : { record: undefined, token: verdict }
      );
    }
    if (this.#keyring === undefined) {
      return credential === undefined
        ? { status: 401, reason: "access token required", headers: CHALLENGE }
        : invalidToken("malformed token");
    }
    const checked: Admitted | Denied = checkKey(headers, this.#keyring, this.#revokedElsewhere);
    if ("record" in checked) return { record: checked.record };
    return credential === undefined && this.#tokens !== undefined
      ? { ...checked, reason: "API key or access token required" }
      : checked;
  }

  /**
   * Verifies an access token: at the handshake, and when a connected client
   * presents a fresh one.
   *
   * @returns The token, or why it is refused (one line, never the token).
   */
  async verifyToken(jwt: string): Promise<AccessToken | { reason: string }> {
    if (this.#tokens === undefined) return { reason: "this server takes no access tokens" };
    const verdict = await this.#tokens.verify(jwt);
    return verdict.ok ? verdict.token : { reason: verdict.reason };
  }

  /**
   * Checks a client's key again as it opens, before it registers: the key
   * must still be accepted and below its client limit.
   *
   * @param tenant The SHA-256 of the key its handshake presented; `undefined` for none.
   */
  open(tenant: string | undefined): Opening {
    if (tenant === undefined || isTokenTenant(tenant)) return { ok: true };
    const key = this.#keyring?.byHash(tenant);
    if (key === undefined || this.#revokedElsewhere.has(tenant)) {
      return { ok: false, why: "revoked" };
    }
    const { maxClients } = key;
    if (maxClients === undefined || this.#tenants.count(tenant) < maxClients) return { ok: true };
    return { ok: false, why: "limit", key, maxClients };
  }

  /**
   * The rate a client may send at: the server's, or its key's own when lower.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Access } from "./access.ts";
   * const key = { label: "k", sha256: "0".repeat(64), createdAt: "", rateLimit: 5 };
   * assert.equal(Access.rateLimit(20, key), 5);
   * assert.equal(Access.rateLimit(20, undefined), 20);
   * ```
   */
  static rateLimit(serverRate: number, key: KeyRecord | undefined, token?: AccessToken): number {
    return Math.min(serverRate, key?.rateLimit ?? Infinity, token?.rate ?? Infinity);
  }

  /** The accepted key whose SHA-256 is `tenant`, if any. */
  keyOf(tenant: string | undefined): KeyRecord | undefined {
    return tenant === undefined || isTokenTenant(tenant)
      ? undefined
      : this.#keyring?.byHash(tenant);
  }

  /** The client limit of the key whose SHA-256 is `tenant`; `undefined` for none. */
  maxClientsOf(tenant: string): number | undefined {
    return this.keyOf(tenant)?.maxClients;
  }

  /**
   * Records that `clientId` registered in `tenant` (its key's hash, or its
   * token's tenant), with its token's grants when it came with one. A
   * session keeps the grants of the token it began with, through resumes
   * and refreshes: only the first token of an id counts, until it leaves.
   */
  join(clientId: string, tenant: string | undefined, token?: AccessToken): void {
    this.#tenants.join(clientId, tenant);
    if (token !== undefined && !this.#tokenOf.has(clientId)) this.#tokenOf.set(clientId, token);
  }

  /** Forgets a client whose session is over; idempotent. */
  leave(clientId: string): void {
    this.#tenants.leave(clientId);
    this.#tokenOf.delete(clientId);
  }

  /**
   * Who `clientId` is, as events name it (never a secret): its tenant (its
   * token's `tenant` claim, or its key's label), and its token's `sub` or
   * its key's label. Empty on an open server.
   */
  identityOf(clientId: string): { tenant?: string; user?: string; key?: string } {
    const token = this.#tokenOf.get(clientId);
    if (token !== undefined) {
      const tenant = token.tenant.slice(TOKEN_TENANT_PREFIX.length);
      return {
        ...(tenant === "" ? {} : { tenant }),
        ...(token.sub === undefined ? {} : { user: token.sub }),
      };
    }
    const key = this.keyOf(this.tenantOf(clientId));
    return key === undefined ? {} : { tenant: key.label, key: key.label };
  }

  /**
   * What `clientId`'s token grants, as the shared store keeps it: JSON
   * `{"s": sub, "p": [subs]}`; `undefined` for a client without a token.
   */
  grantOf(clientId: string): string | undefined {
    const token = this.#tokenOf.get(clientId);
    return token === undefined ? undefined : grantRecord(token);
  }

  /**
   * Whether `a` may reach `b`: the same tenant, and grants that let each
   * pair with the other.
   */
  mayReach(a: string, b: string): boolean {
    return this.tenantOf(a) === this.tenantOf(b) &&
      mayPair(this.#tokenOf.get(a), this.#tokenOf.get(b));
  }

  /**
   * The key (SHA-256) `clientId` registered with, while its session lasts:
   * the tenant rule compares these. `undefined` on an open server.
   */
  tenantOf(clientId: string): string | undefined {
    const tenant = this.#tenants.tenantOf(clientId);
    return typeof tenant === "string" ? tenant : undefined;
  }

  /** Whether `tenant` is a key that is no longer accepted (never for no key). */
  revoked(tenant: string | undefined): boolean {
    return tenant !== undefined && !isTokenTenant(tenant) &&
      (this.#keyring?.byHash(tenant) === undefined || this.#revokedElsewhere.has(tenant));
  }

  /**
   * Refuses keys revoked on another instance that shares this one's state,
   * even while this one's keys file still has them; the caller closes their
   * clients (see {@linkcode Access.revoked}). Ignored on an open server.
   */
  revokeShared(tenants: readonly string[]): void {
    if (this.#keyring === undefined) return;
    for (const tenant of tenants) this.#revokedElsewhere.add(tenant);
  }

  /**
   * Replaces the accepted keys: new ones work at once (a key the new file
   * has is accepted again even if another instance revoked it); the caller
   * closes the clients of keys that are gone (see {@linkcode Access.revoked}).
   *
   * @returns How many keys there are now, the SHA-256 of those removed (and
   *   their labels), and of those kept.
   * @throws {TypeError} On an open server.
   */
  reload(
    keys: readonly KeyRecord[],
  ): { size: number; removed: string[]; removedLabels: string[]; kept: string[] } {
    if (this.#keyring === undefined) {
      throw new TypeError("This server was started without API keys");
    }
    const before = this.#keyring.records;
    this.#keyring = new Keyring(keys);
    const kept = this.#keyring.records.map((key) => key.sha256);
    for (const tenant of kept) this.#revokedElsewhere.delete(tenant);
    const now = new Set(kept);
    const gone = before.filter((key) => !now.has(key.sha256));
    return {
      size: this.#keyring.size,
      removed: gone.map((key) => key.sha256),
      removedLabels: gone.map((key) => key.label),
      kept,
    };
  }

  /** Each key's label and connected clients, for `/metrics`; `undefined` on an open server. */
  clientsPerKey(): [string, number][] | undefined {
    return this.#keyring?.records.map((key) => [key.label, this.#tenants.count(key.sha256)]);
  }
}

/** The challenge for a request with no credential (RFC 6750, section 3: no error code). */
const CHALLENGE = { "www-authenticate": WWW_AUTHENTICATE };

/** A reason as an RFC 6750 quoted string may hold it: no `"` or `\`. */
function quotable(reason: string): string {
  return reason.replace(/["\\]/g, "'");
}

/** The refusal of a token: 401 with RFC 6750's `invalid_token` and the reason, never the token. */
function invalidToken(reason: string): Denied {
  return {
    token: reason,
    status: 401,
    reason: `access token refused: ${reason}`,
    headers: {
      "www-authenticate": `${WWW_AUTHENTICATE}, error="invalid_token", error_description="${
        quotable(reason)
      }"`,
    },
  };
}
