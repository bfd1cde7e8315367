/**
 * Reconnect delays: exponential backoff with jitter, so a fleet of clients
 * that lost the same server does not come back in lockstep.
 *
 * @module
 */

/**
 * The delay before retry number `attempt`: `base · 2^(attempt-1)`, capped at
 * `max`, of which the upper half is random ("equal jitter").
 *
 * @param attempt The retry number, from 1.
 * @param base The first delay, in milliseconds.
 * @param max The largest delay, in milliseconds.
 * @param random A source of numbers in [0, 1); `Math.random` by default.
 * @returns The delay in milliseconds, in `[d/2, d)` for the capped `d`.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * backoffDelay(3, 500, 30_000, () => 0); // 1000: half of 2000
 * ```
 */
export function backoffDelay(
  attempt: number,
  base: number,
  max: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}
