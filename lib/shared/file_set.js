// This module is browser compatible.
// @ts-check
/**
 * Sets of files (several files, a folder) as the file protocol carries them:
 * the list the sender writes after its offer, split into messages that fit
 * a channel, the list the receiver puts back together and checks, and the
 * relative paths made safe. Pure: no channel, no disk.
 *
 * @module
 */

import {
  FileMessageType,
  formatBytes,
  LIST_MESSAGE_BYTES,
  MAX_LIST_CHARS,
  MAX_LIST_ENTRIES,
  safeFileName,
} from "./file_protocol.js";

/** @typedef {import("./file_protocol.js").ListEntry} ListEntry */

/**
 * @typedef {object} SetFile A file of a set.
 * @property {string} path Its relative path, `/`-separated; safe on the receiving side.
 * @property {number} size In bytes.
 */

/** The deepest relative path kept; deeper components are dropped. */
export const MAX_DEPTH = 64;

/**
 * A relative path made safe to create under a folder: split at `/` and
 * `\`, with empty, `.` and `..` components dropped (never above the folder,
 * never absolute), at most `MAX_DEPTH` deep, and each component cleaned
 * like a file name (`safeFileName`): no control characters, no hidden
 * names, no device names. Joined with `/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safeRelativePath } from "./file_set.js";
 * assert.equal(safeRelativePath("photos/2024/a.jpg"), "photos/2024/a.jpg");
 * assert.equal(safeRelativePath("../../etc/passwd"), "etc/passwd");
 * assert.equal(safeRelativePath("/abs\\\\win\\\\CON.txt"), "abs/win/_CON.txt");
 * assert.equal(safeRelativePath("a/./.git/x"), "a/git/x");
 * assert.equal(safeRelativePath(".."), "file");
 * ```
 *
 * @param {string} offered
 * @returns {string}
 */
export function safeRelativePath(offered) {
  const parts = offered.split(/[/\\]/)
    .filter((part) => part !== "" && part !== "." && part !== "..")
    .slice(0, MAX_DEPTH)
    .map((part) => safeFileName(part));
  return parts.length === 0 ? "file" : parts.join("/");
}

/**
 * The `file_list` messages that follow a set's offer: every entry in order,
 * files as `[path, size]` and empty folders as `[path]`, as many to a
 * message as fit in `LIST_MESSAGE_BYTES` of UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listMessages } from "./file_set.js";
 * assert.deepEqual(listMessages([{ path: "d/a.txt", size: 3 }], ["d/empty"]), [
 *   { type: "file_list", entries: [{ path: "d/a.txt", size: 3 }, { path: "d/empty" }] },
 * ]);
 * ```
 *
 * @param {readonly SetFile[]} files
 * @param {readonly string[]} folders
 * @returns {{ type: "file_list", entries: ListEntry[] }[]}
 */
export function listMessages(files, folders) {
  const encoder = new TextEncoder();
  /** @type {ListEntry[]} */
  const all = [
    ...files.map(({ path, size }) => ({ path, size })),
    ...folders.map((path) => ({ path })),
  ];
  /** @type {{ type: "file_list", entries: ListEntry[] }[]} */
  const messages = [];
  /** @type {ListEntry[]} */
  let entries = [];
  // The envelope, `{"type":"file_list","entries":[]}`, and a comma per entry.
  const envelope = 40;
  let bytes = envelope;
  for (const entry of all) {
    const size = encoder.encode(JSON.stringify(wireEntry(entry))).length + 1;
    if (
      entries.length > 0 &&
      (bytes + size > LIST_MESSAGE_BYTES || entries.length >= MAX_LIST_ENTRIES)
    ) {
      messages.push({ type: FileMessageType.List, entries });
      entries = [];
      bytes = envelope;
    }
    entries.push(entry);
    bytes += size;
  }
  if (entries.length > 0) messages.push({ type: FileMessageType.List, entries });
  return messages;
}

/**
 * An entry as it travels: `[path, size]` or `[path]`.
 *
 * @param {ListEntry} entry
 * @returns {[string, number] | [string]}
 */
export function wireEntry(entry) {
  return entry.size === undefined ? [entry.path] : [entry.path, entry.size];
}

/**
 * A `file_list` message as text for the channel.
 *
 * @param {{ entries: ListEntry[] }} message
 * @returns {string}
 */
export function listText(message) {
  return JSON.stringify({ type: FileMessageType.List, entries: message.entries.map(wireEntry) });
}

/**
 * A set's list as the receiver puts it back together from `file_list`
 * messages: every path made safe, the counts and the total size checked
 * against the offer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SetList } from "./file_set.js";
 * const list = new SetList({ size: 3, files: 1, folders: 1 });
 * assert.equal(list.add([{ path: "../d/a.txt", size: 3 }]), "more");
 * assert.equal(list.add([{ path: "d/empty" }]), "complete");
 * assert.deepEqual(list.files, [{ path: "d/a.txt", size: 3 }]);
 * assert.deepEqual(list.folders, ["d/empty"]);
 * ```
 */
export class SetList {
  /** @type {SetFile[]} */
  files = [];
  /** @type {string[]} */
  folders = [];
  #size = 0;
  #chars = 0;
  /** @type {{ size: number, files: number, folders: number }} */
  #offer;

  /** @param {{ size: number, files: number, folders: number }} offer What the offer announced. */
  constructor(offer) {
    this.#offer = offer;
  }

  /** Whether every entry the offer announced is here. */
  get complete() {
    return this.files.length === this.#offer.files && this.folders.length === this.#offer.folders;
  }

  /**
   * Adds the entries of one `file_list` message.
   *
   * @param {readonly ListEntry[]} entries
   * @returns {"more" | "complete" | string} `more` or `complete`, or what is
   *   wrong with the list (a protocol error).
   */
  add(entries) {
    for (const entry of entries) {
      this.#chars += entry.path.length;
      if (this.#chars > MAX_LIST_CHARS) return "a list longer than the receiver takes";
      if (entry.size === undefined) {
        if (this.folders.length >= this.#offer.folders) return "more folders than offered";
        this.folders.push(safeRelativePath(entry.path));
        continue;
      }
      if (this.files.length >= this.#offer.files) return "more files than offered";
      this.#size += entry.size;
      if (this.#size > this.#offer.size) return "files larger than offered";
      this.files.push({ path: safeRelativePath(entry.path), size: entry.size });
    }
    if (!this.complete) return "more";
    return this.#size === this.#offer.size ? "complete" : "files smaller than offered";
  }
}

/**
 * What to call a set in one line, by what the user named: its top-level
 * files and folders (`photos`, `photos and notes.txt`, `a.txt, b.txt and 3
 * more`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setName } from "./file_set.js";
 * assert.equal(setName([{ path: "photos/a.jpg", size: 1 }], ["photos/empty"]), "photos");
 * assert.equal(setName([{ path: "photos/a.jpg", size: 1 }, { path: "b.txt", size: 1 }], []), "photos and b.txt");
 * assert.equal(setName(["a", "b", "c", "d"].map((path) => ({ path, size: 1 })), []), "a, b and 2 more");
 * ```
 *
 * @param {readonly SetFile[]} files
 * @param {readonly string[]} folders
 * @returns {string}
 */
export function setName(files, folders) {
  const tops = [
    ...new Set([
      ...files.map((file) => file.path),
      ...folders,
    ].map((path) => path.split("/")[0] ?? "")),
  ];
  if (tops.length <= 1) return tops[0] || "files";
  if (tops.length === 2) return `${tops[0]} and ${tops[1]}`;
  return `${tops[0]}, ${tops[1]} and ${tops.length - 2} more`;
}

/**
 * What a line says of an offer's size: `4.2 MB` for one file,
 * `12 files, 1 empty folder, 4.2 MB` for a set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { offerSummary } from "./file_set.js";
 * assert.equal(offerSummary({ size: 4_200_000 }), "4.2 MB");
 * assert.equal(
 *   offerSummary({ size: 1500, files: [{ path: "d/a", size: 1500 }], folders: ["d/e"] }),
 *   "1 file, 1 empty folder, 1.5 kB",
 * );
 * ```
 *
 * @param {{ size: number, files?: readonly SetFile[], folders?: readonly string[] }} offer
 * @returns {string}
 */
export function offerSummary(offer) {
  if (offer.files === undefined) return formatBytes(offer.size);
  const folders = offer.folders?.length ?? 0;
  return [
    plural(offer.files.length, "file"),
    ...(folders > 0 ? [plural(folders, "empty folder")] : []),
    formatBytes(offer.size),
  ].join(", ");
}

/**
 * A set's entries as a person reads them: `photos/a.jpg (1.2 MB)`, then
 * `photos/empty/ (empty folder)`.
 *
 * @param {{ files?: readonly SetFile[], folders?: readonly string[] }} offer
 * @returns {string[]}
 */
export function setEntries(offer) {
  return [
    ...(offer.files ?? []).map((file) => `${file.path} (${formatBytes(file.size)})`),
    ...(offer.folders ?? []).map((folder) => `${folder}/ (empty folder)`),
  ];
}

/**
 * How a set ended, in words: `every SHA-256 verified`, or how many were and
 * which failed (the first `named` of them, with their reasons).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setOutcome } from "./file_set.js";
 * assert.equal(setOutcome(3, []), "every SHA-256 verified");
 * assert.equal(
 *   setOutcome(3, [{ path: "a", reason: "disk full" }]),
 *   "2 of 3 verified; failed: a (disk full)",
 * );
 * ```
 *
 * @param {number} files How many files the set had.
 * @param {readonly { path: string, reason?: string }[]} failed
 * @param {number} [named] How many failures to name.
 * @returns {string}
 */
export function setOutcome(files, failed, named = 10) {
  if (failed.length === 0) return files === 0 ? "its folders made" : "every SHA-256 verified";
  const listed = failed.slice(0, named).map((f) => `${f.path} (${f.reason ?? "failed"})`);
  const more = failed.length > named ? `, and ${failed.length - named} more` : "";
  return `${files - failed.length} of ${files} verified; failed: ${listed.join(", ")}${more}`;
}

/**
 * `1 file`, `2 files`.
 *
 * @param {number} n
 * @param {string} word
 * @returns {string}
 */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
