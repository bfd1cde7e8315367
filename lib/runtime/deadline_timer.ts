/**
 * One timer for many deadlines: armed for the earliest, fired, then armed
 * again for whatever is earliest next. The shells of pure state machines
 * (pairing requests, resume windows) keep their deadlines as data and let
 * this own the only `setTimeout`.
 *
 * @module
 */

// setTimeout takes at most 2^31 - 1 ms; a longer delay fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay `setTimeout` keeps: at least 0 and at most 2^31 - 1 ms, since a
 * longer one would fire at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timerDelay } from "./deadline_timer.ts";
 *
 * assert.equal(timerDelay(-5), 0);
 * assert.equal(timerDelay(9.2), 10);
 * assert.equal(timerDelay(2 ** 40), 2 ** 31 - 1);
 * ```
 */
export function timerDelay(ms: number): number {
  // Rounded up: setTimeout drops the fraction, and a timer that fires before
  // its deadline finds nothing due and has to be armed again.
  return Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(ms)));
}

/**
 * A timer due at the earliest of a set of deadlines on the
 * `performance.now()` clock. It asks `nextDeadline` whenever it is
 * {@linkcode DeadlineTimer.reschedule}d and after each firing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineTimer } from "./deadline_timer.ts";
 *
 * const deadlines = [performance.now() + 5];
 * const fired: number[] = [];
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const timer = new DeadlineTimer(() => deadlines[0], (now) => {
 *   fired.push(now);
 *   deadlines.shift();
 *   resolve();
 * });
 * timer.reschedule();
 * await promise;
 * assert.equal(fired.length, 1);
 * assert.equal(timer.armed, false);
 * ```
 */
export class DeadlineTimer {
  readonly #nextDeadline: () => number | undefined;
  readonly #onDue: (now: number) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  /**
   * @param nextDeadline The earliest deadline now, or `undefined` when there is none.
   * @param onDue Called once the earliest deadline has passed, with the time;
   * it ends what is due, and the timer is armed again afterwards.
   */
  constructor(nextDeadline: () => number | undefined, onDue: (now: number) => void) {
    this.#nextDeadline = nextDeadline;
    this.#onDue = onDue;
  }

  /** Whether a firing is pending. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Arms the timer for the earliest deadline, unless it is armed for that or
   * an earlier one already; stops it when there is none. Call after any change
   * to the deadlines.
   */
  reschedule(): void {
    const next = this.#nextDeadline();
    if (next === undefined) return this.stop();
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#onDue(performance.now());
      this.reschedule();
    }, timerDelay(next - performance.now()));
  }

  /** Stops the timer; for shutdown, or when no deadline is left. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
