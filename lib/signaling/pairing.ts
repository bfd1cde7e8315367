/**
 * Pairing state: who asked whom to pair, and who is paired with
 * whom. Pure: no sockets, no logging, no timers. The caller passes the time as
 * `now` (ms) and sweeps with {@linkcode Pairing.expire} from one timer for the
 * whole server. Whether an id exists is the registry's business, not this one's.
 *
 * Invariants: partnership is symmetric; a paired client has no pending request
 * in either direction; a client has at most one outgoing request.
 *
 * @module
 */

import { ErrorCode } from "../protocol/messages.ts";

/** Why a pairing operation failed: the wire error codes it can answer with. */
export const PairError = {
  /** A client asked to pair with itself. */
  SelfPair: ErrorCode.SelfPair,
  /** The client acting already has a partner. */
  AlreadyPaired: ErrorCode.AlreadyPaired,
  /** The other client already has a partner. */
  PeerBusy: ErrorCode.PeerBusy,
  /** No live request from that requester to that target. */
  NoPendingRequest: ErrorCode.NoPendingRequest,
  /** The client has no partner to leave. */
  NotPaired: ErrorCode.NotPaired,
} as const;

/** A pairing error code. */
export type PairError = typeof PairError[keyof typeof PairError];

/** A failed operation, naming the {@linkcode PairError} keys it can fail with. */
export type PairFailure<K extends keyof typeof PairError> = {
  ok: false;
  code: typeof PairError[K];
};

/** A request from `requester` to pair with `target`, live until `expiresAt`. */
export interface PendingRequest {
  /** The client that asked, and the initiator if it is accepted. */
  readonly requester: string;
  /** The client that was asked. */
  readonly target: string;
  /** When the request times out, in milliseconds on the caller's clock. */
  readonly expiresAt: number;
}

/** Clients to tell about requests that a pairing or a disconnect ended. */
export interface Fallout {
  /**
   * Requesters whose requests were dropped: the server sends them
   * `pair_rejected`, reason `rejected` after an accept, `peer_left` after a remove.
   */
  dropped: string[];
  /**
   * Targets whose incoming request was withdrawn: the server sends them
   * `pair_cancelled`, reason `paired` after an accept (the request was the
   * responder's), `peer_left` after a remove.
   */
  withdrawn: string[];
}

/**
 * The outcome of {@linkcode Pairing.request}. `refreshed`: the same target was
 * asked again while pending, so only the expiry moved (no need to tell it
 * again). `replaced`: the target of the outgoing request this one replaced, to
 * send `pair_cancelled` reason `replaced`.
 */
export type RequestResult =
  | { ok: true; refreshed: boolean; replaced: string | undefined }
  | PairFailure<"SelfPair" | "AlreadyPaired" | "PeerBusy">;

/** The outcome of {@linkcode Pairing.accept}; `initiator` (the requester) makes the offer. */
export type AcceptResult =
  | ({ ok: true; initiator: string; responder: string } & Fallout)
  | PairFailure<"AlreadyPaired" | "NoPendingRequest">;

/** The outcome of {@linkcode Pairing.reject}: the requester to send reason `rejected`. */
export type RejectResult = { ok: true; requester: string } | PairFailure<"NoPendingRequest">;

/** The outcome of {@linkcode Pairing.unpair}: the former partner, to send `peer_left`. */
export type UnpairResult = { ok: true; partner: string } | PairFailure<"NotPaired">;

/** What `remove()` ended; a former `partner` gets `peer_left` reason `disconnected`. */
export type RemoveResult = Fallout & { partner: string | undefined };

/** Options for {@linkcode Pairing}. */
export interface PairingOptions {
  /** How long a request stays pending, in milliseconds; 30 seconds by default. */
  timeoutMs?: number;
}

/**
 * Pending pairing requests and established pairs. Every operation is O(1)
 * except those that return lists, which are O(length of the list).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pairing } from "./pairing.ts";
 * const pairing = new Pairing({ timeoutMs: 1_000 });
 * assert.deepEqual(pairing.request("alice", "bob", 0), {
 *   ok: true,
 *   refreshed: false,
 *   replaced: undefined,
 * });
 * assert.deepEqual(pairing.accept("bob", "alice", 500), {
 *   ok: true,
 *   initiator: "alice",
 *   responder: "bob",
 *   dropped: [],
 *   withdrawn: [],
 * });
 * assert.equal(pairing.partnerOf("bob"), "alice");
 * ```
 */
export class Pairing {
  /** How long a request stays pending, in milliseconds. */
  readonly timeoutMs: number;
  #partners = new Map<string, string>();
  // Requester → its one request. Also the expiry queue: all requests share one
  // timeout and a refresh re-inserts, so insertion order is expiry order. If
  // `now` goes backwards, a request expires late, never early.
  #outgoing = new Map<string, PendingRequest>();
  // Target → requesters, so accept and remove need not scan every request.
  #incoming = new Map<string, Set<string>>();

  /** @throws {RangeError} When `timeoutMs` is not a positive number. */
  constructor({ timeoutMs = 30_000 }: PairingOptions = {}) {
    if (!(timeoutMs > 0)) throw new RangeError(`Pairing timeout must be positive: ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
  }

  /**
   * Records that `from` asks `target`. Asking the same target again refreshes
   * the expiry; asking another replaces the previous request. Crossing
   * requests (each asked the other) stay two requests until one is accepted.
   */
  request(from: string, target: string, now: number): RequestResult {
    if (from === target) return { ok: false, code: PairError.SelfPair };
    if (this.#partners.has(from)) return { ok: false, code: PairError.AlreadyPaired };
    if (this.#partners.has(target)) return { ok: false, code: PairError.PeerBusy };
    const previous = this.#withdraw(from);
    this.#outgoing.set(from, { requester: from, target, expiresAt: now + this.timeoutMs });
    let requesters = this.#incoming.get(target);
    if (requesters === undefined) this.#incoming.set(target, requesters = new Set());
    requesters.add(from);
    const sameTarget = previous?.target === target;
    return {
      ok: true,
      // An expired request to the same target is a new request: the target may have dropped it.
      refreshed: sameTarget && previous.expiresAt > now,
      replaced: previous !== undefined && !sameTarget ? previous.target : undefined,
    };
  }

  /**
   * `target` accepts the live request from `from`: they become partners and all
   * other requests to or from either end. A requester that paired meanwhile has
   * no request left (its target was told), so that fails `no_pending_request`.
   */
  accept(target: string, from: string, now: number): AcceptResult {
    if (this.#partners.has(target)) return { ok: false, code: PairError.AlreadyPaired };
    const pending = this.#outgoing.get(from);
    // An expired request stays until expire() sweeps it, so the requester still hears `timeout`.
    if (pending === undefined || pending.target !== target || pending.expiresAt <= now) {
      return { ok: false, code: PairError.NoPendingRequest };
    }
    const fallout: Fallout = { dropped: [], withdrawn: [] };
    this.#clear(target, from, fallout);
    this.#clear(from, target, fallout);
    this.#partners.set(target, from).set(from, target);
    return { ok: true, initiator: from, responder: target, ...fallout };
  }

  /** `target` declines `from`'s request; an expired one not yet swept counts too. */
  reject(target: string, from: string): RejectResult {
    if (this.#outgoing.get(from)?.target !== target) {
      return { ok: false, code: PairError.NoPendingRequest };
    }
    this.#withdraw(from);
    return { ok: true, requester: from };
  }

  /**
   * Removes and returns requests with `expiresAt <= now`: their requesters hear
   * `pair_rejected` and their targets `pair_cancelled`, both reason `timeout`.
   */
  expire(now: number): PendingRequest[] {
    const expired: PendingRequest[] = [];
    for (const pending of this.#outgoing.values()) {
      if (pending.expiresAt > now) break;
      this.#withdraw(pending.requester);
      expired.push(pending);
    }
    return expired;
  }

  /** When the oldest request expires, for the server's one timer; `undefined` when none. */
  get nextExpiryAt(): number | undefined {
    return this.#outgoing.values().next().value?.expiresAt;
  }

  /** Ends `id`'s pairing, on both sides. */
  unpair(id: string): UnpairResult {
    const partner = this.#partners.get(id);
    if (partner === undefined) return { ok: false, code: PairError.NotPaired };
    this.#partners.delete(id);
    this.#partners.delete(partner);
    return { ok: true, partner };
  }

  /** Forgets a disconnected client's pairing and requests; idempotent, like `unregister`. */
  remove(id: string): RemoveResult {
    const unpaired = this.unpair(id);
    const fallout: Fallout = { dropped: [], withdrawn: [] };
    this.#clear(id, undefined, fallout);
    return { partner: unpaired.ok ? unpaired.partner : undefined, ...fallout };
  }

  /** `id`'s partner, or `undefined` when it has none. */
  partnerOf(id: string): string | undefined {
    return this.#partners.get(id);
  }

  /** Whether `id` has a partner. */
  isPaired(id: string): boolean {
    return this.#partners.has(id);
  }

  /** Who has asked `target`, oldest first; expired requests count until swept. */
  pendingFrom(target: string): string[] {
    return [...this.#incoming.get(target) ?? []];
  }

  /** Whom `requester` has asked, or `undefined`; an expired request counts until swept. */
  pendingTarget(requester: string): string | undefined {
    return this.#outgoing.get(requester)?.target;
  }

  /** How many pairs there are, for metrics. */
  get pairCount(): number {
    return this.#partners.size / 2;
  }

  /** How many requests are pending, expired ones included until swept. */
  get pendingCount(): number {
    return this.#outgoing.size;
  }

  /** Deletes `requester`'s outgoing request from both indexes and returns it. */
  #withdraw(requester: string): PendingRequest | undefined {
    const pending = this.#outgoing.get(requester);
    if (pending === undefined) return undefined;
    this.#outgoing.delete(requester);
    const requesters = this.#incoming.get(pending.target);
    // Empty sets would pile up over a long-running server's lifetime.
    if (requesters?.delete(requester) && requesters.size === 0) {
      this.#incoming.delete(pending.target);
    }
    return pending;
  }

  /** Ends every request to or from `id`, noting who to tell, except `partner`. */
  #clear(id: string, partner: string | undefined, fallout: Fallout): void {
    const outgoing = this.#withdraw(id);
    if (outgoing !== undefined && outgoing.target !== partner) {
      fallout.withdrawn.push(outgoing.target);
    }
    for (const requester of this.pendingFrom(id)) {
      this.#withdraw(requester);
      if (requester !== partner) fallout.dropped.push(requester);
    }
  }
}
