/**
 * Stage 2 signaling: consent-based pairing and relay between partners, wired
 * to the registry's sockets and the log. The pairing rules themselves live in
 * the pure `pairing.ts`; this module turns their outcomes into messages.
 *
 * @module
 */

import { getLogger } from "./deps.ts";
import { Pairing } from "./pairing.ts";
import {
  type ClientMessage,
  ErrorCode,
  type IceServer,
  MessageType,
  type PairCancelledReason,
  type ServerMessage,
} from "./protocol.ts";
import { truncate } from "./text.ts";
import type { Registry } from "./registry.ts";

const logger = getLogger(["switchboard", "signaling"]);

/** A registered client, as signaling reaches it. */
export interface Peer {
  /** Sends one message; `false` when it could not. */
  send(message: ServerMessage): boolean;
}

/** Options for {@linkcode Signaling}. */
export interface SignalingOptions {
  /** How long a pairing request stays pending, in milliseconds. */
  pairTimeoutMs: number;
  /** ICE servers both partners get in `paired`; none by default. */
  iceServers?: readonly IceServer[];
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
export class Signaling {
  readonly #registry: Registry<Peer>;
  readonly #pairing: Pairing;
  // Added to `paired` only when there are any, so other servers' bytes stay as they were.
  readonly #ice: { iceServers?: IceServer[] };
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
    const iceServers = options.iceServers ?? [];
    this.#ice = iceServers.length > 0 ? { iceServers: [...iceServers] } : {};
    this.#canReach = options.canReach ?? (() => true);
  }

  /** How many pairs exist now. */
  get pairCount(): number {
    return this.#pairing.pairCount;
  }

  /** `id`'s partner, or `undefined`. */
  partnerOf(id: string): string | undefined {
    return this.#pairing.partnerOf(id);
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
  disconnected(id: string): void {
    const { partner, dropped, withdrawn } = this.#pairing.remove(id);
    if (partner !== undefined) {
      logger.info("Client {peerId} left; told its partner {clientId}.", {
        clientId: partner,
        peerId: id,
      });
      this.#send(partner, { type: MessageType.PeerLeft, peer: id, reason: "disconnected" });
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

  /** Stops the expiry timer; for server shutdown. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #request(me: string, target: string, now: number): Refused | undefined {
    if (target !== me && (!this.#registry.has(target) || !this.#canReach(me, target))) {
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
    this.#send(from, { type: MessageType.Paired, peer: me, initiator: true, ...this.#ice });
    // A send can drop a client that does not read, and this pair with it:
    // then `me` has just heard peer_left, and must not hear paired after it.
    if (this.#pairing.partnerOf(me) === from) {
      this.#send(me, { type: MessageType.Paired, peer: from, initiator: false, ...this.#ice });
    }
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
    this.#registry.get(id)?.socket.send(message);
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

function noRequest(from: string): Refused {
  return {
    code: ErrorCode.NoPendingRequest,
    reason: `no pending request from ${truncate(from, 40)}`,
  };
}
