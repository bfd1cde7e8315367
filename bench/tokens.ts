/**
 * Access tokens for the benchmark's churn: an app backend's ES256 keys (a
 * JWKS of three, so a token's `kid` picks one) and an HS256 secret, written
 * to files the servers read, and a token for each that outlives the run.
 *
 * @module
 */

import { loadJose } from "../lib/runtime/deps.ts";
import { type ServerSpec, tokenSwitchboard } from "./servers.ts";

/** The servers that take tokens, and their files. */
export interface BenchTokens {
  /** ES256 first, then HS256. */
  readonly specs: readonly ServerSpec[];
  /** Removes the files. */
  remove(): Promise<void>;
}

/** Writes the key files into `dir` and mints a token for each server. */
export async function writeBenchTokens(dir: string): Promise<BenchTokens> {
  const jose = await loadJose();
  const pairs = await Promise.all(
    [1, 2, 3].map(() => jose.generateKeyPair("ES256", { extractable: true })),
  );
  const keys = await Promise.all(
    pairs.map(async ({ publicKey }, i) => ({
      ...await jose.exportJWK(publicKey),
      kid: `bench${i}`,
      alg: "ES256",
    })),
  );
  const jwks = await Deno.makeTempFile({ dir, prefix: "switchboard-bench-jwks-" });
  await Deno.writeTextFile(jwks, JSON.stringify({ keys }));
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const secretText = btoa(String.fromCharCode(...secret));
  const secretFile = await Deno.makeTempFile({ dir, prefix: "switchboard-bench-secret-" });
  await Deno.writeTextFile(secretFile, secretText);
  const claims = { tenant: "bench", grants: { pair: "tenant" } };
  const mint = (alg: string, kid: string | undefined, key: CryptoKey | Uint8Array) =>
    new jose.SignJWT(claims)
      .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
      .setSubject("bench")
      .setAudience("bench")
      .setExpirationTime("2h")
      .sign(key);
  const es256 = await mint("ES256", "bench2", pairs[2]!.privateKey);
  const hs256 = await mint("HS256", undefined, new TextEncoder().encode(secretText));
  return {
    specs: [
      tokenSwitchboard("Switchboard-tokens-ES256", "--token-key", jwks, es256),
      tokenSwitchboard("Switchboard-tokens-HS256", "--token-secret-file", secretFile, hs256),
    ],
    remove: async () => {
      await Deno.remove(jwks).catch(() => {});
      await Deno.remove(secretFile).catch(() => {});
    },
  };
}

/**
 * The cost of a first verification, in this process: `n` distinct tokens
 * (none can be known from before), ES256 and HS256, beside the API key
 * check of `n` handshakes (a SHA-256 and a lookup among ten keys). The
 * churn above presents one token again and again, so it measures the kept
 * verdict; this measures what a token costs the first time it is seen.
 */
export async function firstVerificationLines(n = 500): Promise<string[]> {
  const jose = await loadJose();
  const { TokenVerifier } = await import("../lib/auth/tokens.ts");
  const { checkKey } = await import("../lib/auth/credentials.ts");
  const { Keyring } = await import("../lib/auth/keyring.ts");
  const { generateKey, hashKey } = await import("../lib/auth/key_file.ts");
  const pair = await jose.generateKeyPair("ES256", { extractable: true });
  const jwk = { ...await jose.exportJWK(pair.publicKey), kid: "k", alg: "ES256" };
  const es256 = await TokenVerifier.create({
    kind: "public",
    keys: [jwk as typeof jwk & { kty: string }],
  });
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const hs256 = await TokenVerifier.create({ kind: "secret", secret });
  const mint = (alg: string, key: CryptoKey | Uint8Array, i: number) =>
    new jose.SignJWT({ n: i }).setProtectedHeader(alg === "ES256" ? { alg, kid: "k" } : { alg })
      .setSubject(`user${i}`).setExpirationTime("1h").sign(key);
  const esTokens = await Promise.all(
    Array.from({ length: n }, (_, i) => mint("ES256", pair.privateKey, i)),
  );
  const hsTokens = await Promise.all(Array.from({ length: n }, (_, i) => mint("HS256", secret, i)));
  const keys = Array.from({ length: 10 }, generateKey);
  const keyring = new Keyring(
    keys.map((key, i) => ({ label: `k${i}`, sha256: hashKey(key), createdAt: "" })),
  );
  const headers = keys.map((key) => new Headers({ authorization: `Bearer ${key}` }));
  const time = async (run: (i: number) => unknown) => {
    const started = performance.now();
    for (let i = 0; i < n; i++) await run(i);
    return (performance.now() - started) * 1000 / n;
  };
  const key = await time((i) => checkKey(headers[i % 10]!, keyring));
  const es = await time((i) => es256.verify(esTokens[i]!));
  const hs = await time((i) => hs256.verify(hsTokens[i]!));
  const again = await time((i) => es256.cached(esTokens[i]!));
  return [
    `First verification of a token, in-process, ${n} distinct tokens (µs each):`,
    `  ES256 ${es.toFixed(0)}, HS256 ${hs.toFixed(0)}, a known token again ${
      again.toFixed(1)
    }; an API key check ${key.toFixed(1)}`,
  ];
}
