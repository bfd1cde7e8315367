/**
 * What the page keeps of a file it receives, to resume it after a reload or
 * a lost link: each 1 MiB piece, once written, is also stored in this
 * browser's private storage as a file of its own named by its index and
 * SHA-256. Its bytes appear only once the file is closed: a reload in
 * between leaves an empty file under the piece's name, which the check
 * refuses as it refuses any piece that does not match its name. The file itself still goes where
 * the user chose, in order, as it arrives; when the same file is offered
 * again, the pieces from the start that still match their names are
 * written there first and claimed, and only the rest is sent. Kept pieces
 * go once the file is verified or fails, after `KEEP_MS`, and past
 * `MAX_KEPT` files.
 *
 * @module
 */

import { PIECE_BYTES } from "../shared/file_protocol.js";
import { heldRanges, pieceDigest, PieceHasher } from "../shared/file_pieces.js";
import { Sha256, sha256Hex, toHex } from "../shared/sha256.js";

/** @typedef {import("../shared/file_transfer.js").FileOffer} FileOffer */
/** @typedef {import("./save_targets.js").SaveSink} SaveSink */

/** The private storage's folder of kept pieces: one folder per file. */
export const KEPT_FOLDER = "switchboard-kept";

/** How long pieces are kept: a week. */
export const KEEP_MS = 7 * 24 * 3600_000;

/** The most files whose pieces are kept; past it the oldest go. */
export const MAX_KEPT = 8;

/** The name of the file in a kept folder that says what it holds and since when. */
const ABOUT = "about.json";

/**
 * The folder name for an offer's pieces: the offered name, size and time,
 * hashed (a name from the partner is never used as a path).
 *
 * @param {FileOffer} offer
 * @returns {string}
 */
function folderName(offer) {
  const hex = sha256Hex(new TextEncoder().encode(
    JSON.stringify([offer.name, offer.size, offer.modified]),
  ));
  return hex.slice(0, 32);
}

/** Whether this browser has the private storage. */
function hasStorage() {
  return typeof navigator.storage?.getDirectory === "function";
}

/** @returns {Promise<FileSystemDirectoryHandle>} */
async function keptRoot() {
  const root = await navigator.storage.getDirectory();
  return await root.getDirectoryHandle(KEPT_FOLDER, { create: true });
}

/**
 * The names in a folder.
 *
 * @param {FileSystemDirectoryHandle} folder
 * @returns {Promise<string[]>}
 */
async function namesIn(folder) {
  const names = [];
  const keys = /** @type {AsyncIterable<string>} */ (
    /** @type {{ keys(): AsyncIterable<string> }} */ (/** @type {unknown} */ (folder)).keys()
  );
  for await (const name of keys) names.push(name);
  return names;
}

/**
 * Pieces kept for an offer.
 *
 * @typedef {object} Kept
 * @property {FileSystemDirectoryHandle} folder
 * @property {Map<number, string>} pieces Piece index → the file holding it.
 * @property {number} bytes How many bytes the pieces from the start claim (before they are checked).
 */

/**
 * The pieces kept for a single file's offer, from its start, or `undefined`.
 *
 * @param {FileOffer} offer
 * @returns {Promise<Kept | undefined>}
 */
export async function findKept(offer) {
  if (offer.modified === undefined || offer.files !== undefined || !hasStorage()) {
    return undefined;
  }
  try {
    const folder = await (await keptRoot()).getDirectoryHandle(folderName(offer));
    /** @type {Map<number, string>} */
    const pieces = new Map();
    for (const name of await namesIn(folder)) {
      const match = /^(\d{1,9})\.[0-9a-f]{64}$/.exec(name);
      if (match) pieces.set(Number(match[1]), name);
    }
    let bytes = 0;
    for (let index = 0; pieces.has(index); index++) {
      bytes = Math.min(offer.size, bytes + PIECE_BYTES);
    }
    return bytes === 0 ? undefined : { folder, pieces, bytes };
  } catch {
    return undefined;
  }
}

/**
 * Deletes what was kept: the user would rather have the file whole.
 *
 * @param {Kept} kept
 * @returns {Promise<void>}
 */
export async function discardKept(kept) {
  await (await keptRoot()).removeEntry(kept.folder.name, { recursive: true }).catch(() => {});
}

/**
 * A sink that writes into `inner` in order and keeps each piece for a
 * resume. With `kept`, it first checks the kept pieces from the start,
 * writes those that match into `inner`, and gives what to claim.
 *
 * @param {FileOffer} offer
 * @param {SaveSink} inner
 * @param {Kept} [kept]
 * @returns {Promise<{ sink: SaveSink, resume?: { have: import("../shared/file_protocol.js").HeldRange[], hash: Sha256, hashed: number } }>}
 */
export async function keepingSink(offer, inner, kept) {
  const root = await keptRoot();
  const folder = kept?.folder ?? await root.getDirectoryHandle(folderName(offer), { create: true });
  await writeFile(folder, ABOUT, new TextEncoder().encode(JSON.stringify({ at: Date.now() })));
  const hasher = new PieceHasher(offer.size);
  let position = 0;
  /** @type {{ have: import("../shared/file_protocol.js").HeldRange[], hash: Sha256, hashed: number } | undefined} */
  let resume;
  if (kept !== undefined) {
    const hash = new Sha256();
    /** @type {Map<number, Uint8Array>} */
    const good = new Map();
    for (let index = 0; kept.pieces.has(index); index++) {
      const name = /** @type {string} */ (kept.pieces.get(index));
      const bytes = new Uint8Array(
        await (await (await folder.getFileHandle(name)).getFile()).arrayBuffer(),
      );
      const digest = await pieceDigest(bytes);
      const expected = Math.min(PIECE_BYTES, offer.size - position);
      if (bytes.length !== expected || `${index}.${toHex(digest)}` !== name) break;
      await inner.write(bytes);
      hash.update(bytes);
      good.set(index, digest);
      position += bytes.length;
    }
    if (position > 0) {
      hasher.seek(position);
      resume = { have: await heldRanges(good, offer.size), hash, hashed: position };
    }
  }
  const drop = () => root.removeEntry(folder.name, { recursive: true }).catch(() => {});
  // The file that holds each piece: a piece written again replaces the one that did not match.
  const holding = new Map(kept?.pieces ?? []);
  let keeping = true;
  /** @type {SaveSink} */
  const sink = {
    get kind() {
      return inner.kind;
    },
    get where() {
      return inner.where;
    },
    set where(text) {
      inner.where = text;
    },
    get outcome() {
      return inner.outcome;
    },
    get download() {
      return inner.download;
    },
    discard: () => inner.discard(),
    async write(bytes) {
      await inner.write(bytes);
      position += bytes.length;
      if (!keeping) return;
      try {
        for (const piece of await hasher.update(bytes)) {
          const name = `${piece.index}.${toHex(piece.digest)}`;
          await writeFile(folder, name, piece.bytes);
          const old = holding.get(piece.index);
          if (old !== undefined && old !== name) await folder.removeEntry(old).catch(() => {});
          holding.set(piece.index, name);
        }
      } catch {
        // The storage is full or refused: the file goes on arriving, only not resumably.
        keeping = false;
        await drop();
      }
    },
    seek(at) {
      // The file is written in order: a resume goes on from where the kept pieces end.
      if (at !== position) {
        return Promise.reject(new Error("the sender's file changed: offer it again"));
      }
      return Promise.resolve();
    },
    async commit() {
      await inner.commit();
      await drop();
    },
    async abort() {
      await inner.abort();
      await drop();
    },
    async suspend() {
      // What went where the user chose is incomplete: only the pieces are kept.
      await inner.abort();
    },
  };
  return resume === undefined ? { sink } : { sink, resume };
}

/**
 * Writes a whole small file into `folder`: it exists, complete, once closed.
 *
 * @param {FileSystemDirectoryHandle} folder
 * @param {string} name
 * @param {Uint8Array} bytes
 */
async function writeFile(folder, name, bytes) {
  const handle = await folder.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  await writable.write(/** @type {BufferSource} */ (bytes));
  await writable.close();
}

/**
 * Removes kept pieces older than `KEEP_MS`, and the oldest past `MAX_KEPT`.
 * Call it when the page starts; nothing happens without a private storage.
 *
 * @param {number} [now]
 * @returns {Promise<number>} How many files' pieces went.
 */
export async function clearOldKept(now = Date.now()) {
  if (!hasStorage()) return 0;
  try {
    const root = await keptRoot();
    /** @type {{ name: string, at: number }[]} */
    const found = [];
    for (const name of await namesIn(root)) {
      let at = 0;
      try {
        const folder = await root.getDirectoryHandle(name);
        at = JSON.parse(await (await (await folder.getFileHandle(ABOUT)).getFile()).text()).at;
      } catch {
        // No time: the oldest of all.
      }
      found.push({ name, at: Number.isFinite(at) ? at : 0 });
    }
    found.sort((a, b) => b.at - a.at);
    let removed = 0;
    for (const [i, { name, at }] of found.entries()) {
      if (now - at <= KEEP_MS && i < MAX_KEPT) continue;
      await root.removeEntry(name, { recursive: true }).then(() => removed++, () => {});
    }
    return removed;
  } catch {
    return 0;
  }
}
