// This module is browser compatible.
// @ts-check
/**
 * Reconnect delays: exponential backoff with jitter, so a fleet of clients
 * that lost the same server does not come back in lockstep. The command-line
 * peer and the page both wait this long.
 *
 * @module
 */

/**
 * The delay before retry number `attempt`: `d = base · 2^(attempt-1)`, no
 * more than `cap` (or `base`, when that is larger), lengthened by up to half
 * at random. The first retry therefore waits at least `base`, which is what
 * `--retry-delay` promises.
 *
 * @param {number} attempt The retry number, from 1.
 * @param {number} base The first delay, in milliseconds.
 * @param {number} cap The longest delay before jitter, in milliseconds.
 * @param {() => number} [random] A source of numbers in [0, 1); `Math.random` by default.
 * @returns {number} The delay in milliseconds, in `[d, 1.5·d)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffDelay } from "./backoff.js";
 * assert.equal(backoffDelay(1, 500, 30_000, () => 0), 500);
 * assert.equal(backoffDelay(3, 500, 30_000, () => 0), 2000);
 * assert.equal(backoffDelay(3, 500, 30_000, () => 0.5), 2500);
 * ```
 */
export function backoffDelay(attempt, base, cap, random = Math.random) {
  const delay = Math.min(Math.max(cap, base), base * 2 ** Math.max(0, attempt - 1));
  return delay + random() * (delay / 2);
}
