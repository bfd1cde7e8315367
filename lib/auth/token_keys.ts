/**
 * The keys the server verifies access tokens with, read once at start: the
 * public keys of the app's backend (a JWKS, one JWK, or PEM public keys),
 * or the secret it shares for HS256. Read with a permission check up front,
 * so a missing `--allow-read` is one line naming the flag, never a prompt.
 * Parsing is apart from reading, and neither message ever quotes a secret.
 *
 * @module
 */

import { createPublicKey } from "node:crypto";
import { MissingPermission, shellWord } from "../runtime/permissions.ts";
import { errorText } from "../runtime/safe_text.ts";

/** A public key as JSON (RFC 7517), as the verifier takes it. */
export type PublicJwk = Readonly<Record<string, unknown>> & { readonly kty: string };

/** What tokens are verified with. */
export type TokenKeys =
  /** The backend's public keys; a token's `kid` picks one, else each is tried. */
  | { readonly kind: "public"; readonly keys: readonly PublicJwk[] }
  /** The secret shared with the backend, for HS256. */
  | { readonly kind: "secret"; readonly secret: Uint8Array };

/** The shortest HS256 secret accepted, in bytes (RFC 7518, section 3.2: the hash's size). */
export const MIN_SECRET_BYTES = 32;

/** A token key or secret file that cannot be used; the message names the file, not its bytes. */
export class TokenKeyError extends Error {
  /** @param message What is wrong, naming the file. */
  constructor(message: string) {
    super(message);
    this.name = "TokenKeyError";
  }
}

// Members only a private or secret JWK has: the server must never hold the signing key.
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];

/**
 * Parses a public key file: a JWKS (`{"keys": [...]}`), one JWK, or one or
 * more PEM `PUBLIC KEY` blocks. Private keys are refused: the server only
 * verifies.
 *
 * @param name The file's name, for messages.
 * @throws {TokenKeyError} When it holds no usable public key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePublicKeys } from "./token_keys.ts";
 * const jwks = JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", kid: "k1", x: "AA", y: "AA" }] });
 * const keys = parsePublicKeys(jwks, "keys.json");
 * assert.equal(keys.kind, "public");
 * assert.equal(keys.keys[0]?.kid, "k1");
 * assert.throws(() => parsePublicKeys('{"kty":"oct","k":"c2VjcmV0"}', "k.json"), /private or secret/);
 * ```
 */
export function parsePublicKeys(text: string, name: string): TokenKeys {
  const trimmed = text.trim();
  const keys = trimmed.startsWith("{") ? jwksOf(trimmed, name) : pemKeys(trimmed, name);
  if (keys.length === 0) throw new TokenKeyError(`${name} holds no public key`);
  return { kind: "public", keys };
}

/**
 * Takes the HS256 secret from a secret file's text (a trailing newline is
 * not part of it).
 *
 * @throws {TokenKeyError} When it is shorter than {@linkcode MIN_SECRET_BYTES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSecret } from "./token_keys.ts";
 * assert.equal(parseSecret("x".repeat(32) + "\n", "s").kind, "secret");
 * assert.throws(() => parseSecret("short", "s"), /at least 32 bytes/);
 * ```
 */
export function parseSecret(text: string, name: string): TokenKeys {
  const secret = new TextEncoder().encode(text.replace(/\r?\n$/, ""));
  if (secret.length < MIN_SECRET_BYTES) {
    throw new TokenKeyError(
      `${name}: an HS256 secret needs at least ${MIN_SECRET_BYTES} bytes (it has ${secret.length})`,
    );
  }
  return { kind: "secret", secret };
}

/**
 * Reads the token keys named by the server's flags.
 *
 * @param source `--token-key FILE` or `--token-secret-file FILE`.
 * @throws {MissingPermission} Without `--allow-read=FILE`.
 * @throws {TokenKeyError} When the file cannot be read or used.
 */
export async function readTokenKeys(
  source: { flag: "--token-key" | "--token-secret-file"; file: string },
): Promise<TokenKeys> {
  const { flag, file } = source;
  const status = await Deno.permissions.query({ name: "read", path: file });
  if (status.state !== "granted") {
    throw new MissingPermission(`${flag} ${file} needs ${shellWord(`--allow-read=${file}`)}`);
  }
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new TokenKeyError(`cannot read ${file}: ${errorText(error)}`);
  }
  return flag === "--token-key" ? parsePublicKeys(text, file) : parseSecret(text, file);
}

function jwksOf(text: string, name: string): PublicJwk[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TokenKeyError(`${name} is neither a JWKS, a JWK nor PEM`);
  }
  const list = isObject(value) && Array.isArray(value.keys) ? value.keys : [value];
  return list.map((jwk: unknown, index: number) => publicJwk(jwk, `${name} key ${index + 1}`));
}

function publicJwk(jwk: unknown, where: string): PublicJwk {
  if (!isObject(jwk) || typeof jwk.kty !== "string") {
    throw new TokenKeyError(`${where} is not a JWK (no "kty")`);
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    throw new TokenKeyError(
      `${where} is a private or secret key; give the server the public key only`,
    );
  }
  if (!["EC", "OKP", "RSA"].includes(jwk.kty)) {
    throw new TokenKeyError(`${where} has a kty other than EC, OKP or RSA`);
  }
  return jwk as PublicJwk;
}

function pemKeys(text: string, name: string): PublicJwk[] {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
  if (blocks.length === 0) throw new TokenKeyError(`${name} is neither a JWKS, a JWK nor PEM`);
  return blocks.map(([block, label], index) => {
    const where = `${name} block ${index + 1}`;
    if (label !== "PUBLIC KEY") {
      throw new TokenKeyError(
        label?.includes("PRIVATE")
          ? `${where} is a private key; give the server the public key only`
          : `${where} is a ${label}; give a PUBLIC KEY`,
      );
    }
    try {
      return publicJwk(createPublicKey(block).export({ format: "jwk" }), where);
    } catch (error) {
      if (error instanceof TokenKeyError) throw error;
      throw new TokenKeyError(`${where} is not a usable public key`);
    }
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
