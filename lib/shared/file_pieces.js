// This module is browser compatible.
// @ts-check
/**
 * Pieces of a file, for resuming: a receiver records the SHA-256 of each
 * `PIECE_BYTES` piece it writes; after an interruption it claims the pieces
 * that still match as held ranges, each with the digest of its pieces (the
 * SHA-256 of their digests, one after another); the sender computes the
 * same over its own file and sends only the rest. Piece digests use Web
 * Crypto, which the page and the command-line peer both have.
 *
 * @module
 */

import { MAX_HAVE_RANGES, PIECE_BYTES } from "./file_protocol.js";
import { toHex } from "./sha256.js";

/** @typedef {import("./file_protocol.js").HeldRange} HeldRange */

/**
 * The SHA-256 of one piece's bytes.
 *
 * @param {Uint8Array} bytes
 * @returns {Promise<Uint8Array>}
 */
export async function pieceDigest(bytes) {
  // Web Crypto takes a copy at once: the caller may reuse its buffer.
  return new Uint8Array(await crypto.subtle.digest("SHA-256", /** @type {BufferSource} */ (bytes)));
}

/**
 * The digest of a range: the SHA-256 of its pieces' digests, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pieceDigest, rangeDigest } from "./file_pieces.js";
 * const piece = await pieceDigest(new Uint8Array(0));
 * const digest = await rangeDigest([piece]);
 * assert.match(digest, /^[0-9a-f]{64}$/);
 * assert.notEqual(digest, await rangeDigest([piece, piece]));
 * ```
 *
 * @param {readonly Uint8Array[]} digests
 * @returns {Promise<string>}
 */
export async function rangeDigest(digests) {
  const all = new Uint8Array(digests.length * 32);
  digests.forEach((digest, i) => all.set(digest, i * 32));
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", all)));
}

/**
 * How many pieces a file of `size` bytes has (the last may be short).
 *
 * @param {number} size
 * @returns {number}
 */
export function pieceCount(size) {
  return Math.ceil(size / PIECE_BYTES);
}

/**
 * The bytes of piece `index` of a file of `size` bytes.
 *
 * @param {number} index
 * @param {number} size
 * @returns {[start: number, end: number]}
 */
export function pieceSpan(index, size) {
  const start = index * PIECE_BYTES;
  return [start, Math.min(size, start + PIECE_BYTES)];
}

/**
 * The ranges a receiver claims, from the digests of the pieces it holds
 * (checked against its disk): runs of consecutive pieces, at most
 * `MAX_HAVE_RANGES` of them, the first ones kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PIECE_BYTES } from "./file_protocol.js";
 * import { heldRanges, pieceDigest } from "./file_pieces.js";
 * const d = await pieceDigest(new Uint8Array(1));
 * const size = 3 * PIECE_BYTES + 10;
 * const ranges = await heldRanges(new Map([[0, d], [1, d], [3, d]]), size);
 * assert.deepEqual(ranges.map(([s, e]) => [s, e]), [[0, 2 * PIECE_BYTES], [3 * PIECE_BYTES, size]]);
 * ```
 *
 * @param {ReadonlyMap<number, Uint8Array>} pieces Piece index → its digest.
 * @param {number} size The file's size.
 * @returns {Promise<HeldRange[]>}
 */
export function heldRanges(pieces, size) {
  const indices = [...pieces.keys()].filter((i) => i >= 0 && i < pieceCount(size)).sort((a, b) =>
    a - b
  );
  /** @type {number[][]} */
  const runs = [];
  for (const index of indices) {
    const run = runs.at(-1);
    if (run !== undefined && run.at(-1) === index - 1) run.push(index);
    else if (runs.length < MAX_HAVE_RANGES) runs.push([index]);
    else break;
  }
  return Promise.all(runs.map(async (run) => {
    const start = pieceSpan(/** @type {number} */ (run[0]), size)[0];
    const end = pieceSpan(/** @type {number} */ (run.at(-1)), size)[1];
    const digests = run.map((index) => /** @type {Uint8Array} */ (pieces.get(index)));
    return /** @type {HeldRange} */ ([start, end, await rangeDigest(digests)]);
  }));
}

/**
 * How many bytes `ranges` cover.
 *
 * @param {readonly HeldRange[]} ranges
 * @returns {number}
 */
export function heldBytes(ranges) {
  return ranges.reduce((sum, [start, end]) => sum + end - start, 0);
}

/**
 * Whether `ranges` fit a file of `size` bytes: each ends within it, on a
 * piece boundary or at its end.
 *
 * @param {readonly HeldRange[]} ranges
 * @param {number} size
 * @returns {boolean}
 */
export function rangesFit(ranges, size) {
  return ranges.every(([, end]) => end <= size && (end % PIECE_BYTES === 0 || end === size));
}

/**
 * Collects bytes written in order from a piece boundary on, and gives the
 * digest of each piece as it completes (the last one at the file's end).
 * Holds at most one piece.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PieceHasher, pieceDigest } from "./file_pieces.js";
 * const hasher = new PieceHasher(3);
 * assert.deepEqual(await hasher.update(new Uint8Array([1, 2])), []);
 * const [piece] = await hasher.update(new Uint8Array([3]));
 * assert.equal(piece?.index, 0);
 * assert.deepEqual(piece?.digest, await pieceDigest(new Uint8Array([1, 2, 3])));
 * ```
 */
export class PieceHasher {
  #size;
  #position = 0;
  /** @type {Uint8Array} */
  #piece;
  #filled = 0;

  /** @param {number} size The file's size. */
  constructor(size) {
    this.#size = size;
    this.#piece = new Uint8Array(Math.min(PIECE_BYTES, size));
  }

  /** Where the next byte goes. */
  get position() {
    return this.#position;
  }

  /**
   * The next bytes go from `at`, a piece boundary.
   *
   * @param {number} at
   * @throws {RangeError} When `at` is not a piece boundary within the file.
   */
  seek(at) {
    if (at % PIECE_BYTES !== 0 || at > this.#size) {
      throw new RangeError(`${at} is not the start of a piece`);
    }
    this.#position = at;
    this.#filled = 0;
  }

  /**
   * Takes the next bytes; returns the pieces they complete, with a copy of
   * their bytes.
   *
   * @param {Uint8Array} bytes
   * @returns {Promise<{ index: number, digest: Uint8Array, bytes: Uint8Array }[]>}
   */
  async update(bytes) {
    /** @type {{ index: number, digest: Uint8Array, bytes: Uint8Array }[]} */
    const done = [];
    let offset = 0;
    while (offset < bytes.length) {
      const index = Math.floor(this.#position / PIECE_BYTES);
      const [, end] = pieceSpan(index, this.#size);
      const take = Math.min(bytes.length - offset, end - this.#position);
      if (take <= 0) throw new RangeError("bytes past the end of the file");
      this.#piece.set(bytes.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      this.#position += take;
      offset += take;
      if (this.#position === end) {
        const piece = this.#piece.slice(0, this.#filled);
        done.push({ index, digest: await pieceDigest(piece), bytes: piece });
        this.#filled = 0;
      }
    }
    return done;
  }
}
