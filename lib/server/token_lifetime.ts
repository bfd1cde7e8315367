/**
 * How long a token client's connection may last: a warning a minute before
 * its access token expires, and the close once it has, unless a fresh token
 * came meanwhile. The connection says what to do; this only keeps the time.
 *
 * @module
 */

import { CLOCK_SKEW_S } from "../auth/tokens.ts";

/** How long before the close a client hears `token_expiring`, in milliseconds. */
export const WARNING_MS = 60_000;

/**
 * How long a session outlives its token's `exp`, in milliseconds: the clock
 * difference allowed when it was accepted (the backend's clock may lag).
 */
export const OUTLIVES_EXP_MS = CLOCK_SKEW_S * 1000;

// The runtime takes a timer's delay as a signed 32-bit number: longer waits are made in steps.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** What a connection does when its token runs out. */
export interface TokenClock {
  /** Warns the client: `seconds` until the close. */
  expiring(seconds: number): void;
  /** Closes the connection: the token expired and no fresh one came. */
  expired(): void;
}

/**
 * The two timers of one token client. Once stopped, they stay stopped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenLifetime } from "./token_lifetime.ts";
 * const heard: string[] = [];
 * const { promise, resolve } = Promise.withResolvers<void>();
 * // A token that expired 29.99 s ago: warned at once, closed a moment later.
 * const lifetime = new TokenLifetime(Date.now() - 29_990, {
 *   expiring: () => heard.push("expiring"),
 *   expired: () => { heard.push("expired"); resolve(); },
 * });
 * await promise;
 * lifetime.stop();
 * assert.deepEqual(heard, ["expiring", "expired"]);
 * ```
 */
export class TokenLifetime {
  readonly #clock: TokenClock;
  #warning: ReturnType<typeof setTimeout> | undefined;
  #closing: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** @param expiresAt The token's `exp`, in milliseconds since the epoch. */
  constructor(expiresAt: number, clock: TokenClock) {
    this.#clock = clock;
    this.renew(expiresAt);
  }

  /** Starts over for a fresh token that expires at `expiresAt`; nothing once stopped. */
  renew(expiresAt: number): void {
    if (this.#stopped) return;
    this.#clear();
    const closeAt = expiresAt + OUTLIVES_EXP_MS;
    // One timer at a time per client: the close's is set once the warning is out.
    this.#at(closeAt - WARNING_MS, (timer) => this.#warning = timer, () => {
      this.#clock.expiring(TokenLifetime.secondsLeft(expiresAt));
      // The warning itself may have ended the connection (a client not reading).
      if (this.#stopped) return;
      this.#at(closeAt, (timer) => this.#closing = timer, () => this.#clock.expired());
    });
  }

  /** Seconds until the close, from now, for a token that expires at `expiresAt`. */
  static secondsLeft(expiresAt: number): number {
    return Math.max(0, Math.round((expiresAt + OUTLIVES_EXP_MS - Date.now()) / 1000));
  }

  /** Stops both timers for good; idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #clear(): void {
    clearTimeout(this.#warning);
    clearTimeout(this.#closing);
  }

  /** Calls `then` at the wall-clock time `at`, in steps the runtime's timers can take. */
  #at(
    at: number,
    keep: (timer: ReturnType<typeof setTimeout>) => void,
    then: () => void,
  ): void {
    const wait = Math.max(0, at - Date.now());
    keep(setTimeout(() => {
      if (this.#stopped) return;
      if (wait > LONGEST_TIMER_MS) this.#at(at, keep, then);
      else then();
    }, Math.min(wait, LONGEST_TIMER_MS)));
  }
}
