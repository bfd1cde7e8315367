/**
 * A token bucket: the per-connection message rate limit. Pure: the caller
 * passes the time, so it is testable without a clock.
 *
 * @module
 */

/**
 * Allows `burst` messages at once and `rate` messages a second after that.
 * Two numbers per connection and no timer: refilling happens lazily in
 * {@linkcode TokenBucket.take}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenBucket } from "./rate_limit.ts";
 * const bucket = new TokenBucket(20, 50, 0);
 * for (let i = 0; i < 50; i++) assert.ok(bucket.take(0));
 * assert.equal(bucket.take(0), false); // the burst is spent
 * assert.equal(bucket.take(50), true); // a token a twentieth of a second later
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  /**
   * @param rate Tokens added per second.
   * @param burst The bucket's capacity, and its starting fill.
   * @param now The current time in milliseconds.
   * @throws {RangeError} When `rate` or `burst` is not positive.
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    if (!(rate > 0) || !(burst >= 1)) {
      throw new RangeError(
        `A rate limit needs rate > 0 and burst >= 1, got ${rate} and ${burst}`,
      );
    }
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /**
   * Takes one token if there is one.
   *
   * @param now The current time in milliseconds.
   * @returns Whether the message is within the limit.
   */
  take(now: number): boolean {
    if (!this.has(now)) return false;
    this.#tokens = Math.max(0, this.#tokens - 1);
    return true;
  }

  /**
   * Whether {@linkcode TokenBucket.take} would succeed now, without taking:
   * for a message that must pass two buckets and spend from neither unless
   * it passes both.
   *
   * @param now The current time in milliseconds.
   */
  has(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(
      this.burst,
      this.#tokens + (elapsed * this.rate) / 1000,
    );
    this.#updatedAt = now;
    // Refills of fractional tokens add up to 0.999…; don't lose that token.
    return this.#tokens >= 1 - 1e-9;
  }

  /** How long, from the last refill, until the bucket is full again, in milliseconds. */
  msUntilFull(): number {
    return ((this.burst - this.#tokens) / this.rate) * 1000;
  }
}
