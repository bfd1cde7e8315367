/**
 * Where a received set goes on disk: its folders recreated under the
 * download folder and each file arriving as a `.part` beside its final
 * name. A top folder of the set is made new (`photos`, else `photos (1)`…):
 * a set never writes into a folder that was there before it, so it cannot
 * reach through a link or over a file it did not bring. Paths come made
 * safe by the protocol (`safeRelativePath`); they are checked again here.
 *
 * @module
 */

import type { FileSetTarget, FileSink, SetFile } from "../../shared/file_transfer.js";
import { join } from "node:path";
import { PartFile } from "./disk.ts";

/** How many numbered alternatives to try for a top folder. */
const MAX_ALTERNATIVES = 999;

/** A received set's place under the download folder. */
export class SetFolder implements FileSetTarget {
  readonly #dir: string;
  /** Each top folder of the set, as offered → as made. */
  readonly #tops = new Map<string, string>();
  /** Folders made (or found made by this set), relative to the download folder. */
  readonly #made = new Set<string>();

  /** @param dir The download folder. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Removes the folders this set made, deepest first, that are still empty:
   * for a set that kept nothing, so that nothing of it is left.
   */
  removeEmpty(): void {
    const made = [...this.#made, ...this.#tops.values()]
      .sort((a, b) => b.split("/").length - a.split("/").length);
    for (const relative of made) {
      try {
        // Not recursive: a folder with anything in it stays.
        Deno.removeSync(join(this.#dir, relative));
      } catch {
        // Not empty, or gone already.
      }
    }
  }

  /** The top folders the set was saved in, relative to the download folder, as made. */
  get tops(): string[] {
    return [...this.#tops.values()];
  }

  /** Makes the set's empty folders. */
  folders(paths: readonly string[]): Promise<void> {
    try {
      for (const path of paths) this.#folder(parts(path));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The `.part` file for the set's next file, its folders made first. */
  async open(file: SetFile): Promise<FileSink> {
    const components = parts(file.path);
    const name = components.pop()!;
    const folder = this.#folder(components);
    return await PartFile.create(folder, name);
  }

  /** Makes the folder at `components` (none: the download folder itself) and returns its path. */
  #folder(components: readonly string[]): string {
    if (components.length === 0) return this.#dir;
    const [top, ...rest] = components as [string, ...string[]];
    let made = this.#tops.get(top);
    if (made === undefined) {
      made = this.#newTop(top);
      this.#tops.set(top, made);
    }
    let relative = made;
    for (const component of rest) {
      relative = `${relative}/${component}`;
      if (this.#made.has(relative)) continue;
      const path = join(this.#dir, relative);
      try {
        // Synchronous, as in disk.ts: one short system call, no trip to a worker thread.
        Deno.mkdirSync(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        // Only a folder this set made may be entered; a file of the set in the way is not.
        const info = Deno.lstatSync(path);
        if (!info.isDirectory) throw new Error(`${relative} is a file, not a folder`);
      }
      this.#made.add(relative);
    }
    return join(this.#dir, relative);
  }

  #newTop(top: string): string {
    for (let n = 0; n <= MAX_ALTERNATIVES; n++) {
      const name = n === 0 ? top : `${top} (${n})`;
      try {
        // Not recursive: an existing folder (or link) of that name is never used.
        Deno.mkdirSync(join(this.#dir, name));
        return name;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
    }
    throw new Error(`no free folder name for ${top} in ${this.#dir}`);
  }
}

/** The components of a relative path, refusing any that could leave the folder. */
function parts(path: string): string[] {
  const components = path.split("/");
  for (const component of components) {
    if (component === "" || component === "." || component === ".." || component.includes("\\")) {
      throw new Error(`an unsafe path: ${path}`);
    }
  }
  return components;
}
