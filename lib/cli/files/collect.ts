/**
 * What `sendfile a.txt b.jpg photos/` offers: every regular file named or
 * found under a named folder, with its path relative to where it was named
 * (`photos/2024/a.jpg`) and its size, and every empty folder. Symbolic links
 * found inside a folder are never followed: a set holds only what lies
 * inside the folders the user named.
 *
 * @module
 */

import { MAX_LIST_CHARS, MAX_PATH_CHARS, MAX_SET_FILES } from "../../shared/file_protocol.js";
import type { FileSetSource, FileSource, SetFile } from "../../shared/file_transfer.js";
import { join } from "node:path";
import { openSource } from "./disk.ts";

/** A file of a set and where it is on this disk. */
export interface CollectedFile extends SetFile {
  /** Its path on disk. */
  disk: string;
  /** Whether the user named it (a link is then followed) rather than it being found in a folder. */
  named: boolean;
}

/** What a set to send holds. */
export interface Collected {
  files: CollectedFile[];
  /** Empty folders, relative. */
  folders: string[];
  /** What was left out, and why: links, devices, sockets. */
  skipped: { path: string; reason: string }[];
  /** Characters of every path listed, which the receiver bounds. */
  chars: number;
  /** The most characters of paths the set may have. */
  maxChars: number;
}

/**
 * Lists what `paths` hold, in a stable order (each folder's entries by
 * name). A path that is not there, or a set past `MAX_SET_FILES` entries or
 * `maxChars` characters of paths (`MAX_LIST_CHARS`, what a receiver takes),
 * is an error; a link or a special file inside a folder is left out and
 * named in `skipped`.
 *
 * @throws {Error} Naming the path, when one cannot be read.
 */
export async function collect(
  paths: readonly string[],
  maxChars: number = MAX_LIST_CHARS,
): Promise<Collected> {
  const found: Collected = { files: [], folders: [], skipped: [], chars: 0, maxChars };
  for (const path of paths) {
    // A path the user named is taken where it leads, as `cp -H` does; links found inside are not.
    const info = await Deno.stat(path).catch((error) => {
      throw new Error(`${path}: ${error instanceof Error ? error.message : error}`);
    });
    const name = baseName(path);
    if (info.isFile) add(found, { path: name, size: info.size, disk: path, named: true });
    else if (info.isDirectory) await walk(found, path, name);
    else found.skipped.push({ path, reason: "not a regular file" });
  }
  return found;
}

async function walk(found: Collected, disk: string, relative: string): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(disk)) entries.push(entry);
  if (entries.length === 0) {
    found.folders.push(checked(found, relative));
    bounded(found);
    return;
  }
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    const path = join(disk, entry.name);
    const inside = `${relative}/${entry.name}`;
    if (entry.isSymlink) {
      found.skipped.push({ path, reason: "a symbolic link, not followed" });
    } else if (entry.isDirectory) {
      await walk(found, path, inside);
    } else if (entry.isFile) {
      const info = Deno.lstatSync(path);
      add(found, { path: inside, size: info.size, disk: path, named: false });
    } else {
      found.skipped.push({ path, reason: "not a regular file" });
    }
  }
}

function add(found: Collected, file: CollectedFile): void {
  checked(found, file.path);
  found.files.push(file);
  bounded(found);
}

function checked(found: Collected, relative: string): string {
  if (relative.length > MAX_PATH_CHARS) {
    throw new Error(`${relative.slice(0, 60)}…: a path longer than ${MAX_PATH_CHARS} characters`);
  }
  found.chars += relative.length;
  if (found.chars > found.maxChars) {
    throw new Error(`paths of more than ${found.maxChars} characters in all in one set`);
  }
  return relative;
}

function bounded(found: Collected): void {
  if (found.files.length + found.folders.length > MAX_SET_FILES) {
    throw new Error(`more than ${MAX_SET_FILES} files and folders in one set`);
  }
}

function baseName(path: string): string {
  return path.split(/[/\\]/).filter((part) => part !== "" && part !== ".").at(-1) ?? "files";
}

/**
 * The sources of a collected set: each file opened as its turn comes, and
 * refused if it is no longer the regular file it was when listed.
 */
export function setSources(files: readonly CollectedFile[]): FileSetSource {
  return {
    async open(_file: SetFile, index: number): Promise<FileSource> {
      const file = files[index];
      if (file === undefined) throw new Error("no such file in the set");
      // Found inside a folder: refused if it became a link since it was listed.
      // Synchronous, as in disk.ts: one short system call, no trip to a worker thread.
      const info = file.named ? Deno.statSync(file.disk) : Deno.lstatSync(file.disk);
      if (!info.isFile) throw new Error("no longer a regular file");
      const opened = await openSource(file.disk);
      if (opened.offer.size !== file.size) {
        opened.source.close();
        throw new Error("its size changed since it was offered");
      }
      return opened.source;
    },
  };
}
