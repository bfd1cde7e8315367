/**
 * Partial files kept to resume: an interrupted transfer leaves `NAME.part`
 * in the download folder and, beside it, `NAME.part.pieces`, its record:
 * a first line naming the file (the offered name, size and modification
 * time) and then one line per piece written, its index and SHA-256. When
 * the same file is offered again, the record finds the partial, and the
 * pieces that still match on disk are what the receiver claims. Records
 * older than the limit, and the oldest past the bound, go with their
 * partials.
 *
 * @module
 */

import { join } from "node:path";
import { PIECE_BYTES } from "../../shared/file_protocol.js";
import { heldRanges, pieceDigest, pieceSpan } from "../../shared/file_pieces.js";
import type { FileOffer } from "../../shared/file_transfer.js";
import { Sha256, toHex } from "../../shared/sha256.js";

/** The suffix of a partial's record, after the `.part` file's name. */
export const RECORD_SUFFIX = ".pieces";

/** How long a partial is kept by default: a week, in hours (`--keep-partials`). */
export const KEEP_PARTIALS_HOURS = 7 * 24;

/** The most partials kept in one download folder; past it, the oldest go. */
export const MAX_PARTIALS = 20;

/**
 * The largest record read, and written: a 1 TB file's pieces, each recorded
 * about twice. A sender that sends the same pieces over and over stops
 * adding to the record past it (the pieces it left out are fetched again).
 */
export const MAX_RECORD_BYTES = 128 * 1024 * 1024;

/** The most directory entries looked at for records: a huge folder is not read whole. */
const MAX_SCANNED = 10_000;

/** A record's first line: the file it holds part of. */
export interface RecordHeader {
  partial: 1;
  name: string;
  size: number;
  modified: number;
  piece: number;
}

/** A partial found on disk for an offer. */
export interface Partial {
  /** The `.part` file. */
  part: string;
  /** Its record. */
  record: string;
  /** The name it will be saved under (the `.part` file's, without `.part`). */
  saveAs: string;
  /** Piece index → digest, as recorded (the latest line of each piece wins). */
  pieces: Map<number, Uint8Array>;
}

/** The header for an offer that can be resumed, or `undefined`. */
export function recordHeader(offer: FileOffer): RecordHeader | undefined {
  if (offer.modified === undefined || offer.files !== undefined || offer.size === 0) {
    return undefined;
  }
  return {
    partial: 1,
    name: offer.name,
    size: offer.size,
    modified: offer.modified,
    piece: PIECE_BYTES,
  };
}

/**
 * The line a record keeps for one piece.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pieceLine } from "./partials.ts";
 * assert.equal(pieceLine(3, new Uint8Array(32)), `3 ${"0".repeat(64)}\n`);
 * ```
 */
export function pieceLine(index: number, digest: Uint8Array): string {
  return `${index} ${toHex(digest)}\n`;
}

/** Parses a record's text: its header and pieces, or `undefined` when it is not one. */
export function parseRecord(
  text: string,
): { header: RecordHeader; pieces: Map<number, Uint8Array> } | undefined {
  const [first = "", ...lines] = text.split("\n");
  let header: RecordHeader;
  try {
    header = JSON.parse(first);
  } catch {
    return undefined;
  }
  if (
    typeof header !== "object" || header === null || header.partial !== 1 ||
    typeof header.name !== "string" || !Number.isSafeInteger(header.size) ||
    !Number.isSafeInteger(header.modified) || header.piece !== PIECE_BYTES
  ) return undefined;
  const pieces = new Map<number, Uint8Array>();
  const count = Math.ceil(header.size / PIECE_BYTES);
  for (const line of lines) {
    // A line cut short by a crash is ignored, as is anything that is not a piece.
    const match = /^(\d{1,9}) ([0-9a-f]{64})$/.exec(line);
    if (match === null) continue;
    const index = Number(match[1]);
    if (index >= count) continue;
    pieces.set(index, Uint8Array.from(match[2]!.match(/../g)!, (byte) => parseInt(byte, 16)));
  }
  return { header, pieces };
}

/** The records in `dir`, with their paths; unreadable ones are skipped. */
function records(dir: string): { record: string; text: string; mtime: number }[] {
  const found: { record: string; text: string; mtime: number }[] = [];
  let scanned = 0;
  for (const entry of Deno.readDirSync(dir)) {
    if (++scanned > MAX_SCANNED) break;
    if (!entry.isFile || !entry.name.endsWith(`.part${RECORD_SUFFIX}`)) continue;
    const record = join(dir, entry.name);
    try {
      const info = Deno.statSync(record);
      // A record is small: one header, 70 bytes a piece, each written a few times at most.
      if (info.size > MAX_RECORD_BYTES) continue;
      found.push({
        record,
        text: Deno.readTextFileSync(record),
        mtime: info.mtime?.getTime() ?? 0,
      });
    } catch {
      // Gone meanwhile, or unreadable: not a partial to resume.
    }
  }
  return found;
}

/**
 * The partial in `dir` for `offer` (same name, size and time), if one is
 * kept and not in `busy` (another transfer is using it).
 */
export function findPartial(
  dir: string,
  offer: FileOffer,
  busy: ReadonlySet<string> = new Set(),
): Partial | undefined {
  const wanted = recordHeader(offer);
  if (wanted === undefined) return undefined;
  for (const { record, text } of records(dir)) {
    const parsed = parseRecord(text);
    if (parsed === undefined) continue;
    const { header, pieces } = parsed;
    if (
      header.name !== wanted.name || header.size !== wanted.size ||
      header.modified !== wanted.modified
    ) continue;
    const part = record.slice(0, -RECORD_SUFFIX.length);
    if (busy.has(part)) continue;
    try {
      if (!Deno.statSync(part).isFile) continue;
    } catch {
      continue;
    }
    const base = part.split(/[/\\]/).at(-1) ?? "";
    return { part, record, saveAs: base.slice(0, -".part".length), pieces };
  }
  return undefined;
}

/**
 * The partials in `dir` kept for an earlier version of the offered file
 * (same name, another size or time): they can never be resumed, and would
 * push the new file to another name.
 */
export function stalePartials(
  dir: string,
  offer: FileOffer,
  busy: ReadonlySet<string> = new Set(),
): string[] {
  const wanted = recordHeader(offer);
  if (wanted === undefined) return [];
  return records(dir).flatMap(({ record, text }) => {
    const header = parseRecord(text)?.header;
    if (header === undefined || header.name !== wanted.name) return [];
    if (header.size === wanted.size && header.modified === wanted.modified) return [];
    const part = record.slice(0, -RECORD_SUFFIX.length);
    return busy.has(part) ? [] : [part];
  });
}

/** How many bytes a partial's record claims (before the disk is checked). */
export function recordedBytes(partial: Partial, size: number): number {
  let bytes = 0;
  for (const index of partial.pieces.keys()) {
    const [start, end] = pieceSpan(index, size);
    bytes += end - start;
  }
  return bytes;
}

/**
 * Checks a partial against its record: reads each recorded piece back and
 * keeps those whose digest still matches. Gives the ranges to claim, and the
 * whole file's digest over the matching pieces from the start, in order.
 */
export async function checkPartial(partial: Partial, size: number): Promise<{
  have: Awaited<ReturnType<typeof heldRanges>>;
  hash: Sha256;
  hashed: number;
  good: Map<number, Uint8Array>;
}> {
  const good = new Map<number, Uint8Array>();
  const hash = new Sha256();
  let hashed = 0;
  using file = await Deno.open(partial.part, { read: true });
  const buffer = new Uint8Array(PIECE_BYTES);
  for (const index of [...partial.pieces.keys()].sort((a, b) => a - b)) {
    const [start, end] = pieceSpan(index, size);
    await file.seek(start, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < end - start) {
      const n = await file.read(buffer.subarray(filled, end - start));
      if (n === null) break;
      filled += n;
    }
    if (filled < end - start) continue;
    const bytes = buffer.subarray(0, filled);
    const digest = await pieceDigest(bytes);
    if (toHex(digest) !== toHex(partial.pieces.get(index)!)) continue;
    good.set(index, digest);
    if (hashed === start) {
      hash.update(bytes);
      hashed = end;
    }
  }
  return { have: await heldRanges(good, size), hash, hashed, good };
}

/** Removes a partial and its record; missing files are fine. */
export function removePartial(part: string): void {
  for (const path of [part + RECORD_SUFFIX, part]) {
    try {
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/**
 * Removes the partials in `dir` whose record is older than `maxAgeMs`, then
 * the oldest past `maxCount`, except those in `keep`.
 *
 * @returns The `.part` files removed.
 */
export function cleanPartials(
  dir: string,
  options: { maxAgeMs: number; maxCount?: number; now?: number; keep?: ReadonlySet<string> },
): string[] {
  const now = options.now ?? Date.now();
  const maxCount = options.maxCount ?? MAX_PARTIALS;
  const found = records(dir)
    .filter(({ text }) => parseRecord(text) !== undefined)
    .map(({ record, mtime }) => ({ part: record.slice(0, -RECORD_SUFFIX.length), mtime }))
    .filter(({ part }) => !options.keep?.has(part))
    .sort((a, b) => b.mtime - a.mtime);
  const removed: string[] = [];
  found.forEach(({ part, mtime }, i) => {
    if (now - mtime <= options.maxAgeMs && i < maxCount) return;
    try {
      removePartial(part);
      removed.push(part);
    } catch {
      // Left for the next clean.
    }
  });
  return removed;
}
