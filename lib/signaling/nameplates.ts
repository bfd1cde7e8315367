/**
 * Nameplates: the number at the front of a pairing code (`7` in
 * `7-tidy-orbit`), which is all the server ever learns of a code. A client
 * holds at most one; another client that names it is paired with the holder,
 * and the nameplate is spent. The words after the number are a password the
 * two peers prove to each other (a PAKE) without the server.
 *
 * Pure: no sockets, no timers. The caller passes the time as `now` (ms) and
 * sweeps with {@linkcode Nameplates.expire} from one timer. Nameplates are
 * numbered per tenant (a key's clients never meet another key's), short
 * while few are in use and longer as more are.
 *
 * @module
 */

/** How long a nameplate lives unused when the server does not say: five minutes. */
export const DEFAULT_CODE_TTL_MS = 300_000;

/**
 * The Prometheus families of pairing by code, for any signaling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameplateMetrics } from "./nameplates.ts";
 * assert.match(nameplateMetrics(2, 5, 1), /^switchboard_nameplates 2$/m);
 * ```
 */
export function nameplateMetrics(held: number, paired: number, expired: number): string {
  return [
    "# HELP switchboard_nameplates Nameplates (the numbers of pairing codes) held now.",
    "# TYPE switchboard_nameplates gauge",
    `switchboard_nameplates ${held}`,
    "# HELP switchboard_code_pairings_total Pairs made by a code.",
    "# TYPE switchboard_code_pairings_total counter",
    `switchboard_code_pairings_total ${paired}`,
    "# HELP switchboard_nameplates_expired_total Nameplates that expired unused.",
    "# TYPE switchboard_nameplates_expired_total counter",
    `switchboard_nameplates_expired_total ${expired}`,
    "",
  ].join("\n");
}

/** A nameplate someone holds. */
export interface HeldNameplate {
  /** The number, as the code shows it (`"7"`). */
  readonly nameplate: string;
  /** The client that holds it. */
  readonly holder: string;
  /** The holder's tenant (`""` for none). */
  readonly tenant: string;
  /** When it expires, in milliseconds on the caller's clock. */
  readonly expiresAt: number;
}

/** Options for {@linkcode Nameplates}. */
export interface NameplatesOptions {
  /** How long a nameplate lives unused, in milliseconds. */
  ttlMs: number;
  /** Random numbers in `[0, 1)`; `Math.random` is not used for numbers a stranger may guess. */
  random?: () => number;
}

// Numbers are drawn from 1–99 first; when that many are taken, 1–999, and so on.
const MAX_DIGITS = 9;
const TRIES_PER_LENGTH = 8;

/**
 * The nameplates held now, by tenant and number, and by holder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Nameplates } from "./nameplates.ts";
 * const plates = new Nameplates({ ttlMs: 60_000 });
 * const held = plates.claim("alice", "", 0);
 * assert.match(held.nameplate, /^[1-9]\d?$/);
 * assert.equal(plates.use(held.nameplate, "", 1000)?.holder, "alice");
 * assert.equal(plates.use(held.nameplate, "", 1000), undefined); // spent
 * ```
 */
export class Nameplates {
  readonly #ttlMs: number;
  readonly #random: () => number;
  // `${tenant}\n${nameplate}` → the nameplate. Insertion order is expiry order (one ttl for all).
  readonly #byNumber = new Map<string, HeldNameplate>();
  readonly #byHolder = new Map<string, HeldNameplate>();

  /** @throws {RangeError} When `ttlMs` is not positive. */
  constructor({ ttlMs, random = secureRandom }: NameplatesOptions) {
    if (!(ttlMs > 0)) throw new RangeError(`A nameplate's lifetime must be positive: ${ttlMs}`);
    this.#ttlMs = ttlMs;
    this.#random = random;
  }

  /** How long a nameplate lives unused, in milliseconds. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /**
   * Gives `holder` a new nameplate, releasing the one it held.
   *
   * @throws {RangeError} When no number is free (a billion held in one tenant).
   */
  claim(holder: string, tenant: string, now: number): HeldNameplate {
    this.release(holder);
    const nameplate = this.#freeNumber(tenant);
    const held = { nameplate, holder, tenant, expiresAt: now + this.#ttlMs };
    this.#byNumber.set(key(tenant, nameplate), held);
    this.#byHolder.set(holder, held);
    return held;
  }

  /**
   * Has `holder` hold the name it chose (a remembered devices' rendezvous),
   * releasing what it held; whoever held that name before loses it.
   */
  hold(holder: string, tenant: string, name: string, now: number): HeldNameplate {
    this.release(holder);
    const before = this.#byNumber.get(key(tenant, name));
    if (before !== undefined) this.#forget(before);
    const held = { nameplate: name, holder, tenant, expiresAt: now + this.#ttlMs };
    this.#byNumber.set(key(tenant, name), held);
    this.#byHolder.set(holder, held);
    return held;
  }

  /**
   * Spends the live nameplate `nameplate` of `tenant`, returning it;
   * `undefined` when none is held under that number (or it has expired).
   */
  use(nameplate: string, tenant: string, now: number): HeldNameplate | undefined {
    const held = this.#byNumber.get(key(tenant, nameplate));
    if (held === undefined || held.expiresAt <= now) return undefined;
    this.#forget(held);
    return held;
  }

  /** Releases what `holder` holds (it paired, left, or gave it up); the nameplate, if any. */
  release(holder: string): HeldNameplate | undefined {
    const held = this.#byHolder.get(holder);
    if (held !== undefined) this.#forget(held);
    return held;
  }

  /** What `holder` holds, or `undefined`. */
  heldBy(holder: string): HeldNameplate | undefined {
    return this.#byHolder.get(holder);
  }

  /** Removes and returns the nameplates with `expiresAt <= now`, for their holders to hear. */
  expire(now: number): HeldNameplate[] {
    const expired: HeldNameplate[] = [];
    for (const held of this.#byNumber.values()) {
      if (held.expiresAt > now) break;
      this.#forget(held);
      expired.push(held);
    }
    return expired;
  }

  /** When the oldest nameplate expires, for the caller's one timer; `undefined` when none. */
  get nextExpiryAt(): number | undefined {
    return this.#byNumber.values().next().value?.expiresAt;
  }

  /** How many nameplates are held, for metrics. */
  get size(): number {
    return this.#byNumber.size;
  }

  #forget(held: HeldNameplate): void {
    this.#byNumber.delete(key(held.tenant, held.nameplate));
    this.#byHolder.delete(held.holder);
  }

  #freeNumber(tenant: string): string {
    for (const nameplate of nameplateCandidates(this.#random)) {
      if (!this.#byNumber.has(key(tenant, nameplate))) return nameplate;
    }
    throw new RangeError("no free nameplate");
  }
}

/**
 * The numbers to try for a new nameplate, in order: a few random ones of
 * 1–99, then of 1–999, and so on up to nine digits. The first free one is
 * taken: a short code is easy to type, and a random one tells nobody how
 * many codes are out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameplateCandidates } from "./nameplates.ts";
 * const candidates = [...nameplateCandidates(() => 0.5)];
 * assert.equal(candidates[0], "50");
 * assert.equal(candidates.at(-1), "500000000");
 * ```
 */
export function* nameplateCandidates(random: () => number = secureRandom): Generator<string> {
  for (let digits = 2; digits <= MAX_DIGITS; digits++) {
    const range = 10 ** digits - 1;
    for (let i = 0; i < TRIES_PER_LENGTH; i++) {
      yield String(1 + Math.floor(random() * range));
    }
  }
}

/**
 * Whether `text` is a well-formed rendezvous: 64 lowercase hex digits (an HMAC-SHA-256).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRendezvous } from "./nameplates.ts";
 * assert.equal(isRendezvous("ab".repeat(32)), true);
 * assert.equal(isRendezvous("AB".repeat(32)), false);
 * ```
 */
export function isRendezvous(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}

/**
 * Whether `text` is a well-formed nameplate: 1 to 9 digits, no leading zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNameplate } from "./nameplates.ts";
 * assert.equal(isNameplate("42"), true);
 * assert.equal(isNameplate("042"), false);
 * assert.equal(isNameplate("4x"), false);
 * ```
 */
export function isNameplate(text: string): boolean {
  return /^[1-9]\d{0,8}$/.test(text);
}

function key(tenant: string, nameplate: string): string {
  return `${tenant}\n${nameplate}`;
}

function secureRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
}
