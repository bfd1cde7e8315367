/**
 * Files on disk for transfers: the file a sender streams from, and the
 * `.part` file a receiver streams into and renames once it is verified.
 * Neither holds a file in memory: one chunk at a time.
 *
 * @module
 */

import { numberedName, safeFileName } from "../../shared/file_protocol.js";
import { PieceHasher } from "../../shared/file_pieces.js";
import type { FileOffer, FileSink, FileSource } from "../../shared/file_transfer.js";
import { Sha256 } from "../../shared/sha256.js";
import { join } from "node:path";
import {
  MAX_RECORD_BYTES,
  type Partial,
  pieceLine,
  RECORD_SUFFIX,
  type RecordHeader,
} from "./partials.ts";

// Opening, linking, removing and looking up files are synchronous here: each
// is one short system call on a local disk, while an asynchronous one is a
// trip to a worker thread and back, and a set of many small files made five
// of those trips per file (0.5-0.7 ms a file against 0.1 under load). The
// bytes themselves are read and written asynchronously.

/** The suffix of a file still arriving. */
export const PART_SUFFIX = ".part";

/** How many numbered alternatives to try before giving up on a name. */
const MAX_ALTERNATIVES = 999;

/** The media types of common extensions; anything else is `application/octet-stream`. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  html: "text/html",
  json: "application/json",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  webm: "video/webm",
};

/**
 * The media type to announce for a file name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mediaType } from "./disk.ts";
 * assert.equal(mediaType("report.PDF"), "application/pdf");
 * assert.equal(mediaType("data.bin"), "application/octet-stream");
 * ```
 */
export function mediaType(name: string): string {
  const extension = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return Object.hasOwn(MEDIA_TYPES, extension)
    ? MEDIA_TYPES[extension]!
    : "application/octet-stream";
}

/**
 * Opens a regular file to send: its offer (base name, size, media type) and
 * a source that reads it in order.
 *
 * @throws {Error} When it is not a regular file or cannot be read.
 */
export function openSource(path: string): Promise<{ offer: FileOffer; source: FileSource }> {
  return settled(() => openSourceNow(path));
}

function openSourceNow(path: string): { offer: FileOffer; source: FileSource } {
  const file = Deno.openSync(path, { read: true });
  try {
    const info = file.statSync();
    if (!info.isFile) throw new Error("not a regular file");
    const name = path.split(/[/\\]/).filter((part) => part !== "").at(-1) ?? "file";
    const modified = info.mtime?.getTime();
    let closed = false;
    // One buffer for every read: the channel copies what it sends.
    let buffer = new Uint8Array(0);
    return {
      offer: {
        name,
        size: info.size,
        mime: mediaType(name),
        ...(modified === undefined ? {} : { modified: Math.floor(modified) }),
      },
      source: {
        async seek(offset: number): Promise<void> {
          await file.seek(offset, Deno.SeekMode.Start);
        },
        async read(max: number): Promise<Uint8Array> {
          if (buffer.length < max) buffer = new Uint8Array(max);
          let filled = 0;
          while (filled < max) {
            const n = await file.read(buffer.subarray(filled, max));
            if (n === null) break;
            filled += n;
          }
          return buffer.subarray(0, filled);
        },
        close(): void {
          if (closed) return;
          closed = true;
          file.close();
        },
      },
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * A received file on its way to `dir`: the bytes go to `<name>.part`, made
 * new (never over an existing file); `commit` links it to the final name,
 * taking `name (1).ext` and so on when the name is taken (a hard link never
 * replaces a file), and removes the `.part`; `abort` removes whatever it
 * made. A file that can be resumed also keeps a record of its pieces
 * (`partials.ts`); `suspend` leaves both for a later transfer of the same
 * file.
 */
export class PartFile implements FileSink {
  #file: Deno.FsFile | undefined;
  #part: string;
  #saved: string | undefined;
  readonly #dir: string;
  readonly #name: string;
  #record: Deno.FsFile | undefined;
  #pieces: PieceHasher | undefined;
  // The record's length: it stops growing at MAX_RECORD_BYTES.
  #recorded = 0;

  private constructor(
    dir: string,
    name: string,
    part: string,
    file: Deno.FsFile,
    record?: { file: Deno.FsFile; size: number },
  ) {
    this.#dir = dir;
    this.#name = name;
    this.#part = part;
    this.#file = file;
    if (record !== undefined) {
      this.#record = record.file;
      this.#pieces = new PieceHasher(record.size);
    }
  }

  /**
   * Creates the `.part` file for an offered name in `dir`, the name made
   * safe first; with a record header, also its record, so that an
   * interrupted transfer can be resumed.
   *
   * @throws {Error} When `dir` is not writable or no free name is left.
   */
  static create(dir: string, offeredName: string, header?: RecordHeader): Promise<PartFile> {
    return settled(() => PartFile.#createNow(dir, offeredName, header));
  }

  static #createNow(dir: string, offeredName: string, header?: RecordHeader): PartFile {
    const name = safeFileName(offeredName);
    for (let n = 0; n <= MAX_ALTERNATIVES; n++) {
      const candidate = n === 0 ? name : numberedName(name, n);
      if (exists(join(dir, candidate))) continue;
      const part = join(dir, candidate + PART_SUFFIX);
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(part, { write: true, createNew: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        continue;
      }
      if (header === undefined) return new PartFile(dir, candidate, part, file);
      try {
        const record = Deno.openSync(part + RECORD_SUFFIX, {
          write: true,
          create: true,
          truncate: true,
        });
        writeAllSync(record, JSON.stringify(header) + "\n");
        return new PartFile(dir, candidate, part, file, { file: record, size: header.size });
      } catch (error) {
        file.close();
        Deno.removeSync(part);
        throw error;
      }
    }
    throw new Error(`no free name for ${name} in ${dir}`);
  }

  /**
   * Opens a kept partial again to go on writing it (after `seek`), adding
   * to its record.
   */
  static resume(dir: string, partial: Partial, size: number): Promise<PartFile> {
    return settled(() => {
      const file = Deno.openSync(partial.part, { write: true });
      try {
        const record = Deno.openSync(partial.record, { append: true });
        const sink = new PartFile(dir, partial.saveAs, partial.part, file, { file: record, size });
        sink.#recorded = record.statSync().size;
        return sink;
      } catch (error) {
        file.close();
        throw error;
      }
    });
  }

  /** Whether it keeps a record to resume from. */
  get resumable(): boolean {
    return this.#pieces !== undefined;
  }

  /** Where the file is saved, once committed. */
  get savedAs(): string | undefined {
    return this.#saved;
  }

  /** The `.part` file's path. */
  get partPath(): string {
    return this.#part;
  }

  /** Writes the next bytes; a resumable file records each piece once its bytes are written. */
  async write(bytes: Uint8Array): Promise<void> {
    const file = this.#file;
    if (file === undefined) throw new Error("the file is closed");
    for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
    if (this.#pieces === undefined || this.#record === undefined) return;
    for (const { index, digest } of await this.#pieces.update(bytes)) {
      const line = pieceLine(index, digest);
      if (this.#recorded + line.length > MAX_RECORD_BYTES) continue;
      writeAllSync(this.#record, line);
      this.#recorded += line.length;
    }
  }

  /** The next bytes go from `offset`, a piece boundary (a resumed file). */
  async seek(offset: number): Promise<void> {
    const file = this.#file;
    if (file === undefined || this.#pieces === undefined) throw new Error("not a resumed file");
    this.#pieces.seek(offset);
    await file.seek(offset, Deno.SeekMode.Start);
  }

  /** The SHA-256 of the `.part` file as it is on disk. */
  async digest(): Promise<string> {
    using file = await Deno.open(this.#part, { read: true });
    const hash = new Sha256();
    const buffer = new Uint8Array(1024 * 1024);
    for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
      hash.update(buffer.subarray(0, n));
    }
    return hash.hex();
  }

  /** Leaves the `.part` file and its record for a later resume; without a record, removes it. */
  suspend(): Promise<void> {
    if (this.#pieces === undefined) return this.abort();
    return settled(() => this.#close());
  }

  #close(): void {
    this.#file?.close();
    this.#file = undefined;
    this.#record?.close();
    this.#record = undefined;
  }

  /** Keeps the file under its final name. */
  commit(): Promise<void> {
    return settled(() => this.#commitNow());
  }

  #commitNow(): void {
    const recorded = this.#pieces !== undefined;
    this.#close();
    for (let n = 0; n <= MAX_ALTERNATIVES; n++) {
      const name = n === 0 ? this.#name : numberedName(this.#name, n);
      const target = join(this.#dir, name);
      try {
        Deno.linkSync(this.#part, target);
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) continue;
        throw error;
      }
      this.#saved = target;
      Deno.removeSync(this.#part);
      if (recorded) removeIfThere(this.#part + RECORD_SUFFIX);
      return;
    }
    throw new Error(`no free name for ${this.#name} in ${this.#dir}`);
  }

  /** Removes what was written (and the saved file, if it came to that). */
  abort(): Promise<void> {
    return settled(() => this.#abortNow());
  }

  #abortNow(): void {
    const recorded = this.#pieces !== undefined;
    this.#close();
    for (const path of [this.#part, this.#saved]) {
      if (path !== undefined) removeIfThere(path);
    }
    if (recorded) removeIfThere(this.#part + RECORD_SUFFIX);
    this.#saved = undefined;
  }
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function writeAllSync(file: Deno.FsFile, text: string): void {
  const bytes = new TextEncoder().encode(text);
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** What `work` returns, or throws, as a promise: it runs now, and a sink answers with promises. */
function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
