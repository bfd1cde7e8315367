// This module is browser compatible.
// @ts-check
/**
 * Bytes as lowercase hex and back: how digests, keys and MACs travel in the
 * protocol's JSON and sit in files.
 *
 * @module
 */

/**
 * Bytes as lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toHex } from "./hex.js";
 * assert.equal(toHex(new Uint8Array([0, 171, 255])), "00abff");
 * ```
 *
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function toHex(bytes) {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

/**
 * Hex (of even length, checked by the caller) as bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromHex } from "./hex.js";
 * assert.deepEqual(fromHex("00abff"), new Uint8Array([0, 171, 255]));
 * ```
 *
 * @param {string} hex
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function fromHex(hex) {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
