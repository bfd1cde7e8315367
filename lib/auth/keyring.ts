/**
 * The keys a server accepts, as loaded from the keys file. Pure: records in,
 * a verdict out. Held by `access.ts`, which the server asks.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { KeyRecord } from "./key_file.ts";

/** Bytes in a SHA-256. */
const DIGEST_BYTES = 32;

/**
 * The accepted keys. A presented key is hashed and its hash compared with
 * every stored hash in constant time, with no early exit: how long a check
 * takes says nothing about which key, if any, came close.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKey, hashKey } from "./key_file.ts";
 * import { Keyring } from "./keyring.ts";
 * const key = generateKey();
 * const keyring = new Keyring([
 *   { label: "acme", sha256: hashKey(key), createdAt: "2026-01-01T00:00:00.000Z" },
 * ]);
 * assert.equal(keyring.find(key)?.label, "acme");
 * assert.equal(keyring.find(generateKey()), undefined);
 * ```
 */
export class Keyring {
  readonly #records: readonly KeyRecord[];
  // Every stored hash, back to back: one array, walked whole on each check.
  readonly #digests: Uint8Array;
  readonly #byHash: ReadonlyMap<string, KeyRecord>;

  /** @param records The keys file's entries. */
  constructor(records: readonly KeyRecord[]) {
    this.#records = [...records];
    this.#digests = new Uint8Array(records.length * DIGEST_BYTES);
    records.forEach((r, i) => this.#digests.set(hexBytes(r.sha256), i * DIGEST_BYTES));
    this.#byHash = new Map(records.map((r) => [r.sha256, r]));
  }

  /** How many keys there are. */
  get size(): number {
    return this.#records.length;
  }

  /** The keys, in file order. */
  get records(): readonly KeyRecord[] {
    return this.#records;
  }

  /** The key whose SHA-256 is `sha256`, if it is still accepted. */
  byHash(sha256: string): KeyRecord | undefined {
    return this.#byHash.get(sha256);
  }

  /**
   * The record of a presented key, or `undefined` when no accepted key
   * matches it.
   */
  find(key: string): KeyRecord | undefined {
    const digest: Uint8Array = createHash("sha256").update(key).digest();
    const digests = this.#digests;
    let found = -1;
    // Every byte of every stored hash is compared, whatever matched before:
    // no branch depends on a byte, only on a whole hash's difference.
    for (let i = 0; i < this.#records.length; i++) {
      let difference = 0;
      const offset = i * DIGEST_BYTES;
      for (let j = 0; j < DIGEST_BYTES; j++) difference |= digest[j]! ^ digests[offset + j]!;
      found = difference === 0 ? i : found;
    }
    return found < 0 ? undefined : this.#records[found];
  }
}

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
