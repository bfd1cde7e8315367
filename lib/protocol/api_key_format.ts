/**
 * What an API key looks like: `sbk_` and 32 random bytes in unpadded
 * base64url. Pure: the server's keyring and the command-line client both
 * check a key's shape with it, and neither imports the other.
 *
 * @module
 */

/** Every key starts with this, so a leaked one is easy to recognise and to scan for. */
export const KEY_PREFIX = "sbk_";

/** Random bytes in a key: 256 bits, far beyond guessing. */
export const KEY_BYTES = 32;

/** A key's shape: the prefix and 32 bytes in unpadded base64url (43 characters). */
export const KEY_PATTERN: RegExp = /^sbk_[A-Za-z0-9_-]{43}$/;

/**
 * Whether `text` has the shape of an API key (it says nothing of whether any
 * server accepts it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKey, isApiKey } from "./api_key_format.ts";
 * assert.equal(isApiKey(generateKey()), true);
 * assert.equal(isApiKey("sbk_short"), false);
 * ```
 */
export function isApiKey(text: string): boolean {
  return KEY_PATTERN.test(text);
}

/**
 * Makes a new key: `sbk_` and 32 random bytes in base64url.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKey, KEY_PATTERN } from "./api_key_format.ts";
 * const key = generateKey();
 * assert.match(key, KEY_PATTERN);
 * assert.notEqual(generateKey(), key);
 * ```
 */
export function generateKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  return KEY_PREFIX + base64url(bytes);
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
