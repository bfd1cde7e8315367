/**
 * A cap on how many lines one kind of event may log per time window, for
 * events an outsider can cause at will (refused handshakes). Pure: the caller
 * passes the time.
 *
 * @module
 */

/** Whether to log this event, and how many were skipped since the last logged. */
export type Admission = { log: false } | { log: true; skipped: number };

/**
 * Admits up to `max` lines per `windowMs`; the rest are skipped and counted,
 * and the count is handed to the next line admitted so the log still says
 * how many there were.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogLimit } from "./log_limit.ts";
 * const limit = new LogLimit(2, 1000);
 * assert.deepEqual(limit.admit(0), { log: true, skipped: 0 });
 * assert.deepEqual(limit.admit(1), { log: true, skipped: 0 });
 * assert.deepEqual(limit.admit(2), { log: false });
 * assert.deepEqual(limit.admit(1000), { log: true, skipped: 1 });
 * ```
 */
export class LogLimit {
  #windowStart = -Infinity;
  #logged = 0;
  #skipped = 0;

  /**
   * @param max Lines per window.
   * @param windowMs The window's length in milliseconds.
   */
  constructor(readonly max: number, readonly windowMs: number) {}

  /** Decides for one event at time `now` (milliseconds). */
  admit(now: number): Admission {
    if (now - this.#windowStart >= this.windowMs) {
      this.#windowStart = now;
      this.#logged = 0;
    }
    if (this.#logged >= this.max) {
      this.#skipped++;
      return { log: false };
    }
    this.#logged++;
    const skipped = this.#skipped;
    this.#skipped = 0;
    return { log: true, skipped };
  }

  /** When the current window ends, in milliseconds; before any event, `-Infinity`. */
  get windowEndsAt(): number {
    return this.#windowStart + this.windowMs;
  }

  /**
   * Once the window is over, hands over the count of skipped events (and
   * forgets it), so it can be logged without waiting for another event;
   * 0 while the window lasts or when nothing was skipped.
   */
  takeSkipped(now: number): number {
    if (now < this.windowEndsAt) return 0;
    const skipped = this.#skipped;
    this.#skipped = 0;
    return skipped;
  }
}
