/**
 * Stage 2 signaling: consent-based pairing and relay between partners, wired
 * to the registry's sockets and the log. The pairing rules themselves live in
 * the pure `pairing.ts`; this module turns their outcomes into messages.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import { Pairing } from "./pairing.ts";
import {
  type ClientMessage,
  ErrorCode,
  type IceServer,
  MessageType,
  type PairCancelledReason,
  type PeerLeftReason,
  type ServerMessage,
} from "../protocol/messages.ts";
import { errorText, truncate } from "../runtime/safe_text.ts";
import type { Metrics } from "../metrics.ts";
import type { Registry } from "../registry.ts";

const logger = getLogger(["switchboard", "signaling"]);

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

/**
 * Pairing and relay as the server's connections use them. The in-memory
 * {@linkcode Signaling} is the default; a shared store (`lib/signaling/redis/`) is the
 * other implementation, chosen when the server starts. Whatever can be
 * answered at once is answered synchronously, so the in-memory path never
 * waits on a promise.
 */
export interface SignalingService {
  /** Whether new clients can be served; `false` while a shared store is out of reach. */
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
   * A resumable client lost its connection and may come back: its partner
   * hears `peer_reconnecting`. Only the in-memory signaling keeps absent
   * clients; a shared store runs with resume off, so never gets this call.
   */
  away?(id: string): void;
  /** An absent client resumed: its partner hears `peer_back`. */
  back?(id: string): void;
  /** Stops timers and lets go of shared state; for server shutdown. */
  close(): void | Promise<void>;
}

/** Builds the signaling a server uses, given its registry, settings and counters. */
export type SignalingFactory = (
  registry: Registry<Peer>,
  options: SignalingOptions,
  metrics: Metrics,
) => SignalingService;

/** Options for {@linkcode Signaling}. */
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

// setTimeout takes at most 2^31 - 1 ms; a longer delay fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A message the sender gets back instead of what it asked for. */
export interface Refused {
  /** The error code. */
  code: ErrorCode;
  /** A sentence naming what was wrong. */
  reason: string;
}

/**
 * Pairs clients by consent and relays signaling between partners. Nothing is
 * ever delivered to a client that is not the sender's current partner, and
 * every relayed message carries the `from` the server stamps.
 *
 * @example
 * ```ts ignore
 * const signaling = new Signaling(registry, { pairTimeoutMs: 30_000 });
 * const refused = signaling.handle(clientId, message);
 * if (refused) connection.send(errorMessage(refused.code, refused.reason));
 * ```
 */
export class Signaling implements SignalingService {
  readonly #registry: Registry<Peer>;
  readonly #pairing: Pairing;
  readonly #absentees: Absentees | undefined;
  // Added to `paired` only when there are any, so other servers' bytes stay as they were.
  readonly #ice: { iceServers?: IceServer[] };
  readonly #iceFor: ((clientId: string) => Promise<readonly IceServer[]>) | undefined;
  // The pairing whose `paired` messages wait for per-client entries, by initiator.
  readonly #announcing = new Map<string, number>();
  #announceSerial = 0;
  readonly #canReach: (from: string, to: string) => boolean;
  // One timer for every pending request on the server, due at the earliest expiry.
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  /**
   * @param registry The connected clients, to find a partner's socket.
   * @param options The pairing timeout.
   */
  constructor(registry: Registry<Peer>, options: SignalingOptions) {
    this.#registry = registry;
    this.#pairing = new Pairing({ timeoutMs: options.pairTimeoutMs });
    this.#absentees = options.absentees;
    const iceServers = options.iceServers ?? [];
    this.#ice = iceServers.length > 0 ? { iceServers: [...iceServers] } : {};
    this.#iceFor = options.iceServersFor;
    this.#canReach = options.canReach ?? (() => true);
  }

  /** Always `true`: memory is never out of reach. */
  readonly available = true;

  /** How many pairs exist now. */
  get pairCount(): number {
    return this.#pairing.pairCount;
  }

  /** `id`'s partner, or `undefined`. */
  partnerOf(id: string): string | undefined {
    return this.#pairing.partnerOf(id);
  }

  /** Nothing to do: the registry is all there is to find a client by. */
  joined(_id: string): undefined {
    return undefined;
  }

  /**
   * Acts on one valid message from a registered client.
   *
   * @returns `undefined` when done, or why it was refused (to answer with an
   * `error` message).
   */
  handle(
    me: string,
    message: ClientMessage,
    now: number = performance.now(),
  ): Refused | undefined {
    switch (message.type) {
      case MessageType.PairRequest:
        return this.#request(me, message.target, now);
      case MessageType.PairAccept:
        return this.#accept(me, message.from, now);
      case MessageType.PairReject: {
        const result = this.#pairing.reject(me, message.from);
        if (!result.ok) return noRequest(message.from);
        logger.info("Client {clientId} rejected pairing with {peerId}.", {
          clientId: me,
          peerId: message.from,
        });
        this.#send(message.from, {
          type: MessageType.PairRejected,
          peer: me,
          reason: "rejected",
        });
        return undefined;
      }
      case MessageType.Unpair: {
        const result = this.#pairing.unpair(me);
        if (!result.ok) return { code: result.code, reason: "you have no partner" };
        logger.info("Client {clientId} unpaired from {peerId}.", {
          clientId: me,
          peerId: result.partner,
        });
        this.#send(result.partner, { type: MessageType.PeerLeft, peer: me, reason: "unpaired" });
        return undefined;
      }
      default: {
        const partner = this.#pairing.partnerOf(me);
        if (partner === undefined) {
          return { code: ErrorCode.NotPaired, reason: `pair before sending "${message.type}"` };
        }
        logger.debug("Relayed {type} from {clientId} to {peerId}.", {
          type: message.type,
          clientId: me,
          peerId: partner,
        });
        this.#send(partner, { ...message, from: me });
        return undefined;
      }
    }
  }

  /**
   * Forgets a client that disconnected: its partner hears `peer_left` at once,
   * anyone waiting on a request to it hears `pair_rejected` (`peer_left`), and
   * the target of its own request hears `pair_cancelled` (`peer_left`).
   */
  disconnected(id: string, reason: PeerLeftReason = "disconnected"): void {
    const { partner, dropped, withdrawn } = this.#pairing.remove(id);
    if (partner !== undefined) {
      logger.info("Client {peerId} left; told its partner {clientId}.", {
        clientId: partner,
        peerId: id,
      });
      this.#send(partner, { type: MessageType.PeerLeft, peer: id, reason });
    }
    for (const requester of dropped) {
      logger.info("Pair request from {clientId} to {peerId} ended: the target left.", {
        clientId: requester,
        peerId: id,
      });
      this.#send(requester, { type: MessageType.PairRejected, peer: id, reason: "peer_left" });
    }
    for (const target of withdrawn) this.#cancelled(id, target, "peer_left");
    this.#schedule();
  }

  /**
   * `id` lost its connection and may resume it: its partner hears
   * `peer_reconnecting`, and its pairing and requests stay as they are.
   */
  away(id: string): void {
    const partner = this.#pairing.partnerOf(id);
    if (partner === undefined) return;
    logger.info("Client {peerId} is reconnecting; told its partner {clientId}.", {
      clientId: partner,
      peerId: id,
    });
    this.#send(partner, { type: MessageType.PeerReconnecting, peer: id });
  }

  /** `id` resumed after {@linkcode Signaling.away}: its partner hears `peer_back`. */
  back(id: string): void {
    const partner = this.#pairing.partnerOf(id);
    if (partner === undefined) return;
    logger.info("Client {peerId} is back; told its partner {clientId}.", {
      clientId: partner,
      peerId: id,
    });
    this.#send(partner, { type: MessageType.PeerBack, peer: id });
  }

  /** Stops the expiry timer; for server shutdown. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #request(me: string, target: string, now: number): Refused | undefined {
    if (target !== me && (!this.#registry.has(target) || !this.#canReach(me, target))) {
      if (this.#absentees?.isAway(target) && this.#canReach(me, target)) return unavailable(target);
      return {
        code: ErrorCode.UnknownPeer,
        reason: `no client has the id ${truncate(target, 40)}`,
      };
    }
    const result = this.#pairing.request(me, target, now);
    if (!result.ok) return { code: result.code, reason: REQUEST_REFUSALS[result.code] };
    if (result.replaced !== undefined) this.#cancelled(me, result.replaced, "replaced");
    if (!result.refreshed) {
      logger.info("Client {clientId} asked to pair with {peerId}.", {
        clientId: me,
        peerId: target,
      });
      this.#send(target, { type: MessageType.PairRequest, from: me });
    }
    this.#schedule();
    return undefined;
  }

  #accept(me: string, from: string, now: number): Refused | undefined {
    // Its request stays pending, with its own timeout, until it is back. Only
    // its own tenant may learn it is away: to others it is any unknown id.
    if (this.#absentees?.isAway(from) && this.#canReach(me, from)) return unavailable(from);
    // A dropped requester asked either `from` or me; note which before they go.
    const askedRequester = new Set(this.#pairing.pendingFrom(from));
    const result = this.#pairing.accept(me, from, now);
    if (!result.ok) {
      return result.code === ErrorCode.AlreadyPaired
        ? { code: result.code, reason: "unpair before accepting another request" }
        : noRequest(from);
    }
    logger.info("Clients {initiatorId} and {responderId} paired.", {
      initiatorId: from,
      responderId: me,
    });
    if (this.#iceFor) this.#announceLater(from, me, this.#iceFor);
    else this.#announce(from, me, this.#ice, this.#ice);
    for (const requester of result.dropped) {
      const peer = askedRequester.has(requester) ? from : me;
      logger.info(
        "Pair request from {clientId} to {peerId} ended: the target paired with another.",
        {
          clientId: requester,
          peerId: peer,
        },
      );
      this.#send(requester, { type: MessageType.PairRejected, peer, reason: "rejected" });
    }
    // Only the responder can have had a request of its own to someone else.
    for (const target of result.withdrawn) this.#cancelled(me, target, "paired");
    this.#schedule();
    return undefined;
  }

  /** Sends `paired` to both partners, the initiator first. */
  #announce(
    initiator: string,
    responder: string,
    initiatorIce: { iceServers?: IceServer[] },
    responderIce: { iceServers?: IceServer[] },
  ): void {
    this.#send(initiator, {
      type: MessageType.Paired,
      peer: responder,
      initiator: true,
      ...initiatorIce,
    });
    // A send can drop a client that does not read, and this pair with it:
    // then the responder has just heard peer_left, and must not hear paired after it.
    if (this.#pairing.partnerOf(responder) === initiator) {
      this.#send(responder, {
        type: MessageType.Paired,
        peer: initiator,
        initiator: false,
        ...responderIce,
      });
    }
  }

  /**
   * Sends `paired` once each partner's own entries are ready, unless the
   * pairing has ended meanwhile (then whoever is left has heard `peer_left`).
   */
  #announceLater(
    initiator: string,
    responder: string,
    iceFor: (clientId: string) => Promise<readonly IceServer[]>,
  ): void {
    const serial = ++this.#announceSerial;
    this.#announcing.set(initiator, serial);
    const shared = this.#ice.iceServers ?? [];
    const entries = (own: readonly IceServer[]) => {
      const all = [...own, ...shared];
      return all.length > 0 ? { iceServers: all } : {};
    };
    Promise.all([iceFor(initiator), iceFor(responder)]).catch((error) => {
      logger.error("Cannot issue ICE servers for {initiatorId} and {responderId}: {error}", {
        initiatorId: initiator,
        responderId: responder,
        error: errorText(error),
      });
      return [[], []] as const;
    }).then(([mine, theirs]) => {
      if (this.#announcing.get(initiator) !== serial) return;
      this.#announcing.delete(initiator);
      if (this.#pairing.partnerOf(initiator) !== responder) return;
      this.#announce(initiator, responder, entries(mine), entries(theirs));
    });
  }

  /** Tells `target` that `requester`'s request to it has ended, so it cannot accept it. */
  #cancelled(requester: string, target: string, reason: PairCancelledReason): void {
    // A timeout has its own line already.
    if (reason !== "timeout") {
      logger.info("Pair request from {clientId} to {peerId} cancelled ({reason}).", {
        clientId: requester,
        peerId: target,
        reason,
      });
    }
    this.#send(target, { type: MessageType.PairCancelled, from: requester, reason });
  }

  #send(id: string, message: ServerMessage): void {
    const entry = this.#registry.get(id);
    if (entry !== undefined) entry.socket.send(message);
    else this.#absentees?.hold(id, message);
  }

  #schedule(): void {
    const next = this.#pairing.nextExpiryAt;
    if (next === undefined) return this.close();
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      for (const { requester, target } of this.#pairing.expire(performance.now())) {
        logger.info("Pair request from {clientId} to {peerId} timed out.", {
          clientId: requester,
          peerId: target,
        });
        this.#send(requester, { type: MessageType.PairRejected, peer: target, reason: "timeout" });
        this.#cancelled(requester, target, "timeout");
      }
      this.#schedule();
    }, Math.min(MAX_TIMER_MS, Math.max(0, next - performance.now())));
  }
}

const REQUEST_REFUSALS = {
  [ErrorCode.SelfPair]: "you cannot pair with yourself",
  [ErrorCode.AlreadyPaired]: "you already have a partner; unpair first",
  [ErrorCode.PeerBusy]: "that client already has a partner",
} as const;

function unavailable(id: string): Refused {
  return {
    code: ErrorCode.PeerUnavailable,
    reason: `${truncate(id, 40)} lost its connection and may be back shortly; try again then`,
  };
}

function noRequest(from: string): Refused {
  return {
    code: ErrorCode.NoPendingRequest,
    reason: `no pending request from ${truncate(from, 40)}`,
  };
}
