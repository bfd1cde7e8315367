// This module is browser compatible.
// @ts-check
/**
 * An incremental SHA-256 (FIPS 180-4) in plain JavaScript. Web Crypto only
 * digests a whole buffer at once, and a file that streams from or to disk is
 * never whole in memory; the page and the command-line peer both hash with
 * this, chunk by chunk, as the bytes go by.
 *
 * @module
 */

import { toHex } from "./hex.js";

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

const INITIAL = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

/**
 * A SHA-256 digest fed in pieces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sha256 } from "./sha256.js";
 * const hash = new Sha256();
 * hash.update(new TextEncoder().encode("ab"));
 * hash.update(new TextEncoder().encode("c"));
 * assert.equal(hash.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * ```
 */
export class Sha256 {
  #state = new Uint32Array(INITIAL);
  #block = new Uint8Array(64);
  #blockLength = 0;
  #bytes = 0;
  #words = new Uint32Array(64);
  #done = false;

  /**
   * Adds bytes to the message.
   *
   * @param {Uint8Array} data
   * @returns {this}
   * @throws {TypeError} After the digest was taken.
   */
  update(data) {
    if (this.#done) throw new TypeError("SHA-256: update after the digest was taken");
    this.#bytes += data.length;
    let offset = 0;
    if (this.#blockLength > 0) {
      const take = Math.min(64 - this.#blockLength, data.length);
      this.#block.set(data.subarray(0, take), this.#blockLength);
      this.#blockLength += take;
      offset = take;
      if (this.#blockLength < 64) return this;
      this.#compress(this.#block, 0);
      this.#blockLength = 0;
    }
    for (; offset + 64 <= data.length; offset += 64) this.#compress(data, offset);
    if (offset < data.length) {
      this.#block.set(data.subarray(offset), 0);
      this.#blockLength = data.length - offset;
    }
    return this;
  }

  /**
   * The digest; the hash takes no more data after this.
   *
   * @returns {Uint8Array} 32 bytes.
   */
  digest() {
    if (!this.#done) {
      this.#done = true;
      const bits = this.#bytes * 8;
      const block = this.#block;
      block[this.#blockLength++] = 0x80;
      if (this.#blockLength > 56) {
        block.fill(0, this.#blockLength);
        this.#compress(block, 0);
        this.#blockLength = 0;
      }
      block.fill(0, this.#blockLength);
      const view = new DataView(block.buffer);
      view.setUint32(56, Math.floor(bits / 0x1_0000_0000));
      view.setUint32(60, bits >>> 0);
      this.#compress(block, 0);
    }
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    this.#state.forEach((word, i) => view.setUint32(i * 4, word));
    return out;
  }

  /** @returns {string} The digest in lowercase hex. */
  hex() {
    return toHex(this.digest());
  }

  /**
   * @param {Uint8Array} data
   * @param {number} offset
   */
  #compress(data, offset) {
    const w = this.#words;
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (data[j] ?? 0) << 24 | (data[j + 1] ?? 0) << 16 | (data[j + 2] ?? 0) << 8 |
        (data[j + 3] ?? 0);
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] ?? 0;
      const b = w[i - 2] ?? 0;
      const s0 = (a >>> 7 | a << 25) ^ (a >>> 18 | a << 14) ^ a >>> 3;
      const s1 = (b >>> 17 | b << 15) ^ (b >>> 19 | b << 13) ^ b >>> 10;
      w[i] = (w[i - 16] ?? 0) + s0 + (w[i - 7] ?? 0) + s1;
    }
    const s = this.#state;
    let a = s[0] ?? 0, b = s[1] ?? 0, c = s[2] ?? 0, d = s[3] ?? 0;
    let e = s[4] ?? 0, f = s[5] ?? 0, g = s[6] ?? 0, h = s[7] ?? 0;
    for (let i = 0; i < 64; i++) {
      const s1 = (e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7);
      const t1 = (h + s1 + (e & f ^ ~e & g) + (K[i] ?? 0) + (w[i] ?? 0)) | 0;
      const s0 = (a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10);
      const t2 = (s0 + (a & b ^ a & c ^ b & c)) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = (s[0] ?? 0) + a;
    s[1] = (s[1] ?? 0) + b;
    s[2] = (s[2] ?? 0) + c;
    s[3] = (s[3] ?? 0) + d;
    s[4] = (s[4] ?? 0) + e;
    s[5] = (s[5] ?? 0) + f;
    s[6] = (s[6] ?? 0) + g;
    s[7] = (s[7] ?? 0) + h;
  }
}

/**
 * The SHA-256 of `data` in lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "./sha256.js";
 * assert.equal(sha256Hex(new Uint8Array()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 *
 * @param {Uint8Array} data
 * @returns {string}
 */
export function sha256Hex(data) {
  return new Sha256().update(data).hex();
}

// Bytes as lowercase hex, where this module's callers have long found it.
export { toHex };
