/**
 * A keys file for the benchmarks that run Switchboard with `--api-keys`:
 * ten keys, so the check compares the presented hash with more than one, and
 * the key the load generator presents.
 *
 * @module
 */

import { formatKeyFile, generateKey, hashKey, type KeyRecord } from "../lib/auth/key_file.ts";

/** A keys file written for one run, and the key its clients present. */
export interface BenchKeys {
  /** The file's path, for `--api-keys` and `--allow-read`. */
  readonly file: string;
  /** The key clients present (label `bench0`). */
  readonly key: string;
  /** Another key of the file (label `bench1`): another tenant. */
  readonly other: string;
  /** The handshake header line that presents it, ending in CRLF. */
  readonly header: string;
  /** Removes the file. */
  remove(): Promise<void>;
}

/**
 * Writes a keys file of ten keys into `dir`.
 *
 * @param maxClients The presented key's client cap, if any: with `--redis`
 *   a capped key is counted cluster-wide on every connect, so setting one
 *   measures that work too.
 */
export async function writeBenchKeys(dir: string, maxClients?: number): Promise<BenchKeys> {
  const key = generateKey();
  const other = generateKey();
  const createdAt = new Date().toISOString();
  const all = [key, other, ...Array.from({ length: 8 }, generateKey)];
  const records: KeyRecord[] = all.map((k, i) => ({
    label: `bench${i}`,
    sha256: hashKey(k),
    ...(i === 0 && maxClients !== undefined ? { maxClients } : {}),
    createdAt,
  }));
  const file = await Deno.makeTempFile({ dir, prefix: "switchboard-bench-keys-" });
  await Deno.writeTextFile(file, formatKeyFile(records));
  return {
    file,
    key,
    other,
    header: `Authorization: Bearer ${key}\r\n`,
    remove: () => Deno.remove(file).catch(() => {}),
  };
}
