/**
 * The receiving side's partials while the peer runs: which are in use by a
 * transfer (never found for another, never cleaned), which interrupted
 * files the user had taken from the partner (taken again without asking
 * when offered again), and the sinks that write, resume or keep them.
 * What a partial is on disk is `partials.ts`.
 *
 * @module
 */

import type { FileOffer } from "../../shared/file_transfer.js";
import { PartFile } from "./disk.ts";
import {
  checkPartial,
  cleanPartials,
  findPartial,
  KEEP_PARTIALS_HOURS,
  type Partial,
  recordHeader,
  removePartial,
  stalePartials,
} from "./partials.ts";

/** What a kept partial gave: its sink and what it claims, or nothing to resume from. */
export type Claimed =
  | { sink: PartFile; checked: Awaited<ReturnType<typeof checkPartial>> }
  | "fresh";

/** The partials of one download folder, as the transfers of this peer use them. */
export class KeptPartials {
  readonly #dir: string;
  readonly #maxAgeMs: number;
  // Partials in use by a transfer: not found for another, not cleaned.
  readonly #busy = new Set<string>();
  // Files the user took from a partner that were interrupted.
  readonly #consented = new Set<string>();

  /**
   * @param dir The download folder.
   * @param maxAgeMs How long a partial is kept; 0 keeps none.
   */
  constructor(dir: string, maxAgeMs = KEEP_PARTIALS_HOURS * 3600_000) {
    this.#dir = dir;
    this.#maxAgeMs = maxAgeMs;
  }

  /** Whether interrupted files are kept at all. */
  get keeps(): boolean {
    return this.#maxAgeMs > 0;
  }

  /** A kept partial for a single file's offer, when the folder can be read and it is not in use. */
  find(offer: FileOffer): Partial | undefined {
    if (recordHeader(offer) === undefined) return undefined;
    try {
      const read = Deno.permissions.querySync({ name: "read", path: this.#dir });
      return read.state === "granted" ? findPartial(this.#dir, offer, this.#busy) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A new `.part` for `offer`, with its record when the file can be resumed
   * (what is kept of an older version of it goes first: it can never be).
   */
  async create(offer: FileOffer): Promise<PartFile> {
    const header = this.keeps ? recordHeader(offer) : undefined;
    if (header !== undefined) {
      for (const part of stalePartials(this.#dir, offer, this.#busy)) removePartial(part);
    }
    const sink = await PartFile.create(this.#dir, offer.name, header);
    this.#busy.add(sink.partPath);
    return sink;
  }

  /**
   * Opens `partial` to resume `size` bytes: checks what it holds on disk and
   * claims what still matches. `"fresh"` when it is in use by another
   * transfer, or nothing matches (it is then removed).
   *
   * @throws {Error} When it cannot be read or opened (it is then removed).
   */
  async claim(partial: Partial, size: number): Promise<Claimed> {
    // Offered twice at once (the link came back and the user sent it again): one resumes it.
    if (this.#busy.has(partial.part)) return "fresh";
    this.#busy.add(partial.part);
    try {
      const checked = await checkPartial(partial, size);
      if (checked.have.length === 0) {
        this.release(partial.part);
        removePartial(partial.part);
        return "fresh";
      }
      return { sink: await PartFile.resume(this.#dir, partial, size), checked };
    } catch (error) {
      this.release(partial.part);
      try {
        removePartial(partial.part);
      } catch {
        // Left for the next clean.
      }
      throw error;
    }
  }

  /** A transfer no longer uses the partial at `part`. */
  release(part: string): void {
    this.#busy.delete(part);
  }

  /** The user took `offer` from `peer` and it was interrupted: offered again, it is taken. */
  consent(peer: string, offer: FileOffer): void {
    this.#consented.add(consentKey(peer, offer));
  }

  /** Whether the user took `offer` from `peer` before it was interrupted; asked once. */
  consented(peer: string, offer: FileOffer): boolean {
    return this.#consented.delete(consentKey(peer, offer));
  }

  /** Removes partials past their age or the bound, leaving those in use. */
  clean(): void {
    try {
      cleanPartials(this.#dir, { maxAgeMs: this.#maxAgeMs, keep: this.#busy });
    } catch {
      // The folder went away or cannot be read: nothing to clean.
    }
  }
}

/** What names an interrupted file the user took from `peer`: the partner, the name, size and time. */
function consentKey(peer: string, offer: FileOffer): string {
  return JSON.stringify([peer, offer.name, offer.size, offer.modified]);
}
