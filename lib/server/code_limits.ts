/**
 * How fast codes may be claimed and tried: per client address and per API
 * key. A nameplate serves one pairing and one wrong password ends it, so a
 * stranger guessing codes must spend a nameplate per guess; these limits cap
 * how many it can spend. Pure: the caller passes the time.
 *
 * Each instance counts its own clients: behind a load balancer the cluster's
 * limit is this times the instances a client can reach.
 *
 * @module
 */

import { TokenBucket } from "./rate_limit.ts";

/** A rate and burst, in codes. */
export interface CodeRate {
  /** Codes a minute, after the burst. */
  perMinute: number;
  /** Codes at once. */
  burst: number;
}

/** The default limits: a person types a few codes a minute; a program holds a key. */
export const DEFAULT_CODE_LIMITS = codeLimitsOf(10);

/**
 * The limits of `--code-rate N`: N a minute per address after a burst of
 * 2N; a key's clients together twelve times that.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeLimitsOf } from "./code_limits.ts";
 * assert.deepEqual(codeLimitsOf(10), {
 *   perAddress: { perMinute: 10, burst: 20 },
 *   perKey: { perMinute: 120, burst: 240 },
 * });
 * ```
 */
export function codeLimitsOf(perMinute: number): { perAddress: CodeRate; perKey: CodeRate } {
  return {
    perAddress: { perMinute, burst: 2 * perMinute },
    perKey: { perMinute: 12 * perMinute, burst: 24 * perMinute },
  };
}

// Past this many buckets, the full ones are forgotten (a new one starts full
// too), at most once a minute so that a crowd of busy buckets costs one scan.
const SWEEP_AT = 10_000;
const SWEEP_EVERY_MS = 60_000;

/**
 * Token buckets for `code_claim` and `code_use`, per address and per key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CodeLimits } from "./code_limits.ts";
 * const limits = new CodeLimits({
 *   perAddress: { perMinute: 1, burst: 2 },
 *   perKey: { perMinute: 60, burst: 60 },
 * });
 * assert.equal(limits.allow("203.0.113.7", undefined, 0), true);
 * assert.equal(limits.allow("203.0.113.7", undefined, 0), true);
 * assert.equal(limits.allow("203.0.113.7", undefined, 0), false); // the burst is spent
 * assert.equal(limits.allow("198.51.100.1", undefined, 0), true); // another address
 * assert.equal(limits.allow("203.0.113.7", undefined, 60_000), true); // a minute later
 * ```
 */
export class CodeLimits {
  readonly #rates: { perAddress: CodeRate; perKey: CodeRate };
  readonly #buckets = new Map<string, { bucket: TokenBucket; usedAt: number }>();
  #sweptAt = -Infinity;

  /** @param rates Per address, and per key (for clients that present one). */
  constructor(rates: { perAddress: CodeRate; perKey: CodeRate } = DEFAULT_CODE_LIMITS) {
    this.#rates = rates;
  }

  /**
   * Takes one code from the address's bucket and, with a key, the key's:
   * whether both had one. A refusal spends from neither, so one client at
   * an address it has used up cannot drain its key's bucket for the others.
   *
   * @param address The client's address key (an IPv4 address or an IPv6 /64).
   * @param tenant The SHA-256 of the client's key, if it presented one.
   * @param now The time in milliseconds.
   */
  allow(address: string, tenant: string | undefined, now: number): boolean {
    if (this.#buckets.size > SWEEP_AT && now - this.#sweptAt >= SWEEP_EVERY_MS) this.#sweep(now);
    const byAddress = this.#bucket(`a ${address}`, this.#rates.perAddress, now);
    const byKey = tenant === undefined
      ? undefined
      : this.#bucket(`k ${tenant}`, this.#rates.perKey, now);
    if (!byAddress.has(now) || (byKey !== undefined && !byKey.has(now))) return false;
    byKey?.take(now);
    return byAddress.take(now);
  }

  /** How many buckets are kept, for tests. */
  get size(): number {
    return this.#buckets.size;
  }

  #bucket(name: string, rate: CodeRate, now: number): TokenBucket {
    let entry = this.#buckets.get(name);
    if (entry === undefined) {
      entry = { bucket: new TokenBucket(rate.perMinute / 60, rate.burst, now), usedAt: now };
      this.#buckets.set(name, entry);
    }
    entry.usedAt = now;
    return entry.bucket;
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [name, entry] of this.#buckets) {
      if (now - entry.usedAt >= entry.bucket.msUntilFull()) this.#buckets.delete(name);
    }
  }
}
