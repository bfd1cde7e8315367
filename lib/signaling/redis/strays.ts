/**
 * Events that reached an instance for a client it does not hold (yet): kept
 * for a short while, since a resume under way may be about to register the
 * client here, and bounded in count and bytes. Pure: the caller passes the
 * time.
 *
 * @module
 */

/** How long such events are kept, in milliseconds. */
export const STRAY_MS = 2000;

/** The default bounds: at most this many events, and this many bytes of them. */
export const STRAY_LIMITS: Readonly<StrayLimits> = {
  maxEvents: 10_000,
  maxBytes: 8 * 1024 * 1024,
  keepMs: STRAY_MS,
};

/** How many events may wait, how big, and for how long. */
export interface StrayLimits {
  /** The most events kept, for every client together. */
  maxEvents: number;
  /** The most bytes kept, for every client together. */
  maxBytes: number;
  /** How long a client's events are kept after the first arrived, in ms. */
  keepMs: number;
}

/**
 * Events waiting for clients not registered here, by client id, oldest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Strays } from "./strays.ts";
 * const strays = new Strays<string>({ maxEvents: 2, maxBytes: 100, keepMs: 1000 });
 * assert.ok(strays.keep("a", "first", 10, 0));
 * assert.ok(strays.keep("a", "second", 10, 1));
 * assert.ok(!strays.keep("b", "third", 10, 2), "full");
 * assert.deepEqual(strays.take("a"), ["first", "second"]);
 * assert.ok(strays.keep("b", "third", 10, 3));
 * strays.sweep(1003);
 * assert.deepEqual(strays.take("b"), []);
 * ```
 */
export class Strays<E> {
  readonly #limits: StrayLimits;
  readonly #byId = new Map<string, { at: number; events: E[]; bytes: number }>();
  #events = 0;
  #bytes = 0;

  /** @param limits The bounds; {@linkcode STRAY_LIMITS} by default. */
  constructor(limits: StrayLimits = STRAY_LIMITS) {
    this.#limits = limits;
  }

  /** How many events are kept. */
  get size(): number {
    return this.#events;
  }

  /**
   * Keeps `event` (`bytes` long) for `id`, making room from what is old
   * first; `false` when it does not fit even then (it is dropped).
   */
  keep(id: string, event: E, bytes: number, now: number): boolean {
    if (!this.#fits(bytes)) this.sweep(now);
    if (!this.#fits(bytes)) return false;
    const kept = this.#byId.get(id);
    if (kept === undefined) this.#byId.set(id, { at: now, events: [event], bytes });
    else {
      kept.events.push(event);
      kept.bytes += bytes;
    }
    this.#events++;
    this.#bytes += bytes;
    return true;
  }

  /** Takes what is kept for `id`, oldest first, and forgets it. */
  take(id: string): E[] {
    const kept = this.#byId.get(id);
    if (kept === undefined) return [];
    this.#byId.delete(id);
    this.#events -= kept.events.length;
    this.#bytes -= kept.bytes;
    return kept.events;
  }

  /** Forgets what has been kept for longer than the limit. */
  sweep(now: number): void {
    for (const [id, { at }] of this.#byId) {
      if (now - at >= this.#limits.keepMs) this.take(id);
    }
  }

  #fits(bytes: number): boolean {
    return this.#events < this.#limits.maxEvents && this.#bytes + bytes <= this.#limits.maxBytes;
  }
}
