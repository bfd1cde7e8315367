/**
 * What the user picks or drops to send, as the file protocol offers it: one
 * file alone, or several files and folders as one set, each file with its
 * path inside what was picked and its bytes read from the browser a
 * megabyte at a time.
 *
 * @module
 */

import { MAX_LIST_CHARS, MAX_PATH_CHARS, MAX_SET_FILES } from "../shared/file_protocol.js";
import { setName } from "../shared/file_set.js";

/**
 * @typedef {import("../shared/file_transfer.js").FileSource} FileSource
 * @typedef {import("../shared/file_transfer.js").FileOffer} FileOffer
 * @typedef {import("../shared/file_transfer.js").FileSetSource} FileSetSource
 */

/**
 * @typedef {object} PickedFile A file to send and where it lies in what was picked.
 * @property {string} path `folder/sub/name.ext`, or the name alone.
 * @property {Blob} blob Its bytes.
 */

/**
 * @typedef {object} Picked What to offer: one file, or a set.
 * @property {FileOffer} offer
 * @property {FileSource} [source] For one file.
 * @property {FileSetSource} [sources] For a set.
 */

/** How much of a file the page reads at once: each read of a Blob is a round trip to the browser. */
export const READ_BYTES = 1024 * 1024;

/**
 * A source that reads `blob` in order, a megabyte at a time.
 *
 * @param {Blob} blob
 * @returns {FileSource}
 */
export function blobSource(blob) {
  let offset = 0;
  let block = new Uint8Array(0);
  let used = 0;
  return {
    read: async (max) => {
      if (used >= block.length) {
        block = new Uint8Array(await blob.slice(offset, offset + READ_BYTES).arrayBuffer());
        offset += block.length;
        used = 0;
      }
      const part = block.subarray(used, used + max);
      used += part.length;
      return part;
    },
    // A resumed file starts where the receiver's pieces end: a slice reads from anywhere.
    seek: (/** @type {number} */ at) => {
      offset = at;
      block = new Uint8Array(0);
      used = 0;
      return Promise.resolve();
    },
    close: () => {},
  };
}

/**
 * What to offer for `files` and empty `folders`: one file alone as itself,
 * anything else as a set named by what was picked.
 *
 * @param {readonly PickedFile[]} files
 * @param {readonly string[]} [folders]
 * @returns {Picked | undefined} Nothing when nothing was picked.
 * @throws {RangeError} Saying why, when the set is more than a receiver takes.
 */
export function offerOf(files, folders = []) {
  const [only] = files;
  if (files.length === 1 && folders.length === 0 && only && !only.path.includes("/")) {
    const blob = /** @type {File} */ (only.blob);
    return {
      offer: {
        name: only.path,
        size: blob.size,
        mime: blob.type || "application/octet-stream",
        // A picked file's time lets a receiver that kept part of it resume.
        ...(blob instanceof File ? { modified: blob.lastModified } : {}),
      },
      source: blobSource(blob),
    };
  }
  if (files.length + folders.length === 0) return undefined;
  if (files.length + folders.length > MAX_SET_FILES) {
    throw new RangeError(`more than ${MAX_SET_FILES} files and folders in one set`);
  }
  const paths = [...files.map((file) => file.path), ...folders];
  if (paths.some((path) => path.length > MAX_PATH_CHARS)) {
    throw new RangeError(`a path longer than ${MAX_PATH_CHARS} characters`);
  }
  if (paths.reduce((sum, path) => sum + path.length, 0) > MAX_LIST_CHARS) {
    throw new RangeError(`paths of more than ${MAX_LIST_CHARS} characters in all in one set`);
  }
  const listed = files.map(({ path, blob }) => ({ path, size: blob.size }));
  return {
    offer: {
      name: setName(listed, folders),
      size: listed.reduce((sum, file) => sum + file.size, 0),
      mime: "application/octet-stream",
      files: listed,
      folders: [...folders],
    },
    sources: {
      open: (_file, index) => {
        const picked = files[index];
        if (picked === undefined) return Promise.reject(new Error("no such file in the set"));
        // A file the user moved or changed since picking it fails to read here; the set goes on.
        return Promise.resolve(blobSource(picked.blob));
      },
    },
  };
}

/**
 * The files of a file input: with `webkitdirectory`, each with its path
 * inside the chosen folder (a folder picker lists no empty folders).
 *
 * @param {Iterable<File>} files
 * @returns {PickedFile[]}
 */
export function inputFiles(files) {
  return [...files].map((file) => ({ path: file.webkitRelativePath || file.name, blob: file }));
}

/**
 * What was dropped: files, and folders walked to their last file, empty
 * ones included, each path inside what was dropped.
 *
 * @param {DataTransfer} transfer
 * @returns {Promise<{ files: PickedFile[], folders: string[] }>}
 */
export async function droppedFiles(transfer) {
  /** @type {PickedFile[]} */
  const files = [];
  /** @type {string[]} */
  const folders = [];
  // Entries first, all at once: the list is emptied once the drop handler yields.
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.every((entry) => entry === null)) {
    return { files: inputFiles(transfer.files), folders };
  }
  for (const entry of entries) if (entry) await walk(entry, entry.name, files, folders);
  return { files, folders };
}

/**
 * @param {FileSystemEntry} entry
 * @param {string} path
 * @param {PickedFile[]} files
 * @param {string[]} folders
 */
async function walk(entry, path, files, folders) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) =>
      /** @type {FileSystemFileEntry} */ (entry).file(resolve, reject)
    );
    files.push({ path, blob: /** @type {File} */ (file) });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = /** @type {FileSystemDirectoryEntry} */ (entry).createReader();
  /** @type {FileSystemEntry[]} */
  const children = [];
  // readEntries gives a batch at a time (100 in Chromium) until an empty one.
  for (;;) {
    /** @type {FileSystemEntry[]} */
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  if (children.length === 0) {
    folders.push(path);
    return;
  }
  children.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const child of children) await walk(child, `${path}/${child.name}`, files, folders);
}
