// This module is browser compatible.
// @ts-check
/**
 * The peer-to-peer file protocol, declared once as data: the page and the
 * command-line peer both import this file. Each file travels on a data
 * channel of its own, labelled `file:<id>`, which the sender opens once the
 * chat channel is up; chat lines never wait behind a file.
 *
 * On that channel, text messages are JSON control messages and binary
 * messages are the file's bytes, in order:
 *
 * 1. sender → `file_offer {name, size, mime}`; nothing more until the answer.
 * 2. receiver → `file_accept`, or `file_reject {reason}` (which ends it).
 * 3. sender → the bytes, in binary messages of at most `CHUNK_BYTES`.
 *    Receiver → `file_ack {bytes}` as it stores them; the sender keeps at most
 *    `WINDOW_BYTES` unacknowledged, and at most `HIGH_WATER_BYTES` in the
 *    channel's buffer.
 * 4. sender → `file_end {sha256}` after the last byte.
 * 5. receiver → `file_done {sha256}` once the digest matched and the file is
 *    saved, or `file_cancel {reason}`.
 *
 * A **set** (several files, a folder) is one offer and one answer on one
 * channel: the offer also counts the set's `files` and empty `folders`, and
 * `file_list {entries}` messages follow it with each entry's relative path
 * and size (none for an empty folder), until every entry is listed; the
 * receiver answers once the list is whole. Then the files go in list order,
 * each as its bytes and its own `file_end {sha256}` (or `file_skip {reason}`
 * when the sender cannot read it), one after another without waiting. The
 * receiver answers each file, in order, with `file_done {sha256}` or
 * `file_failed {reason}` (that file is not kept; the set goes on); once
 * every file is answered the set is done. `file_ack` counts the whole set's
 * bytes.
 *
 * **Resuming**: a single file's offer may carry `modified`, the time the
 * sender's file last changed. A receiver that holds part of that file from
 * an interrupted transfer (same name, size and time) accepts with `have`:
 * the byte ranges it holds, each with the digest of its pieces (see
 * `file_pieces.js`). The sender checks each range against its own file and
 * sends only what is missing or does not match, each stretch after
 * `file_seek {at}`; after an accept with `have`, the bytes always follow a
 * seek. `file_end` still carries the whole file's SHA-256, which decides.
 *
 * Either side may send `file_cancel {reason}` at any time; with
 * `resumable: true` the sender is only going away (it quit) and the
 * receiver may keep what it holds for a later resume. The side that
 * receives `file_reject`, `file_done` or `file_cancel` closes the channel;
 * a channel that closes before `file_done` is a failed transfer. A receiver
 * holding `MAX_INCOMING_FILES` already answers a new channel with
 * `file_reject` at once; either side cancels (and closes the channel) when
 * the other makes it wait `TRANSFER_IDLE_MS` without progress.
 *
 * @module
 */

/** Every control message on a file channel. */
export const FileMessageType = /** @type {const} */ ({
  /** Sender → receiver `{name, size, mime}`: the first message. */
  Offer: "file_offer",
  /** Receiver → sender: send it. */
  Accept: "file_accept",
  /** Receiver → sender `{reason}`: no, thanks (ends the transfer). */
  Reject: "file_reject",
  /** Receiver → sender `{bytes}`: this many bytes are stored. */
  Ack: "file_ack",
  /** Sender → receiver `{sha256}`: every byte is sent; this is their digest. */
  End: "file_end",
  /** Receiver → sender `{sha256}`: the digest matched; the file is saved. */
  Done: "file_done",
  /** Either way `{reason}`: the transfer stops; nothing is kept. */
  Cancel: "file_cancel",
  /** Sender → receiver `{entries}`: the next entries of a set's list, after its offer. */
  List: "file_list",
  /** Sender → receiver `{reason}`: the set's current file cannot be read; its rest will not come. */
  Skip: "file_skip",
  /** Receiver → sender `{reason}`: the set's current file is not kept; the set goes on. */
  Failed: "file_failed",
  /** Sender → receiver `{at}`: the bytes that follow go from this offset on (a resumed file). */
  Seek: "file_seek",
});

/** The label prefix of a file's data channel; the id follows. */
export const FILE_CHANNEL_PREFIX = "file:";

/** The largest binary message: 64 KiB, the smallest `max-message-size` of the stacks in use. */
export const CHUNK_BYTES = 64 * 1024;

/** The sender waits while the channel's buffer holds more than this. */
export const HIGH_WATER_BYTES = 1024 * 1024;

/** ...until it has drained to this (`bufferedAmountLowThreshold`). */
export const LOW_WATER_BYTES = 256 * 1024;

/** The most the sender sends beyond what the receiver has acknowledged. */
export const WINDOW_BYTES = 4 * 1024 * 1024;

/** The receiver acknowledges after storing this much more. */
export const ACK_EVERY_BYTES = 512 * 1024;

/** The longest name in an offer, in characters. */
export const MAX_OFFERED_NAME = 1024;

/**
 * The size of a piece: what a receiver records a digest of as it writes, so
 * that what it holds after an interruption can be checked and claimed.
 */
export const PIECE_BYTES = 1024 * 1024;

/**
 * The slowest a peer is expected to read back and hash what a resume holds,
 * in bytes per second: the time a side may be quiet while it does is set by
 * this (a disk and a JavaScript SHA-256 do several times better).
 */
export const RECHECK_BYTES_PER_S = 20_000_000;

/** The most held ranges in one accept: about 50 KiB of them, under the smallest `max-message-size`. */
export const MAX_HAVE_RANGES = 500;

/** The most files (and, apart, empty folders) in one set. */
export const MAX_SET_FILES = 100_000;

/** The longest relative path of a set's entry, in characters. */
export const MAX_PATH_CHARS = 4096;

/** The most characters of paths in one set's list, all entries together. */
export const MAX_LIST_CHARS = 16 * 1024 * 1024;

/** The most entries in one `file_list` message. */
export const MAX_LIST_ENTRIES = 10_000;

/**
 * The most bytes of one `file_list` message as the sender writes it: under
 * the smallest `max-message-size` of the stacks in use.
 */
export const LIST_MESSAGE_BYTES = 60 * 1024;

/**
 * The most files a receiver takes from its partner at once: channels waiting
 * for their offer, offers waiting for an answer, and files arriving. Past
 * it, a new channel is answered with `file_reject` at once and never shown,
 * so a partner opening hundreds cannot fill the screen, the disk or the
 * descriptor table.
 */
export const MAX_INCOMING_FILES = 16;

/**
 * A transfer that makes no progress for this long is cancelled: a channel
 * with no offer, a file whose bytes stop coming, a receiver that stops
 * acknowledging or confirming. An offer waiting for the user's answer is not
 * timed.
 */
export const TRANSFER_IDLE_MS = 30_000;

/**
 * @typedef {{ path: string, size?: number }} ListEntry An entry of a set's
 *   list: a file with its size, or an empty folder (no size). On the wire it
 *   is `[path, size]` or `[path]`.
 */

/**
 * @typedef {[start: number, end: number, sha256: string]} HeldRange Bytes
 *   `start` to `end` (exclusive) that a resuming receiver holds, at piece
 *   boundaries (or the file's end), with the digest of their pieces.
 */

/**
 * @typedef {{ type: "file_offer", name: string, size: number, mime: string,
 *     files?: number, folders?: number, modified?: number }
 *   | { type: "file_list", entries: ListEntry[] }
 *   | { type: "file_skip", reason: string }
 *   | { type: "file_failed", reason: string }
 *   | { type: "file_accept", have?: HeldRange[] }
 *   | { type: "file_seek", at: number }
 *   | { type: "file_reject", reason: string }
 *   | { type: "file_ack", bytes: number }
 *   | { type: "file_end", sha256: string }
 *   | { type: "file_done", sha256: string }
 *   | { type: "file_cancel", reason: string, resumable?: boolean }} FileMessage
 *   A control message on a file channel.
 */

/**
 * A control message from the partner, checked, or `undefined` when it is not
 * one: not JSON, an unknown type, or a field missing or of the wrong kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFileMessage } from "./file_protocol.js";
 * assert.deepEqual(parseFileMessage('{"type":"file_ack","bytes":65536}'), {
 *   type: "file_ack",
 *   bytes: 65536,
 * });
 * assert.equal(parseFileMessage('{"type":"file_ack","bytes":-1}'), undefined);
 * assert.equal(parseFileMessage("hello"), undefined);
 * ```
 *
 * @param {string} text
 * @returns {FileMessage | undefined}
 */
export function parseFileMessage(text) {
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const m = /** @type {Record<string, unknown>} */ (value);
  const count = (/** @type {unknown} */ n) =>
    typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const text200 = (/** @type {unknown} */ s) => typeof s === "string" ? s.slice(0, 200) : "";
  const hex = (/** @type {unknown} */ s) => typeof s === "string" && /^[0-9a-f]{64}$/.test(s);
  switch (m.type) {
    case FileMessageType.Offer: {
      if (
        typeof m.name !== "string" || m.name.length > MAX_OFFERED_NAME || !count(m.size)
      ) return undefined;
      /** @type {FileMessage & { type: "file_offer" }} */
      const offer = {
        type: m.type,
        name: m.name,
        size: /** @type {number} */ (m.size),
        mime: typeof m.mime === "string" && /^[\w.+-]{1,100}\/[\w.+-]{1,100}$/.test(m.mime)
          ? m.mime.toLowerCase()
          : "application/octet-stream",
      };
      if (m.files === undefined && m.folders === undefined) {
        // A time that is not one is left out: the file is then not resumed, but it still goes.
        return count(m.modified)
          ? { ...offer, modified: /** @type {number} */ (m.modified) }
          : offer;
      }
      const files = m.files ?? 0, folders = m.folders ?? 0;
      if (!count(files) || !count(folders)) return undefined;
      const [f, d] = [/** @type {number} */ (files), /** @type {number} */ (folders)];
      if (f > MAX_SET_FILES || d > MAX_SET_FILES || f + d === 0) return undefined;
      return { ...offer, files: f, folders: d };
    }
    case FileMessageType.List: {
      if (!Array.isArray(m.entries) || m.entries.length === 0) return undefined;
      if (m.entries.length > MAX_LIST_ENTRIES) return undefined;
      /** @type {ListEntry[]} */
      const entries = [];
      for (const entry of m.entries) {
        if (!Array.isArray(entry) || entry.length < 1 || entry.length > 2) return undefined;
        const [path, size] = entry;
        if (typeof path !== "string" || path.length === 0 || path.length > MAX_PATH_CHARS) {
          return undefined;
        }
        if (entry.length === 1) entries.push({ path });
        else if (count(size)) entries.push({ path, size: /** @type {number} */ (size) });
        else return undefined;
      }
      return { type: m.type, entries };
    }
    case FileMessageType.Accept: {
      if (m.have === undefined) return { type: m.type };
      const have = heldRanges(m.have);
      return have === undefined ? undefined : { type: m.type, have };
    }
    case FileMessageType.Seek:
      return count(m.at) ? { type: m.type, at: /** @type {number} */ (m.at) } : undefined;
    case FileMessageType.Cancel:
      return {
        type: m.type,
        reason: text200(m.reason) || "no reason given",
        ...(m.resumable === true ? { resumable: true } : {}),
      };
    case FileMessageType.Reject:
    case FileMessageType.Skip:
    case FileMessageType.Failed:
      return { type: m.type, reason: text200(m.reason) || "no reason given" };
    case FileMessageType.Ack:
      return count(m.bytes) ? { type: m.type, bytes: /** @type {number} */ (m.bytes) } : undefined;
    case FileMessageType.End:
    case FileMessageType.Done:
      return hex(m.sha256) ? { type: m.type, sha256: /** @type {string} */ (m.sha256) } : undefined;
    default:
      return undefined;
  }
}

/**
 * The held ranges of an accept, checked: at most `MAX_HAVE_RANGES`, in
 * order, apart, each starting on a piece boundary, or `undefined`. Whether
 * they end within the file is the sender's to check: it knows the size.
 *
 * @param {unknown} value
 * @returns {HeldRange[] | undefined}
 */
function heldRanges(value) {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_HAVE_RANGES) {
    return undefined;
  }
  /** @type {HeldRange[]} */
  const ranges = [];
  let last = 0;
  for (const range of value) {
    if (!Array.isArray(range) || range.length !== 3) return undefined;
    const [start, end, sha256] = range;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return undefined;
    if (start < last || end <= start || start % PIECE_BYTES !== 0) return undefined;
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    ranges.push([start, end, sha256]);
    last = end;
  }
  return ranges;
}

// Names Windows keeps for devices, with or without an extension; Windows
// also ignores spaces before the extension ("nul .txt" is NUL).
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)\s*(\.|$)/i;

/** The longest saved name in UTF-8 bytes: room for " (999)" and ".part" under 255. */
export const MAX_NAME_BYTES = 200;

/**
 * The name a received file is saved under: the offered name's last path
 * component, with control and formatting characters and those that file
 * systems forbid replaced by `_`, no leading dots or spaces (no hidden
 * files, no `..`), no trailing dots or spaces, at most `MAX_NAME_BYTES` of
 * UTF-8 with the extension kept, and then a device name such as `CON`
 * prefixed with `_`. A name with nothing usable left becomes `file`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safeFileName } from "./file_protocol.js";
 * assert.equal(safeFileName("../x"), "x");
 * assert.equal(safeFileName("/etc/passwd"), "passwd");
 * assert.equal(safeFileName("a\nb.txt"), "a_b.txt");
 * assert.equal(safeFileName(".bashrc"), "bashrc");
 * assert.equal(safeFileName("CON.txt"), "_CON.txt");
 * assert.equal(safeFileName("nul" + " ".repeat(250) + "x.txt"), "_nul.txt");
 * assert.equal(safeFileName(".."), "file");
 * ```
 *
 * @param {string} offered
 * @returns {string}
 */
export function safeFileName(offered) {
  const last = offered.split(/[/\\]/).at(-1) ?? "";
  let name = last.normalize("NFC")
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}<>:"|?*]/gu, "_")
    .replace(/^[\s.]+/u, "")
    .replace(/[\s.]+$/u, "");
  name = shorten(name, MAX_NAME_BYTES);
  // Last, on the name as it will be saved: shortening can make one
  // ("nul" + 250 spaces + "x.txt" is cut to "nul.txt").
  if (RESERVED.test(name)) name = shorten(`_${name}`, MAX_NAME_BYTES);
  return name === "" ? "file" : name;
}

/**
 * `name` with ` (n)` before its extension: the n-th alternative when `name`
 * is taken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberedName } from "./file_protocol.js";
 * assert.equal(numberedName("report.pdf", 1), "report (1).pdf");
 * assert.equal(numberedName("archive.tar.gz", 2), "archive.tar (2).gz");
 * assert.equal(numberedName("README", 3), "README (3)");
 * ```
 *
 * @param {string} name
 * @param {number} n
 * @returns {string}
 */
export function numberedName(name, n) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}

/**
 * `name` cut to `max` bytes of UTF-8, keeping a short extension and whole characters.
 *
 * @param {string} name
 * @param {number} max
 * @returns {string}
 */
function shorten(name, max) {
  const encoder = new TextEncoder();
  if (encoder.encode(name).length <= max) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
  let stem = "";
  const room = max - encoder.encode(extension).length;
  let used = 0;
  for (const character of name.slice(0, name.length - extension.length)) {
    const size = encoder.encode(character).length;
    if (used + size > room) break;
    stem += character;
    used += size;
  }
  return stem.replace(/[\s.]+$/u, "") + extension;
}

/**
 * A byte count for people, in decimal units: `4.2 MB`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./file_protocol.js";
 * assert.equal(formatBytes(999), "999 B");
 * assert.equal(formatBytes(4_200_000), "4.2 MB");
 * assert.equal(formatBytes(67_108_864), "67.1 MB");
 * ```
 *
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${value < 100 ? value.toFixed(1) : value.toFixed(0)} ${unit}`;
}

/**
 * A fresh file id for a channel label: 8 hex digits.
 *
 * @returns {string}
 */
export function newFileId() {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}
