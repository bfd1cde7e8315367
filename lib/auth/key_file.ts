/**
 * API keys and the keys file: making a key, hashing it, and the file's JSON
 * format. Pure: no file system, no logging. The file holds each key's
 * SHA-256, never the key itself, so a copy of it lets nobody connect.
 *
 * ```json
 * {
 *   "version": 1,
 *   "keys": [
 *     {
 *       "label": "acme",
 *       "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
 *       "maxClients": 100,
 *       "rateLimit": 10,
 *       "createdAt": "2026-11-26T03:41:22.123Z"
 *     }
 *   ]
 * }
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { JsonSyntaxError, parseJson } from "../runtime/json_syntax.ts";

// The key's shape is the protocol's: the client checks it too. Re-exported for
// the keyring's callers, who know keys by this module.
export { generateKey, KEY_BYTES, KEY_PATTERN, KEY_PREFIX } from "../protocol/api_key_format.ts";

/** The version of the file format this code reads and writes. */
export const KEY_FILE_VERSION = 1;

/**
 * What a label may be: it names the tenant in logs and in `/metrics`, so it
 * is short and plain.
 */
export const LABEL_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One key in the file. */
export interface KeyRecord {
  /** The tenant's name, unique in the file; logs and metrics use it. */
  readonly label: string;
  /** The key's SHA-256, 64 lower-case hex digits. */
  readonly sha256: string;
  /** Clients this key may have connected at once; none when absent. */
  readonly maxClients?: number;
  /** Messages per second per client of this key; the server's limit when absent. */
  readonly rateLimit?: number;
  /** When the key was made, as an ISO 8601 timestamp. */
  readonly createdAt: string;
}

/** A keys file that cannot be used; the message names the entry and the field. */
export class KeyFileError extends Error {
  /** @param message What is wrong, for the operator. */
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

/**
 * The SHA-256 of a key, as stored in the file. Synchronous, so a handshake
 * is checked without waiting a turn of the event loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashKey } from "./key_file.ts";
 * assert.equal(
 *   hashKey("test"),
 *   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
 * );
 * ```
 */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * Reads the keys file's text.
 *
 * @throws {KeyFileError} When it is not JSON, not version 1, or an entry is
 *   wrong (a bad or repeated label, a hash that is not 64 hex digits, a
 *   repeated hash, a limit that is not a positive number). The message
 *   names the line and column, or the entry and field, and never quotes
 *   the file: a server pointed at the wrong file must not log its bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyFileError, parseKeyFile } from "./key_file.ts";
 * const text = JSON.stringify({
 *   version: 1,
 *   keys: [{ label: "acme", sha256: "a".repeat(64), createdAt: "2026-01-01T00:00:00.000Z" }],
 * });
 * assert.equal(parseKeyFile(text)[0]?.label, "acme");
 * assert.throws(() => parseKeyFile("{"), KeyFileError);
 * ```
 */
export function parseKeyFile(text: string): KeyRecord[] {
  let data: unknown;
  try {
    data = parseJson(text);
  } catch (error) {
    // Where, never what: the runtime's message would quote the file.
    if (error instanceof JsonSyntaxError) throw new KeyFileError(`not JSON at ${error.message}`);
    throw error;
  }
  if (!isObject(data)) throw new KeyFileError("not a JSON object");
  if (data.version !== KEY_FILE_VERSION) {
    throw new KeyFileError(`"version" must be ${KEY_FILE_VERSION}, got ${kindOf(data.version)}`);
  }
  if (!Array.isArray(data.keys)) throw new KeyFileError('"keys" must be an array');
  const labels = new Map<string, number>();
  const hashes = new Set<string>();
  return data.keys.map((entry: unknown, i: number): KeyRecord => {
    const where = `keys[${i}]`;
    if (!isObject(entry)) throw new KeyFileError(`${where} is not an object`);
    const { label, sha256, maxClients, rateLimit, createdAt } = entry;
    if (typeof label !== "string" || !LABEL_PATTERN.test(label)) {
      throw new KeyFileError(`${where}.label must match ${LABEL_PATTERN.source}`);
    }
    const first = labels.get(label);
    if (first !== undefined) throw new KeyFileError(`${where}.label repeats keys[${first}].label`);
    labels.set(label, i);
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new KeyFileError(`${where}.sha256 must be 64 lower-case hex digits`);
    }
    if (hashes.has(sha256)) throw new KeyFileError(`${where}.sha256 appears twice`);
    hashes.add(sha256);
    if (typeof createdAt !== "string" || Number.isNaN(Date.parse(createdAt))) {
      throw new KeyFileError(`${where}.createdAt must be an ISO 8601 timestamp`);
    }
    return {
      label,
      sha256,
      createdAt,
      ...limit(where, "maxClients", maxClients, true),
      ...limit(where, "rateLimit", rateLimit, false),
    };
  });
}

/**
 * The keys file's text for `records`: JSON, two-space indented, one key per
 * entry, ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatKeyFile, parseKeyFile } from "./key_file.ts";
 * const records = [{
 *   label: "acme",
 *   sha256: "b".repeat(64),
 *   maxClients: 5,
 *   createdAt: "2026-01-01T00:00:00.000Z",
 * }];
 * assert.deepEqual(parseKeyFile(formatKeyFile(records)), records);
 * ```
 */
export function formatKeyFile(records: readonly KeyRecord[]): string {
  const keys = records.map((r) => ({
    label: r.label,
    sha256: r.sha256,
    ...(r.maxClients === undefined ? {} : { maxClients: r.maxClients }),
    ...(r.rateLimit === undefined ? {} : { rateLimit: r.rateLimit }),
    createdAt: r.createdAt,
  }));
  return `${JSON.stringify({ version: KEY_FILE_VERSION, keys }, null, 2)}\n`;
}

function limit(
  where: string,
  name: "maxClients" | "rateLimit",
  value: unknown,
  whole: boolean,
): Partial<Record<typeof name, number>> {
  if (value === undefined) return {};
  if (
    typeof value !== "number" || !Number.isFinite(value) || value <= 0 ||
    (whole && !Number.isInteger(value))
  ) {
    throw new KeyFileError(
      `${where}.${name} must be a positive ${whole ? "whole number" : "number"}`,
    );
  }
  return { [name]: value };
}

/** A value from the file as an error may show it: a number, else only its kind. */
function kindOf(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number") return String(value);
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
