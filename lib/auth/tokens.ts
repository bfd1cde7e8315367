/**
 * Verifies the access tokens an app's backend mints for its users (JWTs),
 * offline, with the JOSE library on Web Crypto: signature, algorithm, `exp`
 * (required), `nbf`, and `iss`/`aud` when configured; then what the claims
 * grant (`token_claims.ts`). A refusal is one short line for the log, never
 * the token.
 *
 * @module
 */

import { createPublicKey } from "node:crypto";
import { type JoseModule, type JwsHeader, loadJose } from "../runtime/deps.ts";
import { type AccessToken, accessToken } from "./token_claims.ts";
import { type PublicJwk, TokenKeyError, type TokenKeys } from "./token_keys.ts";
import { looksLikeToken } from "../protocol/token_format.ts";

/** Seconds of clock difference allowed on `exp` and `nbf`; also how long a session outlives `exp`. */
export const CLOCK_SKEW_S = 30;

/** Verified tokens kept, so a token presented again (a reconnect, a resume) costs a lookup. */
export const VERIFIED_CACHE_SIZE = 10_000;

/** Signature algorithms accepted with public keys; never `none` or HMAC (no algorithm confusion). */
const PUBLIC_ALGORITHMS = [
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
];

/** The claims a token must carry when the server is configured to check them. */
export interface TokenRules {
  /** The `iss` required, if any. */
  readonly issuer?: string | undefined;
  /** The `aud` required, if any. */
  readonly audience?: string | undefined;
}

/** A verified token, or why it was refused. */
export type TokenVerdict =
  | { readonly ok: true; readonly token: AccessToken }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks access tokens against the backend's keys. Create it with
 * {@linkcode TokenVerifier.create}, which loads the JOSE library.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadJose } from "../runtime/deps.ts";
 * import { TokenVerifier } from "./tokens.ts";
 * const jose = await loadJose();
 * const secret = new TextEncoder().encode("s".repeat(32));
 * const verifier = await TokenVerifier.create({ kind: "secret", secret }, { audience: "app" });
 * const jwt = await new jose.SignJWT({ tenant: "acme" }).setProtectedHeader({ alg: "HS256" })
 *   .setSubject("ada").setAudience("app").setExpirationTime("5m").sign(secret);
 * const verdict = await verifier.verify(jwt);
 * assert.ok(verdict.ok && verdict.token.sub === "ada" && verdict.token.tenant === "token:acme");
 * const other = await new jose.SignJWT({}).setProtectedHeader({ alg: "HS256" })
 *   .setAudience("elsewhere").setExpirationTime("5m").sign(secret);
 * assert.deepEqual(await verifier.verify(other), { ok: false, reason: "wrong audience" });
 * ```
 */
export class TokenVerifier {
  readonly #jose: JoseModule;
  readonly #key: Parameters<JoseModule["jwtVerify"]>[1];
  readonly #options: Parameters<JoseModule["jwtVerify"]>[2];
  /** Whether tokens are signed with a shared secret (HS256) rather than public keys. */
  readonly symmetric: boolean;
  // Tokens that verified, by their text; oldest first. Only valid tokens get in,
  // so only their holders can fill it, and it is bounded either way.
  readonly #verified = new Map<string, AccessToken>();

  private constructor(jose: JoseModule, keys: VerifyingKeys, rules: TokenRules) {
    this.#jose = jose;
    this.symmetric = keys.kind === "secret";
    if (keys.kind === "secret") this.#key = keys.key;
    else {
      const set = jose.createLocalJWKSet({ keys: keys.keys.map((key) => ({ ...key })) });
      // Keys without a `kid` (from PEM, say) match a token whatever its `kid` says.
      this.#key = keys.keys.every((key) => key.kid === undefined)
        ? ({ kid: _kid, ...header }: JwsHeader) => set(header)
        : set;
    }
    this.#options = {
      algorithms: keys.kind === "secret" ? ["HS256"] : PUBLIC_ALGORITHMS,
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ["exp"],
      ...(rules.issuer === undefined ? {} : { issuer: rules.issuer }),
      ...(rules.audience === undefined ? {} : { audience: rules.audience }),
    };
  }

  /**
   * Loads the JOSE library and makes a verifier for `keys`, each public key
   * imported once first: a key that cannot verify anything fails here, at
   * start, not as "bad signature" on every token.
   *
   * @throws {TokenKeyError} Naming the key that is not usable.
   */
  static async create(keys: TokenKeys, rules: TokenRules = {}): Promise<TokenVerifier> {
    const jose = await loadJose();
    if (keys.kind === "secret") {
      // Imported once: the library would import the raw secret again for every token.
      const key = await crypto.subtle.importKey(
        "raw",
        new Uint8Array(keys.secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["verify"],
      );
      return new TokenVerifier(jose, { kind: "secret", key }, rules);
    }
    if (keys.kind === "public") {
      for (const [index, key] of keys.keys.entries()) {
        try {
          // The runtime's Web Crypto takes some malformed points without a word; this does not.
          createPublicKey({ key: { ...key }, format: "jwk" });
          await jose.importJWK(
            { ...key },
            typeof key.alg === "string" ? key.alg : algorithmOf(key),
          );
        } catch {
          throw new TokenKeyError(`public key ${index + 1} is not a usable ${key.kty} key`);
        }
      }
    }
    return new TokenVerifier(jose, keys, rules);
  }

  /**
   * The token `jwt` when it verified before and has not expired since
   * (within the clock allowance); `undefined` when it must be verified.
   */
  cached(jwt: string, now: number = Date.now()): AccessToken | undefined {
    const token = this.#verified.get(jwt);
    if (token === undefined) return undefined;
    if (token.expiresAt + CLOCK_SKEW_S * 1000 > now) return token;
    this.#verified.delete(jwt);
    return undefined;
  }

  /** Verifies `jwt`: its identity and grants, or the reason it is refused. Never throws. */
  async verify(jwt: string): Promise<TokenVerdict> {
    const known = this.cached(jwt);
    if (known !== undefined) return { ok: true, token: known };
    if (!looksLikeToken(jwt)) return { ok: false, reason: "malformed token" };
    let payload: Record<string, unknown>;
    try {
      payload = await this.#payload(jwt);
    } catch (error) {
      return { ok: false, reason: refusalReason(error) };
    }
    const token = accessToken(payload);
    if ("reason" in token) return { ok: false, reason: token.reason };
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) {
      this.#verified.delete(this.#verified.keys().next().value!);
    }
    this.#verified.set(jwt, token);
    return { ok: true, token };
  }

  /**
   * The verified payload. When several keys could have signed the token
   * (no `kid` to choose by), each is tried in turn.
   */
  async #payload(jwt: string): Promise<Record<string, unknown>> {
    const jose = this.#jose;
    try {
      // The overloads differ only in the key's type; both are held as the union.
      return (await jose.jwtVerify(jwt, this.#key as Uint8Array, this.#options)).payload;
    } catch (error) {
      if (!(error instanceof jose.errors.JWKSMultipleMatchingKeys)) throw error;
      let last: unknown = error;
      for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
        try {
          return (await jose.jwtVerify(jwt, key, this.#options)).payload;
        } catch (failure) {
          // Only a signature another key may make good is worth another try.
          if (!(failure instanceof jose.errors.JWSSignatureVerificationFailed)) throw failure;
          last = failure;
        }
      }
      throw last;
    }
  }
}

/** An algorithm a public key of this type and curve can verify, to import it with. */
function algorithmOf(key: PublicJwk): string {
  if (key.kty === "RSA") return "RS256";
  if (key.kty === "OKP") return "EdDSA";
  return ({ "P-384": "ES384", "P-521": "ES512" } as Record<string, string>)[String(key.crv)] ??
    "ES256";
}

/** What the verifier holds: public keys as given, or the secret imported once. */
type VerifyingKeys = Extract<TokenKeys, { kind: "public" }> | { kind: "secret"; key: CryptoKey };

/**
 * The one-line reason for a JOSE error: what an operator needs to tell a
 * clock problem from a key problem, and nothing of the token.
 */
function refusalReason(error: unknown): string {
  const { code, claim } = (error ?? {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "token expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "aud") return "wrong audience";
      if (claim === "iss") return "wrong issuer";
      if (claim === "nbf") return "token not yet valid";
      if (claim === "exp") return "token has no exp";
      return `bad claim ${typeof claim === "string" ? claim.slice(0, 20) : ""}`.trim();
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "unknown key (kid)";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "bad signature";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "algorithm not allowed";
    case "ERR_JOSE_NOT_SUPPORTED":
      return "algorithm not supported";
    default:
      return "malformed token";
  }
}
