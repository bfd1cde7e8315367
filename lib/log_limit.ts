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
 * import { LogLimit } from "./log_limit.ts";
 * const limit = new LogLimit(2, 1000);
 * limit.admit(0); // { log: true, skipped: 0 }
 * limit.admit(1); // { log: true, skipped: 0 }
 * limit.admit(2); // { log: false }
 * limit.admit(1000); // { log: true, skipped: 1 }
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
}
