/**
 * What a verified access token grants, read from its claims. Pure: the
 * payload a signature check let through in, the client's identity and
 * grants (or why they are unusable) out. The signature, `exp`, `nbf`, `iss`
 * and `aud` are checked before this, by the JOSE library (`tokens.ts`).
 *
 * Claims read here:
 *
 * - `sub`: the user, shown in logs (escaped) and matched by `grants.pair`.
 * - `tenant`: clients of different tenants cannot reach each other, exactly
 *   as with API keys; without it, a token's client is in the tenant of
 *   tokens with no `tenant`.
 * - `grants.pair`: `"tenant"` (anyone in the tenant, the default) or a list
 *   of the `sub`s the client may pair with; a pair needs both sides' grants.
 * - `grants.rate`: messages per second, below the server's own limit.
 * - `grants.files`: `false` when the client may not receive files; its own
 *   client turns offers away (files go peer to peer, past the server).
 *
 * @module
 */

/** The tenant of token clients is this prefix and the `tenant` claim: never a key's SHA-256. */
export const TOKEN_TENANT_PREFIX = "token:";

/** A valid `tenant` claim: short, and safe in logs and store keys. */
const TENANT = /^[A-Za-z0-9._@-]{1,64}$/;

/** The longest `sub` accepted, in characters. */
export const MAX_SUB_LENGTH = 256;

/** The most entries of `grants.pair`. */
export const MAX_PAIR_GRANTS = 1000;

/** A client's identity and grants, from its verified access token. */
export interface AccessToken {
  /** The user the app's backend minted it for; `undefined` without `sub`. */
  readonly sub: string | undefined;
  /** The tenant the server files the client under: {@linkcode TOKEN_TENANT_PREFIX} and the claim. */
  readonly tenant: string;
  /** When the token expires, in milliseconds since the epoch. */
  readonly expiresAt: number;
  /** Whom the client may pair with: anyone in its tenant, or these `sub`s only. */
  readonly pair: "tenant" | ReadonlySet<string>;
  /** The messages per second it may send, when its token sets a rate. */
  readonly rate: number | undefined;
  /** Whether it may receive files (`grants.files`, true unless `false`). */
  readonly receiveFiles: boolean;
}

/** The claims as unusable, and why (one line, never the token). */
export interface ClaimProblem {
  /** Why. */
  readonly reason: string;
}

/**
 * Reads a verified token's payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accessToken } from "./token_claims.ts";
 * const token = accessToken({ sub: "ada", exp: 2_000_000_000, tenant: "acme" });
 * assert.ok("tenant" in token);
 * assert.equal(token.tenant, "token:acme");
 * assert.equal(token.expiresAt, 2_000_000_000_000);
 * assert.equal(token.pair, "tenant");
 * const bad = accessToken({ exp: 2_000_000_000, tenant: "a b" });
 * assert.ok("reason" in bad);
 * ```
 */
export function accessToken(payload: Record<string, unknown>): AccessToken | ClaimProblem {
  const { sub, exp, tenant, grants } = payload;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return { reason: "token has no exp" };
  if (sub !== undefined && !isSub(sub)) {
    return { reason: `sub must be a string of at most ${MAX_SUB_LENGTH} characters` };
  }
  if (tenant !== undefined && (typeof tenant !== "string" || !TENANT.test(tenant))) {
    return { reason: "tenant must be 1-64 letters, digits or ._@-" };
  }
  const granted = readGrants(grants);
  if ("reason" in granted) return granted;
  return {
    sub,
    tenant: TOKEN_TENANT_PREFIX + (tenant ?? ""),
    expiresAt: exp * 1000,
    ...granted,
  };
}

/** Whether `tenant` is a token tenant rather than an API key's SHA-256. */
export function isTokenTenant(tenant: string | undefined): boolean {
  return tenant?.startsWith(TOKEN_TENANT_PREFIX) ?? false;
}

/**
 * Whether the grants of two clients let them pair: each side's `pair` must
 * allow the other's `sub`. A client without a token (`undefined`) grants
 * anything, and the tenant rule is checked apart from this.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accessToken, mayPair, type AccessToken } from "./token_claims.ts";
 * const ada = accessToken({ sub: "ada", exp: 1, grants: { pair: ["bob"] } }) as AccessToken;
 * const bob = accessToken({ sub: "bob", exp: 1 }) as AccessToken;
 * const eve = accessToken({ sub: "eve", exp: 1 }) as AccessToken;
 * assert.ok(mayPair(ada, bob));
 * assert.ok(!mayPair(ada, eve));
 * assert.ok(mayPair(bob, eve));
 * ```
 */
export function mayPair(a: AccessToken | undefined, b: AccessToken | undefined): boolean {
  return allows(a, b?.sub) && allows(b, a?.sub);
}

/**
 * A token's grant as a shared store keeps it, for a rule checked there
 * (`lib/signaling/redis/scripts.ts`): JSON `{"s": sub, "p": [subs]}`, with
 * no `s` for a token without `sub` and no `p` for `"tenant"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accessToken, grantRecord, type AccessToken } from "./token_claims.ts";
 * const ada = accessToken({ sub: "ada", exp: 1, grants: { pair: ["bob"] } }) as AccessToken;
 * assert.equal(grantRecord(ada), '{"s":"ada","p":["bob"]}');
 * assert.equal(grantRecord(accessToken({ exp: 1 }) as AccessToken), "{}");
 * ```
 */
export function grantRecord(token: AccessToken): string {
  return JSON.stringify({
    ...(token.sub === undefined ? {} : { s: token.sub }),
    ...(token.pair === "tenant" ? {} : { p: [...token.pair] }),
  });
}

/**
 * A `sub` as the server can keep it: a string, not too long, and
 * well-formed Unicode (a lone surrogate cannot be stored as JSON others read).
 */
function isSub(sub: unknown): sub is string {
  return typeof sub === "string" && sub.length <= MAX_SUB_LENGTH && sub.isWellFormed();
}

function allows(token: AccessToken | undefined, sub: string | undefined): boolean {
  if (token === undefined || token.pair === "tenant") return true;
  return sub !== undefined && token.pair.has(sub);
}

function readGrants(
  grants: unknown,
): Pick<AccessToken, "pair" | "rate" | "receiveFiles"> | ClaimProblem {
  if (grants === undefined) return { pair: "tenant", rate: undefined, receiveFiles: true };
  if (typeof grants !== "object" || grants === null || Array.isArray(grants)) {
    return { reason: "grants must be an object" };
  }
  const { pair, rate, files } = grants as Record<string, unknown>;
  let allowed: AccessToken["pair"] = "tenant";
  if (Array.isArray(pair)) {
    if (
      pair.length > MAX_PAIR_GRANTS ||
      !pair.every(isSub)
    ) {
      return { reason: `grants.pair must list at most ${MAX_PAIR_GRANTS} subs, each a string` };
    }
    allowed = new Set(pair);
  } else if (pair !== undefined && pair !== "tenant") {
    return { reason: "grants.pair must be tenant or a list of subs" };
  }
  if (rate !== undefined && (typeof rate !== "number" || !(rate > 0) || !Number.isFinite(rate))) {
    return { reason: "grants.rate must be a positive number" };
  }
  if (files !== undefined && typeof files !== "boolean") {
    return { reason: "grants.files must be true or false" };
  }
  return { pair: allowed, rate, receiveFiles: files !== false };
}
