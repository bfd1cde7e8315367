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

/** Why a grace window ended without a resume. */
export type WindowEnd = "timeout" | "overflow" | "revoked";

/** How resumable sessions behave, and what the server hears of them. */
export interface ResumeOptions {
  /** Seconds a session waits for its client after an abrupt loss; positive. */
  graceS: number;
  /** The most messages held for an away client. */
  maxQueued: number;
  /** The most bytes held for an away client, in all. */
  maxQueuedBytes: number;
  /** Counts resumes and the windows that ended without one. */
  metrics: { resumed(outcome: "resumed" | "failed" | WindowEnd): void };
  /**
   * This server holds nothing more of client `id`: its session is over, or
   * is kept where every instance can resume it. The server forgets its key.
   */
  released(id: string): void;
}

/** The outcome of resuming a session with its token. */
export type Resumed =
  | {
    ok: true;
    /** The session's id: the one the token was issued for. */
    id: string;
    /** The `session` message with the next token. */
    session: ServerMessage;
    /** What waited for the client, oldest first. */
    queued: ServerMessage[];
    /** Whether the client was away (its partner hears `peer_back`). */
    wasAway: boolean;
  }
  /** Unknown, spent, expired or another key's token; `unavailable` while shared state is out of reach. */
  | { ok: false; unavailable?: boolean };

/**
 * Resumable sessions: a client that asked for one gets a token, and after an
 * abrupt loss its id, pairing and what is sent to it wait for a grace window.
 * Whatever can be answered at once is answered synchronously.
 */
export interface SessionService {
  /** How many clients are away within a window (for a shared store: cluster-wide, recently counted). */
  readonly awayCount: number;
  /** A new session for `id`, of the key `tenant`: the `session` message, or `undefined` when off. */
  open(
    id: string,
    tenant: string | undefined,
  ): ServerMessage | undefined | Promise<ServerMessage | undefined>;
  /**
   * Resumes the session of `token` for a client of the key `tenant`: a
   * token of another key fails like an unknown one and leaves the session
   * to its owner. On success the token is spent.
   */
  resume(token: string, tenant: string | undefined): Resumed | Promise<Resumed>;
  /**
   * `id` lost its connection abruptly: whether its session now waits for it
   * (then its partner hears `peer_reconnecting`); `false` without a session.
   */
  lost(id: string): boolean;
  /** `id` left for good (a clean close, a broken limit): its session ends at once. */
  ended(id: string): void;
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
  /** Resumable sessions; none (every loss ends its session) by default. */
  resume?: ResumeOptions;
  /**
   * ICE servers for one client alone (TURN credentials issued to it), put
   * before `iceServers` in its `paired`. With this, `paired` goes out once
   * both partners' entries are ready, a moment after the accept.
   */
  iceServersFor?: (clientId: string) => Promise<readonly IceServer[]>;
  /**
   * The tenant rule: a client reaches only clients of the same key (here, the
   * key's SHA-256), and one it may not reach is answered exactly like an
   * unknown id. With no tenants, anyone may reach anyone.
   */
  tenantOf?: (clientId: string) => string | undefined;
  /**
   * The whole rule when access tokens grant pairings: the same tenant, and
   * grants that let each client pair with the other. Without it, the
   * tenant rule alone.
   */
  mayReach?: (from: string, to: string) => boolean;
  /**
   * The same rule for a signaling that checks it apart from this process:
   * what a client's token grants, as JSON `{"s": sub, "p": [subs]}` (no `p`:
   * anyone in its tenant); `undefined` for a client without a token.
   */
  grantOf?: (clientId: string) => string | undefined;
  /** What this server hears from the others that share its state. */
  cluster?: ClusterEvents;
  /**
   * Told once per pair across every instance when a pair is made and when
   * it ends (for webhooks); nothing by default.
   */
  pairEvents?: PairEvents;
  /** How long a nameplate (a pairing code's number) lives unused, in milliseconds. */
  codeTtlMs?: number;
}

/** How a pair was made: a request accepted, a code, two remembered devices. */
export type PairedBy = "request" | "code" | "device";

/** Pairs made and ended, as they happen. */
export interface PairEvents {
  /** `initiator` and `responder` are paired. */
  paired(initiator: string, responder: string, by: PairedBy): void;
  /** The pair of `a` and `b` ended; `a` is the one that unpaired or left. */
  ended(a: string, b: string, reason: PeerLeftReason): void;
}

/** What another instance can ask of this one; never called by the in-memory signaling. */
export interface ClusterEvents {
  /** `id` resumed its session on another instance: close its connection here (4000) and forget it. */
  superseded(id: string): void;
  /** These keys (SHA-256) were revoked on some instance: refuse them and close their clients here. */
  keysRevoked(tenants: readonly string[]): void;
}

/** A key a client registers with: its tenant, and how many clients it may have. */
export interface JoiningKey {
  /** The key's SHA-256. */
  tenant: string;
  /** Its client limit, if any: across every instance that shares the state. */
  maxClients?: number | undefined;
}

/** Whether a client could be made findable: `key_limit` when its key is full everywhere. */
export type Joined = "ok" | "unavailable" | "key_limit";

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
  /** Resumable sessions, kept where this signaling keeps its state. */
  readonly sessions: SessionService;
  /**
   * Makes a newly registered client findable by others. `undefined` when that
   * is done already; otherwise a promise of whether it worked (when not, the
   * client is refused with 1013).
   */
  joined(id: string, key?: JoiningKey): Promise<Joined> | undefined;
  /** Acts on one valid message; the refusal to answer with, at once or later. */
  handle(
    me: string,
    message: ClientMessage,
  ): Refused | undefined | Promise<Refused | undefined>;
  /** Forgets a client that disconnected and tells whoever needs to know. */
  disconnected(id: string, reason?: PeerLeftReason): void;
  /**
   * Keys were revoked here (the keys file was reloaded): sessions of theirs
   * away in a window end at once, and every other instance sharing the state
   * is told to close their clients.
   *
   * @param tenants The revoked keys' SHA-256.
   * @param kept Keys the reload still has (SHA-256), should an earlier revocation be undone.
   * @returns How many away sessions ended (once the shared store, if any, has answered).
   */
  revoke(tenants: readonly string[], kept: readonly string[]): number | Promise<number>;
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
