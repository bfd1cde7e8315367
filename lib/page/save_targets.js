/**
 * Where the page writes a file it receives, as the bytes arrive, so a file
 * of any size arrives without being held in memory: a file the user chooses
 * (the File System Access API), else a file in this browser's own private
 * storage offered as a download once its SHA-256 matched, else memory, for
 * small files only. Each is a `FileSink` with a sentence saying where the
 * bytes go and what became of them. A sink that is aborted deletes what it
 * wrote.
 *
 * For sets of files: `askForFolder()`, then `folderFileSink()` for each
 * file at its relative path inside the chosen folder, and `makeFolder()` for
 * an empty one.
 *
 * @module
 */

import { formatBytes, numberedName } from "../shared/file_protocol.js";

/** @typedef {import("../shared/file_transfer.js").FileSink} FileSink */

/**
 * @typedef {"chosen" | "private" | "memory"} SaveKind Where the bytes go:
 *   a file the user chose, this browser's private storage, or memory.
 */

/**
 * @typedef {object} SaveTargetInfo What a sink adds to `FileSink`.
 * @property {SaveKind} kind Where the bytes go.
 * @property {string} where Where the bytes go, for the user: `Writing to report.pdf, where you chose`.
 * @property {string} outcome What became of them once the transfer ended
 *   (`Saved as report.pdf`, `Nothing kept: what was written is deleted`);
 *   empty before.
 * @property {Blob | undefined} download Once committed, for the private
 *   storage and memory: the file, to offer as a download. It reads from
 *   disk for the private storage.
 * @property {() => Promise<void>} discard Frees what `download` holds (the
 *   private storage's file); nothing for the other kinds.
 */

/** @typedef {FileSink & SaveTargetInfo} SaveSink A sink and what it tells the user. */

/** A file above this size is not taken into memory, where memory is all the page has. */
export const MEMORY_LIMIT_BYTES = 100_000_000;

/** The folder of the private storage that holds files being received and waiting to be saved. */
export const INCOMING_FOLDER = "switchboard-incoming";

/**
 * Bytes gathered before one write: each write is a round trip to the
 * browser's own process, and a data channel message is only 64 KiB.
 */
const WRITE_BYTES = 1024 * 1024;

/** Web Locks held by each open page, so no page clears the files of another. */
const LOCK_PREFIX = "switchboard-incoming:";

/**
 * The parts of the File System Access API the page uses, which the DOM
 * library does not declare: Chromium has them, other browsers some or none.
 *
 * @typedef {object} FileAccessScope
 * @property {(options: { suggestedName: string }) => Promise<FileSystemFileHandle>} [showSaveFilePicker]
 * @property {(options: { mode: "readwrite" }) => Promise<FileSystemDirectoryHandle>} [showDirectoryPicker]
 */

/** @typedef {FileSystemHandle & { remove?: () => Promise<void> }} RemovableHandle */

/**
 * @param {unknown} error
 * @returns {string}
 */
function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {unknown} error
 * @returns {boolean} Whether a picker was closed without a choice.
 */
function cancelled(error) {
  return error instanceof DOMException && error.name === "AbortError";
}

/**
 * Gathers bytes into writes of `WRITE_BYTES`, with one buffer reused: each
 * write is awaited (the bytes are on disk) before the buffer fills again,
 * which also holds the sender back when the disk is the slower end.
 *
 * @param {FileSystemWritableFileStream} writable
 */
function batchedWriter(writable) {
  const buffer = new Uint8Array(WRITE_BYTES);
  let used = 0;
  return {
    /** @param {Uint8Array} bytes */
    async write(bytes) {
      let from = 0;
      while (from < bytes.length) {
        const part = bytes.subarray(from, from + buffer.length - used);
        buffer.set(part, used);
        used += part.length;
        from += part.length;
        if (used === buffer.length) await this.flush();
      }
    },
    async flush() {
      if (used === 0) return;
      const full = used;
      used = 0;
      await writable.write(buffer.subarray(0, full));
    },
  };
}

/**
 * A sink writing into a file handle through `createWritable()`: the bytes
 * go to a swap file beside it, which becomes the file on commit.
 *
 * @param {FileSystemFileHandle} handle
 * @param {object} options
 * @param {string} options.where What `where` says.
 * @param {string} options.saved What `outcome` says once committed.
 * @param {SaveKind} options.kind
 * @param {(() => Promise<void>) | undefined} options.remove Deletes the
 *   file on abort; without it the file is left as it was.
 * @returns {Promise<SaveSink>}
 */
async function handleSink(handle, { where, saved, kind, remove }) {
  const writable = await handle.createWritable();
  const writer = batchedWriter(writable);
  /** @type {SaveSink} */
  const sink = {
    kind,
    where,
    outcome: "",
    download: undefined,
    discard: () => Promise.resolve(),
    write: (bytes) => writer.write(bytes),
    async commit() {
      await writer.flush();
      await writable.close();
      sink.outcome = saved;
    },
    async abort() {
      // Drops the swap file; the file itself is as the picker or the folder left it.
      await writable.abort().catch(() => {});
      if (remove === undefined) {
        sink.outcome = `Nothing kept: ${handle.name} is left as it was`;
        return;
      }
      try {
        await remove();
        sink.outcome = "Nothing kept: what was written is deleted";
      } catch (error) {
        sink.outcome = `Could not delete ${handle.name}: ${errorText(error)}`;
      }
    },
  };
  return sink;
}

/**
 * Deletes the file of `handle`, where the browser can (`remove()`: Chromium
 * since 110); the folder holding a chosen file is not the page's to know.
 *
 * @param {FileSystemFileHandle} handle
 * @returns {(() => Promise<void>) | undefined}
 */
function remover(handle) {
  const removable = /** @type {RemovableHandle} */ (handle);
  if (typeof removable.remove !== "function") return undefined;
  return () => /** @type {() => Promise<void>} */ (removable.remove).call(handle);
}

/**
 * Asks the user where to save `name`, with the browser's save dialog. Call
 * it from the click that accepts the file: the dialog needs that click.
 *
 * @param {string} name The suggested name, already safe.
 * @param {FileAccessScope} [scope] Where the dialog is found; the page by default.
 * @returns {Promise<FileSystemFileHandle | undefined>} `undefined` when the
 *   user closed the dialog, or the browser has none.
 * @throws {DOMException} When the browser refused to show it (no click, a policy).
 */
export async function askWhereToSave(name, scope = /** @type {FileAccessScope} */ (globalThis)) {
  if (typeof scope.showSaveFilePicker !== "function") return undefined;
  try {
    return await scope.showSaveFilePicker({ suggestedName: name });
  } catch (error) {
    if (cancelled(error)) return undefined;
    throw error;
  }
}

/**
 * A sink into a file the user chose: written as it arrives, deleted on abort.
 *
 * @param {FileSystemFileHandle} handle From `askWhereToSave()`. The browser
 *   creates (or empties) the file when it is chosen, so an abort deletes it.
 * @returns {Promise<SaveSink>}
 */
export function chosenFileSink(handle) {
  return handleSink(handle, {
    kind: "chosen",
    where: `Writing to ${handle.name}, where you chose`,
    saved: `Saved as ${handle.name}, where you chose`,
    remove: remover(handle),
  });
}

/** @type {Promise<string> | undefined} */
let thisPage;

/**
 * This page's own token, under a Web Lock held while the page is open: its
 * files in the private storage are named after it.
 *
 * @returns {Promise<string>}
 */
function pageToken() {
  thisPage ??= new Promise((resolve) => {
    const token = crypto.randomUUID();
    if (navigator.locks === undefined) {
      resolve(token);
      return;
    }
    // The callback's promise never settles: the lock is held until the page goes.
    void navigator.locks.request(`${LOCK_PREFIX}${token}`, () => {
      resolve(token);
      return new Promise(() => {});
    });
  });
  return thisPage;
}

/** @type {Promise<FileSystemDirectoryHandle> | undefined} */
let incoming;

/** This page's files in the private storage, being received or waiting to be saved. @type {Set<string>} */
const ownFiles = new Set();

/**
 * The private storage's folder for incoming files, with what earlier pages
 * left there (closed, or crashed mid-transfer) cleared the first time.
 *
 * @returns {Promise<FileSystemDirectoryHandle>}
 */
function incomingFolder() {
  incoming ??= (async () => {
    const root = await navigator.storage.getDirectory();
    const folder = await root.getDirectoryHandle(INCOMING_FOLDER, { create: true });
    await pageToken();
    await clearStaleFiles(folder);
    // A closing page deletes its files if the browser lets it finish; what
    // is left is cleared by the next page opened.
    addEventListener("pagehide", (event) => {
      if (event.persisted) return;
      for (const name of ownFiles) void folder.removeEntry(name).catch(() => {});
    });
    return folder;
  })();
  // A refusal (storage blocked) is asked again next time.
  incoming.catch(() => incoming = undefined);
  return incoming;
}

/**
 * Clears what pages no longer open left in the private storage (closed
 * before their files were saved, or crashed mid-transfer). Call it when
 * the page starts; nothing happens where there is no private storage.
 *
 * @returns {Promise<void>}
 */
export async function clearLeftFiles() {
  if (typeof navigator.storage?.getDirectory !== "function") return;
  await incomingFolder().catch(() => {});
}

/**
 * Deletes the files in `folder` that belong to no open page: each page
 * holds a Web Lock named after the token its files start with. Without Web
 * Locks nothing can be told apart, and nothing is deleted.
 *
 * @param {FileSystemDirectoryHandle} folder
 * @returns {Promise<string[]>} The names deleted.
 */
export async function clearStaleFiles(folder) {
  if (navigator.locks === undefined) return [];
  const { held = [] } = await navigator.locks.query();
  const open = new Set(held.map((lock) => lock.name));
  /** @type {string[]} */
  const names = [];
  const entries = /** @type {AsyncIterable<string>} */ (
    /** @type {{ keys(): AsyncIterable<string> }} */ (/** @type {unknown} */ (folder)).keys()
  );
  for await (const name of entries) {
    const token = name.split(".")[0] ?? "";
    if (!open.has(`${LOCK_PREFIX}${token}`)) names.push(name);
  }
  const deleted = [];
  for (const name of names) {
    try {
      await folder.removeEntry(name);
      deleted.push(name);
    } catch {
      // Gone already, or still open in a page that has just closed: next time.
    }
  }
  return deleted;
}

let privateCount = 0;

const PRIVATE_WHERE = "this browser's storage; a Save link follows once verified";

/**
 * A sink into a new file in this browser's private storage: written as it
 * arrives, offered as `download` once committed (a `File` that reads from
 * disk), deleted on abort or by `discard()`, and by the next page opened
 * if this one closes first.
 *
 * @returns {Promise<SaveSink>}
 * @throws {DOMException} When the browser refuses its storage.
 */
export async function privateFileSink() {
  const folder = await incomingFolder();
  const handle = await folder.getFileHandle(`${await pageToken()}.${++privateCount}`, {
    create: true,
  });
  ownFiles.add(handle.name);
  const remove = async () => {
    await folder.removeEntry(handle.name);
    ownFiles.delete(handle.name);
  };
  const sink = await handleSink(handle, {
    kind: "private",
    where: `Writing to ${PRIVATE_WHERE}`,
    saved: "Verified; save it from this browser's storage",
    remove,
  });
  const commit = sink.commit;
  sink.commit = async () => {
    await commit();
    sink.download = await handle.getFile();
  };
  sink.discard = async () => {
    sink.download = undefined;
    await remove().catch(() => {});
  };
  return sink;
}

/**
 * A sink that keeps the file in memory, for a browser with no file storage.
 *
 * @param {number} size The offered size.
 * @returns {SaveSink}
 * @throws {RangeError} When `size` is above `MEMORY_LIMIT_BYTES`.
 */
export function memorySink(size) {
  if (size > MEMORY_LIMIT_BYTES) {
    throw new RangeError(
      `too large for this browser, which can keep only ${
        formatBytes(MEMORY_LIMIT_BYTES)
      } in memory`,
    );
  }
  /** @type {Uint8Array[]} */
  let chunks = [];
  /** @type {SaveSink} */
  const sink = {
    kind: "memory",
    where: `Kept in memory (this browser has no file storage: up to ${
      formatBytes(MEMORY_LIMIT_BYTES)
    })`,
    outcome: "",
    download: undefined,
    discard() {
      sink.download = undefined;
      return Promise.resolve();
    },
    write(bytes) {
      chunks.push(bytes);
      return Promise.resolve();
    },
    commit() {
      sink.download = new Blob(/** @type {BlobPart[]} */ (chunks), {
        type: "application/octet-stream",
      });
      chunks = [];
      sink.outcome = "Verified; save it from memory";
      return Promise.resolve();
    },
    abort() {
      chunks = [];
      sink.outcome = "Nothing kept";
      return Promise.resolve();
    },
  };
  return sink;
}

/**
 * Which storage the page has for incoming files, best first: a file the user
 * chooses, the private storage, or memory (then up to `MEMORY_LIMIT_BYTES`).
 *
 * @param {FileAccessScope} [scope] The page by default.
 * @returns {SaveKind}
 */
export function bestSaveKind(scope = /** @type {FileAccessScope} */ (globalThis)) {
  if (typeof scope.showSaveFilePicker === "function") return "chosen";
  if (typeof navigator.storage?.getDirectory === "function") return "private";
  return "memory";
}

/**
 * The sink for an accepted file: asks where to save it (call it from the
 * Accept click: the dialog needs that click), else, when there is no
 * dialog or the user closes it without choosing, the private storage, else
 * memory. Closing the dialog is not declining: the Reject button says no,
 * and the file is still received, to be saved from the page.
 *
 * @param {{ name: string, size: number }} file `name` already safe.
 * @param {FileAccessScope} [scope] The page by default.
 * @returns {Promise<SaveSink>}
 * @throws {RangeError} When only memory is left and the file is too large for it.
 */
export async function saveSinkFor(file, scope = /** @type {FileAccessScope} */ (globalThis)) {
  /** Why the dialog gave no file, when there is one. */
  let why = "";
  try {
    const handle = await askWhereToSave(file.name, scope);
    if (handle !== undefined) return await chosenFileSink(handle);
    if (typeof scope.showSaveFilePicker === "function") why = "No place chosen";
  } catch (error) {
    why = `Cannot ask where to save (${errorText(error)})`;
  }
  if (typeof navigator.storage?.getDirectory === "function") {
    try {
      const sink = await privateFileSink();
      if (why !== "") sink.where = `${why}: writing to ${PRIVATE_WHERE}`;
      return sink;
    } catch {
      // Storage refused (a private window may): memory is what is left.
    }
  }
  return memorySink(file.size);
}

/**
 * Asks the user for a folder to save a set of files into, with write access.
 * Call it from a click.
 *
 * @param {FileAccessScope} [scope] The page by default.
 * @returns {Promise<FileSystemDirectoryHandle | undefined>} `undefined` when
 *   the user closed the dialog, or the browser has none.
 * @throws {DOMException} When the browser refused to show it.
 */
export async function askForFolder(scope = /** @type {FileAccessScope} */ (globalThis)) {
  if (typeof scope.showDirectoryPicker !== "function") return undefined;
  try {
    return await scope.showDirectoryPicker({ mode: "readwrite" });
  } catch (error) {
    if (cancelled(error)) return undefined;
    throw error;
  }
}

/**
 * The components of a relative path of a set, `/`-separated. The protocol
 * has cleaned the path already; this refuses again what could leave the
 * chosen folder or name nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathParts } from "./save_targets.js";
 * assert.deepEqual(pathParts("photos/2024/a.jpg"), ["photos", "2024", "a.jpg"]);
 * assert.throws(() => pathParts("../a.jpg"), TypeError);
 * assert.throws(() => pathParts("/etc/passwd"), TypeError);
 * assert.throws(() => pathParts("a//b"), TypeError);
 * ```
 *
 * @param {string} relativePath
 * @returns {string[]}
 * @throws {TypeError} For an empty, `.` or `..` component, an absolute path
 *   (`/a`, `C:/a`), a backslash or a NUL.
 */
export function pathParts(relativePath) {
  const parts = relativePath.split("/");
  for (const part of parts) {
    if (part === "" || part === "." || part === ".." || /[\\\0]/.test(part)) {
      throw new TypeError(`not a relative path inside the folder: ${JSON.stringify(relativePath)}`);
    }
  }
  if (/^[A-Za-z]:$/.test(parts[0] ?? "")) {
    throw new TypeError(`not a relative path inside the folder: ${JSON.stringify(relativePath)}`);
  }
  return parts;
}

/**
 * The folder at `relativePath` inside `root`, made with every folder above
 * it if missing: also how an empty folder of a set arrives.
 *
 * @param {FileSystemDirectoryHandle} root
 * @param {string} relativePath
 * @returns {Promise<FileSystemDirectoryHandle>}
 * @throws {TypeError} For a path `pathParts()` refuses.
 */
export async function makeFolder(root, relativePath) {
  let folder = root;
  for (const part of pathParts(relativePath)) {
    folder = await folder.getDirectoryHandle(part, { create: true });
  }
  return folder;
}

/**
 * @param {FileSystemDirectoryHandle} folder
 * @param {string} name
 * @returns {Promise<boolean>}
 */
async function exists(folder, name) {
  try {
    await folder.getFileHandle(name);
    return true;
  } catch (error) {
    if (error instanceof DOMException && error.name === "TypeMismatchError") return true;
    return false;
  }
}

/**
 * A sink into the file at `relativePath` inside `root`, its folders made as
 * needed. A name already taken is not overwritten: the file takes
 * `name (1).ext` and so on. Aborted, it deletes the file it made (the
 * folders stay: other files of the set may be in them).
 *
 * @param {FileSystemDirectoryHandle} root From `askForFolder()`.
 * @param {string} relativePath `/`-separated, as the set lists it.
 * @returns {Promise<SaveSink & { path: string }>} `path` is where it is
 *   written, relative to `root`: another name if the offered one was taken.
 * @throws {TypeError} For a path `pathParts()` refuses.
 */
export async function folderFileSink(root, relativePath) {
  const parts = pathParts(relativePath);
  const name = /** @type {string} */ (parts.pop());
  const folder = parts.length === 0 ? root : await makeFolder(root, parts.join("/"));
  let free = name;
  for (let n = 1; await exists(folder, free); n++) free = numberedName(name, n);
  const handle = await folder.getFileHandle(free, { create: true });
  const path = [...parts, free].join("/");
  const sink = await handleSink(handle, {
    kind: "chosen",
    where: `Writing to ${path} in ${root.name}`,
    saved: `Saved as ${path} in ${root.name}`,
    remove: () => folder.removeEntry(free),
  });
  return Object.assign(sink, { path });
}

/**
 * Where a received set goes, inside a folder the user chose: each file at
 * its relative path through `folderFileSink()`, each empty folder through
 * `makeFolder()`. Each top folder of the set is made new (`photos`, else
 * `photos (1)`…), so a set never writes into a folder that was there before.
 *
 * @param {FileSystemDirectoryHandle} root From `askForFolder()`.
 * @returns {{
 *   open: (file: { path: string }) => Promise<SaveSink & { path: string }>,
 *   folders: (paths: readonly string[]) => Promise<void>,
 *   tops: () => string[],
 * }}
 */
export function folderSetTarget(root) {
  /** Each top folder as offered → as made. @type {Map<string, Promise<string>>} */
  const tops = new Map();
  /** @type {string[]} */
  const made = [];
  /** @param {string} path */
  const placed = async (path) => {
    const [top, ...rest] = pathParts(path);
    if (rest.length === 0) return /** @type {string} */ (top);
    let name = tops.get(/** @type {string} */ (top));
    if (name === undefined) {
      name = freeFolder(root, /** @type {string} */ (top));
      tops.set(/** @type {string} */ (top), name);
      made.push(await name);
    }
    return [await name, ...rest].join("/");
  };
  return {
    open: async (file) => folderFileSink(root, await placed(file.path)),
    async folders(paths) {
      for (const path of paths) await makeFolder(root, await placed(path));
    },
    tops: () => [...made],
  };
}

/**
 * Makes a folder named `name` in `root`, or `name (1)`… if taken.
 *
 * @param {FileSystemDirectoryHandle} root
 * @param {string} name
 * @returns {Promise<string>} The name made.
 */
async function freeFolder(root, name) {
  for (let n = 0; n < 1000; n++) {
    const candidate = n === 0 ? name : `${name} (${n})`;
    if (await exists(root, candidate) || await folderExists(root, candidate)) continue;
    await root.getDirectoryHandle(candidate, { create: true });
    return candidate;
  }
  throw new Error(`no free folder name for ${name}`);
}

/**
 * @param {FileSystemDirectoryHandle} folder
 * @param {string} name
 * @returns {Promise<boolean>}
 */
async function folderExists(folder, name) {
  try {
    await folder.getDirectoryHandle(name);
    return true;
  } catch {
    return false;
  }
}
