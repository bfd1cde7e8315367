/**
 * The signaling contract: what the server's connections need from pairing
 * and relay, whichever implementation holds the state. The in-memory one
 * (`memory.ts`) and the Redis one (`redis/`) both implement it; the server
 * is given one and never asks which.
 *
 * @module
 */

import type {
  ClientMessage,
  ErrorCode,
  IceServer,
  PeerLeftReason,
  ServerMessage,
} from "../protocol/messages.ts";
import type { Registry } from "../registry.ts";

/** A registered client, as signaling reaches it. */
export interface Peer {
  /** Sends one message; `false` when it could not. */
  send(message: ServerMessage): boolean;
}

/**
 * Clients that lost their connection but may resume it: their ids stay
 * theirs, and what is sent to them waits.
 */
export interface Absentees {
  /** Whether `id` is away and may come back. */
  isAway(id: string): boolean;
  /** Keeps a message for an away client (or ends its session when too many wait). */
  hold(id: string, message: ServerMessage): void;
}

/** A message the sender gets back instead of what it asked for. */
export interface Refused {
  /** The error code. */
  code: ErrorCode;
  /** A sentence naming what was wrong. */
  reason: string;
}

/**
 * What a server asks of its signaling. Every option but the timeout is a
 * promise to clients: an implementation that cannot keep one refuses it when
 * constructed (see {@linkcode refuseOptions}), never ignores it.
 */
export interface SignalingOptions {
  /** How long a pairing request stays pending, in milliseconds. */
  pairTimeoutMs: number;
  /** ICE servers both partners get in `paired`; none by default. */
  iceServers?: readonly IceServer[];
  /** Clients away within a grace window; none by default. */
  absentees?: Absentees;
  /**
   * ICE servers for one client alone (TURN credentials issued to it), put
   * before `iceServers` in its `paired`. With this, `paired` goes out once
   * both partners' entries are ready, a moment after the accept.
   */
  iceServersFor?: (clientId: string) => Promise<readonly IceServer[]>;
  /**
   * Whether `from` may ask `to` to pair (the tenant rule: same API key); a
   * client it may not reach is answered exactly like an unknown id. Anyone
   * may reach anyone by default.
   */
  canReach?: (from: string, to: string) => boolean;
}

/**
 * Pairing and relay as the server's connections use them. Nothing is ever
 * delivered to a client that is not the sender's current partner, and every
 * relayed message carries the `from` the server stamps. Whatever can be
 * answered at once is answered synchronously, so a local path never waits
 * on a promise.
 */
export interface SignalingService {
  /** Whether new clients can be served; `false` while shared state is out of reach. */
  readonly available: boolean;
  /** How many pairs this server's clients are in. */
  readonly pairCount: number;
  /** `id`'s partner, or `undefined`. */
  partnerOf(id: string): string | undefined;
  /**
   * Makes a newly registered client findable by others. `undefined` when that
   * is done already; otherwise a promise of whether it worked (when not, the
   * client is refused with 1013).
   */
  joined(id: string): Promise<boolean> | undefined;
  /** Acts on one valid message; the refusal to answer with, at once or later. */
  handle(
    me: string,
    message: ClientMessage,
  ): Refused | undefined | Promise<Refused | undefined>;
  /** Forgets a client that disconnected and tells whoever needs to know. */
  disconnected(id: string, reason?: PeerLeftReason): void;
  /**
   * A client of the `absentees` lost its connection and may come back: its
   * partner hears `peer_reconnecting`, and its pairing and requests stay.
   */
  away(id: string): void;
  /** A client back after {@linkcode SignalingService.away}: its partner hears `peer_back`. */
  back(id: string): void;
  /**
   * Counters of the implementation's own, as more families in the
   * Prometheus text format; `""` when it has none.
   */
  metricsText(): string;
  /** Stops timers and lets go of shared state; for server shutdown. */
  close(): void | Promise<void>;
}

/** Builds the signaling a server uses, given its registry and settings. */
export type SignalingFactory = (
  registry: Registry<Peer>,
  options: SignalingOptions,
) => SignalingService;

/**
 * Throws when `options` asks for something the implementation cannot do, so
 * that a caller never gets, say, a server that ignores the tenant rule.
 *
 * @param implementation The implementation's name, for the message.
 * @param options The options it was given.
 * @param unsupported The options it cannot honour, each with why.
 * @throws {TypeError} Naming the first unsupported option that is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseOptions } from "./service.ts";
 *
 * const why = { canReach: "the tenant rule is not shared" };
 * refuseOptions("Example", { pairTimeoutMs: 1000 }, why);
 * assert.throws(
 *   () => refuseOptions("Example", { pairTimeoutMs: 1000, canReach: () => true }, why),
 *   TypeError,
 * );
 * ```
 */
export function refuseOptions(
  implementation: string,
  options: SignalingOptions,
  unsupported: Partial<Record<keyof SignalingOptions, string>>,
): void {
  for (const [option, why] of Object.entries(unsupported)) {
    if (options[option as keyof SignalingOptions] !== undefined) {
      throw new TypeError(`${implementation} cannot honour the option ${option}: ${why}.`);
    }
  }
}
