/**
 * An app's backend, for tests: a signing key pair whose public half the
 * server verifies with, and tokens minted with it (or with an HS256 secret).
 */

import { loadJose } from "../../lib/runtime/deps.ts";
import type { TokenKeys } from "../../lib/auth/token_keys.ts";
import { TokenVerifier } from "../../lib/auth/tokens.ts";

const jose = await loadJose();

/** What a test token says: any claim, and `exp` in seconds from now (negative: in the past). */
export interface Claims {
  sub?: string;
  tenant?: string;
  grants?: Record<string, unknown>;
  /** Seconds from now; 300 by default. */
  expiresIn?: number;
  [claim: string]: unknown;
}

/** A backend that signs with ES256 under a `kid`. */
export class TestIssuer {
  readonly kid: string;
  readonly #privateKey: CryptoKey;
  /** The public key as a JWK, with its `kid` and `alg`. */
  readonly publicJwk: Record<string, unknown> & { kty: string };

  private constructor(kid: string, privateKey: CryptoKey, publicJwk: TestIssuer["publicJwk"]) {
    this.kid = kid;
    this.#privateKey = privateKey;
    this.publicJwk = publicJwk;
  }

  /** A fresh ES256 key pair named `kid`. */
  static async create(kid = "k1"): Promise<TestIssuer> {
    const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    return new TestIssuer(kid, privateKey, { ...jwk, kty: jwk.kty!, kid, alg: "ES256" });
  }

  /** The public key in PEM (SPKI), as an operator may give it. */
  async publicPem(): Promise<string> {
    const key = await jose.importJWK(this.publicJwk, "ES256");
    return await jose.exportSPKI(key as CryptoKey);
  }

  /** Signs a token with `claims`, under this issuer's `kid` (or `header` instead). */
  mint(claims: Claims = {}, header: Record<string, unknown> = { kid: this.kid }): Promise<string> {
    return sign(claims, { alg: "ES256", ...header }, this.#privateKey);
  }
}

/** The server's token keys for these issuers' public keys (a JWKS). */
export function jwksOf(...issuers: TestIssuer[]): TokenKeys {
  return { kind: "public", keys: issuers.map((issuer) => issuer.publicJwk) };
}

/** A verifier for these issuers' tokens, as `startServer`'s `tokens` option. */
export function verifierFor(
  issuers: TestIssuer | TestIssuer[],
  rules: { issuer?: string; audience?: string } = {},
): Promise<TokenVerifier> {
  return TokenVerifier.create(jwksOf(...[issuers].flat()), rules);
}

/** Signs an HS256 token with `secret`. */
export function mintHs256(secret: Uint8Array, claims: Claims = {}): Promise<string> {
  return sign(claims, { alg: "HS256" }, secret);
}

function sign(
  claims: Claims,
  header: Record<string, unknown> & { alg: string },
  key: CryptoKey | Uint8Array,
): Promise<string> {
  const { expiresIn = 300, ...payload } = claims;
  return new jose.SignJWT(payload)
    .setProtectedHeader(header)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn)
    .sign(key);
}
