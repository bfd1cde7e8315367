/**
 * The log of refusals (handshakes and a full server), which strangers can
 * cause at will: a {@linkcode LogLimit} caps the lines, and a timer reports
 * the count of those skipped when their window ends, so a burst that stops
 * is still accounted for.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import { type Admission, LogLimit } from "./log_limit.ts";

const logger = getLogger(["switchboard", "server"]);

/** Refusal lines: at most `max` per `windowMs`, the rest counted and reported. */
export class RefusalLog {
  readonly #limit: LogLimit;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param max Lines per window.
   * @param windowMs The window's length in milliseconds.
   */
  constructor(max: number, windowMs: number) {
    this.#limit = new LogLimit(max, windowMs);
  }

  /** Decides whether to log one refusal at `now` (milliseconds, `performance.now()`). */
  admit(now: number): Admission {
    const admission = this.#limit.admit(now);
    if (!admission.log && this.#timer === undefined) this.#arm(now);
    return admission;
  }

  /**
   * Logs one refusal as a warning, unless this window's lines are used up.
   * The first line after some were skipped says how many, with `withSkipped`.
   *
   * @param template The line, with `{placeholders}` from `properties`.
   * @param withSkipped The same line naming `{skipped}`, the refusals not logged before it.
   */
  warn(template: string, withSkipped: string, properties: Record<string, unknown>): void {
    const admission = this.admit(performance.now());
    if (!admission.log) return;
    logger.warn(admission.skipped > 0 ? withSkipped : template, {
      ...properties,
      skipped: admission.skipped,
    });
  }

  /** Stops the timer and reports any count still unreported; for shutdown. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#report(this.#limit.takeSkipped(Infinity));
  }

  #arm(now: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const at = performance.now();
      // A window that a later refusal opened is reported when it ends.
      if (at < this.#limit.windowEndsAt) this.#arm(at);
      else this.#report(this.#limit.takeSkipped(at));
    }, Math.max(0, this.#limit.windowEndsAt - now));
  }

  #report(skipped: number): void {
    if (skipped > 0) {
      logger.warn("{skipped} more refusals in the last {seconds} s were not logged.", {
        skipped,
        seconds: this.#limit.windowMs / 1000,
      });
    }
  }
}
