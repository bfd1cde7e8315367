/**
 * Signaling in this process's memory: consent-based pairing and relay
 * between partners, wired to the registry's sockets, one timer and the log.
 * The pairing rules themselves live in the pure `pairing.ts`; this module
 * turns their outcomes into messages.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import { DeadlineTimer } from "../runtime/deadline_timer.ts";
import { Pairing } from "./pairing.ts";
import {
  DEFAULT_CODE_TTL_MS,
  isNameplate,
  isRendezvous,
  nameplateMetrics,
  Nameplates,
} from "./nameplates.ts";
import {
  type ClientMessage,
  ErrorCode,
  type IceServer,
  MessageType,
  type PairCancelledReason,
  type PeerLeftReason,
  type ServerMessage,
} from "../protocol/messages.ts";
import { errorText } from "../runtime/safe_text.ts";
import type { Registry } from "../registry.ts";
import { Narration } from "./narration.ts";
import {
  acceptWhilePaired,
  badRendezvous,
  noPartner,
  noPendingRequest,
  notPaired,
  peerUnavailable,
  requestRefused,
  selfCode,
  unknownNameplate,
  unknownPeer,
} from "./refusals.ts";
import type {
  PairEvents,
  Peer,
  Refused,
  SessionService,
  SignalingFactory,
  SignalingOptions,
  SignalingService,
} from "./service.ts";
import { MemorySessions } from "./sessions/memory_sessions.ts";

const logger = getLogger(["switchboard", "signaling"]);

/** What `paired` carries besides the peer and role. */
type PairedExtras = { iceServers?: IceServer[]; by_code?: true; by_device?: true };

/** The earlier of two optional deadlines. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

const narrate = new Narration(logger);

/**
 * Pairs clients by consent and relays signaling between partners. Nothing is
 * ever delivered to a client that is not the sender's current partner, and
 * every relayed message carries the `from` the server stamps.
 *
 * @example
 * ```ts ignore
 * const signaling = new MemorySignaling(registry, { pairTimeoutMs: 30_000 });
 * const refused = signaling.handle(clientId, message);
 * if (refused) connection.send(errorMessage(refused.code, refused.reason));
 * ```
 */
export class MemorySignaling implements SignalingService {
  readonly #registry: Registry<Peer>;
  readonly #pairing: Pairing;
  readonly #sessions: MemorySessions;
  // Added to `paired` only when there are any, so other servers' bytes stay as they were.
  readonly #ice: { iceServers?: IceServer[] };
  readonly #iceFor: ((clientId: string) => Promise<readonly IceServer[]>) | undefined;
  // The pairing whose `paired` messages wait for per-client entries, by initiator.
  readonly #announcing = new Map<string, number>();
  #announceSerial = 0;
  readonly #canReach: (from: string, to: string) => boolean;
  readonly #pairEvents: PairEvents | undefined;
  readonly #tenantOf: (id: string) => string;
  readonly #nameplates: Nameplates;
  // Remembered devices waiting for each other, under the rendezvous they share.
  readonly #rendezvous: Nameplates;
  #codePairs = 0;
  #nameplatesExpired = 0;
  readonly #nameplateTimer = new DeadlineTimer(
    () => earliest(this.#nameplates.nextExpiryAt, this.#rendezvous.nextExpiryAt),
    (now) => this.#expireNameplates(now),
  );
  // One timer for every pending request on the server, due at the earliest expiry.
  readonly #timer = new DeadlineTimer(
    () => this.#pairing.nextExpiryAt,
    (now) => this.#expire(now),
  );

  /**
   * @param registry The connected clients, to find a partner's socket.
   * @param options The pairing timeout, ICE servers, sessions and tenant rule:
   * every option is honoured (`cluster` has nothing to tell one process).
   */
  constructor(registry: Registry<Peer>, options: SignalingOptions) {
    this.#registry = registry;
    this.#pairing = new Pairing({ timeoutMs: options.pairTimeoutMs });
    const iceServers = options.iceServers ?? [];
    this.#ice = iceServers.length > 0 ? { iceServers: [...iceServers] } : {};
    this.#iceFor = options.iceServersFor;
    const tenantOf = options.tenantOf ?? (() => undefined);
    this.#canReach = options.mayReach ?? ((from, to) => tenantOf(from) === tenantOf(to));
    this.#pairEvents = options.pairEvents;
    this.#tenantOf = (id) => tenantOf(id) ?? "";
    this.#nameplates = new Nameplates({ ttlMs: options.codeTtlMs ?? DEFAULT_CODE_TTL_MS });
    this.#rendezvous = new Nameplates({ ttlMs: options.codeTtlMs ?? DEFAULT_CODE_TTL_MS });
    this.#sessions = new MemorySessions(options.resume, {
      tenantOf,
      away: (id) => this.#away(id),
      back: (id) => this.#back(id),
      ended: (id, why) => this.disconnected(id, why === "timeout" ? "timeout" : "disconnected"),
    });
  }

  /** Sessions in this process's memory. */
  get sessions(): SessionService {
    return this.#sessions;
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
        if (!result.ok) return noPendingRequest(message.from);
        narrate.rejected(me, message.from);
        this.#send(message.from, {
          type: MessageType.PairRejected,
          peer: me,
          reason: "rejected",
        });
        return undefined;
      }
      case MessageType.CodeClaim:
        return this.#claimCode(me, now);
      case MessageType.CodeRelease:
        this.#nameplates.release(me);
        this.#nameplateTimer.reschedule();
        return undefined;
      case MessageType.CodeUse:
        return this.#useCode(me, message.nameplate, now);
      case MessageType.Meet:
        return this.#meet(me, message.rendezvous, now);
      case MessageType.Unpair: {
        const result = this.#pairing.unpair(me);
        if (!result.ok) return noPartner();
        narrate.unpaired(me, result.partner);
        this.#pairEvents?.ended(me, result.partner, "unpaired");
        this.#send(result.partner, { type: MessageType.PeerLeft, peer: me, reason: "unpaired" });
        return undefined;
      }
      default: {
        const partner = this.#pairing.partnerOf(me);
        if (partner === undefined) return notPaired(message.type);
        narrate.relayed(message.type, me, partner);
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
    const heldCode = this.#nameplates.release(id);
    const waited = this.#rendezvous.release(id);
    if (heldCode || waited) this.#nameplateTimer.reschedule();
    const { partner, dropped, withdrawn } = this.#pairing.remove(id);
    if (partner !== undefined) {
      narrate.left(id, partner);
      this.#pairEvents?.ended(id, partner, reason);
      this.#send(partner, { type: MessageType.PeerLeft, peer: id, reason });
    }
    for (const requester of dropped) {
      narrate.targetLeft(requester, id);
      this.#send(requester, { type: MessageType.PairRejected, peer: id, reason: "peer_left" });
    }
    for (const target of withdrawn) this.#cancelled(id, target, "peer_left");
    this.#timer.reschedule();
  }

  /** Ends the away sessions of revoked keys; there are no other instances to tell. */
  revoke(tenants: readonly string[], _kept: readonly string[]): number {
    return this.#sessions.revoke(tenants);
  }

  /**
   * `id` lost its connection and may resume it: its partner hears
   * `peer_reconnecting`, and its pairing and requests stay as they are.
   */
  #away(id: string): void {
    const partner = this.#pairing.partnerOf(id);
    if (partner === undefined) return;
    narrate.reconnecting(id, partner);
    this.#send(partner, { type: MessageType.PeerReconnecting, peer: id });
  }

  /** `id` resumed after it was away: its partner hears `peer_back`. */
  #back(id: string): void {
    const partner = this.#pairing.partnerOf(id);
    if (partner === undefined) return;
    narrate.back(id, partner);
    this.#send(partner, { type: MessageType.PeerBack, peer: id });
  }

  /** The nameplates held now, and the pairings made by code. */
  metricsText(): string {
    return nameplateMetrics(this.#nameplates.size, this.#codePairs, this.#nameplatesExpired);
  }

  /** Stops the timers and ends every session; for server shutdown. */
  close(): void {
    this.#timer.stop();
    this.#nameplateTimer.stop();
    this.#sessions.close();
  }

  #request(me: string, target: string, now: number): Refused | undefined {
    if (target !== me && (!this.#registry.has(target) || !this.#canReach(me, target))) {
      if (this.#sessions.isAway(target) && this.#canReach(me, target)) {
        return peerUnavailable(target);
      }
      return unknownPeer(target);
    }
    const result = this.#pairing.request(me, target, now);
    if (!result.ok) return requestRefused(result.code);
    if (result.replaced !== undefined) this.#cancelled(me, result.replaced, "replaced");
    if (!result.refreshed) {
      narrate.requested(me, target);
      this.#send(target, { type: MessageType.PairRequest, from: me });
    }
    this.#timer.reschedule();
    return undefined;
  }

  /** Gives `me` a nameplate (its previous one is released) and tells it the number. */
  #claimCode(me: string, now: number): Refused | undefined {
    if (this.#pairing.isPaired(me)) return acceptWhilePaired();
    const held = this.#nameplates.claim(me, this.#tenantOf(me), now);
    narrate.claimed(me, held.nameplate);
    this.#send(me, {
      type: MessageType.Nameplate,
      nameplate: held.nameplate,
      expires_s: this.#nameplates.ttlMs / 1000,
    });
    this.#nameplateTimer.reschedule();
    return undefined;
  }

  /**
   * Pairs `me` with the holder of `nameplate` at once: typing the code was
   * the consent, and the two prove the code's password to each other next.
   */
  #useCode(me: string, nameplate: string, now: number): Refused | undefined {
    if (this.#pairing.isPaired(me)) return acceptWhilePaired();
    if (!isNameplate(nameplate)) return unknownNameplate(nameplate);
    if (this.#nameplates.heldBy(me)?.nameplate === nameplate) return selfCode();
    const held = this.#nameplates.use(nameplate, this.#tenantOf(me), now);
    this.#nameplateTimer.reschedule();
    // A holder that is away, or paired by id meanwhile, has nothing to pair with.
    // So has one whose token's grants do not let the two pair: the code is spent either way.
    if (
      held === undefined || !this.#registry.has(held.holder) || !this.#canReach(me, held.holder)
    ) {
      return unknownNameplate(nameplate);
    }
    const asked = this.#pairing.request(me, held.holder, now);
    if (!asked.ok) return unknownNameplate(nameplate);
    if (asked.replaced !== undefined) this.#cancelled(me, asked.replaced, "replaced");
    narrate.codeUsed(me, held.holder, nameplate);
    this.#codePairs++;
    return this.#accept(held.holder, me, now, "code");
  }

  /**
   * Pairs `me` with the client waiting under `rendezvous`, or has it wait
   * there: two remembered devices meet, and prove their saved keys next.
   */
  #meet(me: string, rendezvous: string, now: number): Refused | undefined {
    if (this.#pairing.isPaired(me)) return acceptWhilePaired();
    if (!isRendezvous(rendezvous)) return badRendezvous();
    const tenant = this.#tenantOf(me);
    const waiting = this.#rendezvous.use(rendezvous, tenant, now);
    this.#nameplateTimer.reschedule();
    if (
      waiting !== undefined && waiting.holder !== me && this.#registry.has(waiting.holder) &&
      this.#canReach(me, waiting.holder)
    ) {
      const asked = this.#pairing.request(me, waiting.holder, now);
      if (asked.ok) {
        if (asked.replaced !== undefined) this.#cancelled(me, asked.replaced, "replaced");
        narrate.met(me, waiting.holder);
        return this.#accept(waiting.holder, me, now, "device");
      }
    }
    this.#rendezvous.hold(me, tenant, rendezvous, now);
    this.#nameplateTimer.reschedule();
    this.#send(me, { type: MessageType.MeetWaiting, expires_s: this.#rendezvous.ttlMs / 1000 });
    return undefined;
  }

  /** Tells the holders of nameplates that expired unused. */
  #expireNameplates(now: number): void {
    for (const held of this.#nameplates.expire(now)) {
      this.#nameplatesExpired++;
      narrate.nameplateExpired(held.holder, held.nameplate);
      this.#send(held.holder, { type: MessageType.NameplateExpired, nameplate: held.nameplate });
    }
    for (const held of this.#rendezvous.expire(now)) {
      this.#send(held.holder, { type: MessageType.MeetExpired });
    }
  }

  #accept(
    me: string,
    from: string,
    now: number,
    how: "code" | "device" | undefined = undefined,
  ): Refused | undefined {
    // Its request stays pending, with its own timeout, until it is back. Only
    // its own tenant may learn it is away: to others it is any unknown id.
    if (this.#sessions.isAway(from) && this.#canReach(me, from)) return peerUnavailable(from);
    // A dropped requester asked either `from` or me; note which before they go.
    const askedRequester = new Set(this.#pairing.pendingFrom(from));
    const result = this.#pairing.accept(me, from, now);
    if (!result.ok) {
      return result.code === ErrorCode.AlreadyPaired ? acceptWhilePaired() : noPendingRequest(from);
    }
    narrate.paired(from, me);
    this.#pairEvents?.paired(from, me, how === undefined ? "request" : how);
    // A client in a pair has no use for a nameplate: nobody else may pair with it by code.
    this.#nameplates.release(me);
    this.#nameplates.release(from);
    this.#rendezvous.release(me);
    this.#rendezvous.release(from);
    this.#nameplateTimer.reschedule();
    const code: { by_code?: true; by_device?: true } = how === "code"
      ? { by_code: true }
      : how === "device"
      ? { by_device: true }
      : {};
    if (this.#iceFor) this.#announceLater(from, me, this.#iceFor, code);
    else this.#announce(from, me, { ...this.#ice, ...code }, { ...this.#ice, ...code });
    for (const requester of result.dropped) {
      const peer = askedRequester.has(requester) ? from : me;
      narrate.targetPaired(requester, peer);
      this.#send(requester, { type: MessageType.PairRejected, peer, reason: "rejected" });
    }
    // Only the responder can have had a request of its own to someone else.
    for (const target of result.withdrawn) this.#cancelled(me, target, "paired");
    this.#timer.reschedule();
    return undefined;
  }

  /** Sends `paired` to both partners, the initiator first. */
  #announce(
    initiator: string,
    responder: string,
    initiatorIce: PairedExtras,
    responderIce: PairedExtras,
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
    code: { by_code?: true; by_device?: true },
  ): void {
    const serial = ++this.#announceSerial;
    this.#announcing.set(initiator, serial);
    const shared = this.#ice.iceServers ?? [];
    const entries = (own: readonly IceServer[]) => {
      const all = [...own, ...shared];
      return all.length > 0 ? { iceServers: all, ...code } : code;
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
    narrate.cancelled(requester, target, reason);
    this.#send(target, { type: MessageType.PairCancelled, from: requester, reason });
  }

  #send(id: string, message: ServerMessage): void {
    const entry = this.#registry.get(id);
    if (entry !== undefined) entry.socket.send(message);
    else this.#sessions.hold(id, message);
  }

  /** Ends the requests whose time is up: the requester hears `pair_rejected`, the target `pair_cancelled`. */
  #expire(now: number): void {
    for (const { requester, target } of this.#pairing.expire(now)) {
      narrate.timedOut(requester, target);
      this.#send(requester, { type: MessageType.PairRejected, peer: target, reason: "timeout" });
      this.#cancelled(requester, target, "timeout");
    }
  }
}

/**
 * Builds in-memory signaling; the server's default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "../registry.ts";
 * import { memorySignaling } from "./memory.ts";
 *
 * const signaling = memorySignaling(new Registry(), { pairTimeoutMs: 30_000 });
 * assert.equal(signaling.pairCount, 0);
 * signaling.close();
 * ```
 */
export const memorySignaling: SignalingFactory = (registry, options) =>
  new MemorySignaling(registry, options);
