/**
 * What an access token looks like: a JWT in compact form, three base64url
 * parts. Pure: the server tells a token from an API key with it, and the
 * command-line client checks what it was given; neither imports the other.
 *
 * @module
 */

/** The longest token accepted, in characters: far beyond any real one, short of a header's limit. */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * Whether a credential is shaped like a JWT (three base64url parts), as
 * opposed to an API key. Says nothing of its validity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { looksLikeToken } from "./token_format.ts";
 * assert.ok(looksLikeToken("eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln"));
 * assert.ok(!looksLikeToken("sbk_abc"));
 * ```
 */
export function looksLikeToken(credential: string): boolean {
  return credential.length <= MAX_TOKEN_LENGTH &&
    /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}
