/**
 * The keys file on disk: read with a permission check up front, written
 * atomically (a temporary file next to it, then a rename), so a server that
 * reloads mid-write reads the old file or the new one, never half of one.
 *
 * @module
 */

import { MissingPermission, shellWord } from "../runtime/permissions.ts";
import { errorText } from "../runtime/safe_text.ts";
import { formatKeyFile, KeyFileError, type KeyRecord, parseKeyFile } from "./key_file.ts";

/**
 * The temporary file a write goes through: created exclusively, so it also
 * keeps two `keys` commands from writing at once.
 */
export function tempPath(path: string): string {
  return `${path}.tmp`;
}

/**
 * Throws unless this process may `read` (and `write`, if asked) every path.
 *
 * @throws {MissingPermission} Naming the flags to add.
 */
export async function requirePaths(
  paths: readonly string[],
  kinds: readonly ("read" | "write")[],
  what: string,
): Promise<void> {
  const missing: string[] = [];
  for (const name of kinds) {
    for (const path of paths) {
      const status = await Deno.permissions.query({ name, path });
      if (status.state !== "granted") {
        missing.push(shellWord(`--allow-${name}=${paths.join(",")}`));
        break;
      }
    }
  }
  if (missing.length > 0) throw new MissingPermission(`${what} needs ${missing.join(" ")}`);
}

/**
 * Reads and parses a keys file.
 *
 * @param path The file.
 * @param flag The flag that named it, for the messages (`--api-keys`).
 * @throws {MissingPermission} Without `--allow-read=<path>`.
 * @throws {KeyFileError} When it cannot be read or parsed; the message names
 *   the file.
 */
export async function readKeyFile(path: string, flag: string): Promise<KeyRecord[]> {
  await requirePaths([path], ["read"], `${flag} ${path}`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new KeyFileError(`cannot read ${path}: ${errorText(error)}`);
  }
  try {
    return parseKeyFile(text);
  } catch (error) {
    throw new KeyFileError(`${path}: ${errorText(error)}`);
  }
}

/**
 * Reads a keys file for the `keys` command: a file that does not exist yet
 * has no keys.
 */
export async function readKeyFileOrNone(path: string): Promise<KeyRecord[]> {
  try {
    await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new KeyFileError(`cannot read ${path}: ${errorText(error)}`);
  }
  return await readKeyFile(path, "--keys-file");
}

/**
 * Writes `records` to `path` atomically: into `<path>.tmp` (created
 * exclusively, with the old file's mode, or owner-only for a new file),
 * flushed to disk, then renamed over `path`.
 *
 * @throws {KeyFileError} When the temporary file exists (another write is
 *   under way, or one was interrupted) or any step fails.
 */
export async function writeKeyFile(path: string, records: readonly KeyRecord[]): Promise<void> {
  const temp = tempPath(path);
  let mode = 0o600;
  try {
    mode = (await Deno.stat(path)).mode ?? mode;
  } catch {
    // A new file: readable by its owner only.
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode: mode & 0o777 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new KeyFileError(
        `${temp} exists: another keys command is writing, or one was interrupted (then remove it)`,
      );
    }
    throw new KeyFileError(`cannot write ${temp}: ${errorText(error)}`);
  }
  try {
    try {
      const bytes = new TextEncoder().encode(formatKeyFile(records));
      for (let written = 0; written < bytes.length;) {
        written += await file.write(bytes.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new KeyFileError(`cannot write ${path}: ${errorText(error)}`);
  }
}
