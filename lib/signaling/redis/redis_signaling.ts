/**
 * Signaling shared by several instances through Redis: the same contract and
 * rules as the in-memory signaling, with the state every instance must agree on
 * (who is where, who asked whom, who is paired) in Redis and changed only by
 * the scripts in `scripts.ts`. Each instance keeps its own clients'
 * partners too, so partners on the same instance are served locally, without
 * a round trip.
 *
 * @module
 */

import { getLogger } from "../../runtime/deps.ts";
import { timerDelay } from "../../runtime/deadline_timer.ts";
import {
  type ClientMessage,
  ErrorCode,
  type IceServer,
  MessageType,
  type PairCancelledReason,
  type PairRejectedReason,
  type PeerLeftReason,
  type ServerMessage,
} from "../../protocol/messages.ts";
import type { Registry } from "../../registry.ts";
import type {
  ClusterEvents,
  Joined,
  JoiningKey,
  PairedBy,
  PairEvents,
  Peer,
  Refused,
  SessionService,
  SignalingOptions,
  SignalingService,
} from "../service.ts";

// How a pair was made, from the suffix of a `p` event's reason.
const PAIRED_BY: Readonly<Record<string, PairedBy>> = { "": "request", c: "code", d: "device" };
import { Narration } from "../narration.ts";
import { DEFAULT_CODE_TTL_MS } from "../nameplates.ts";
import { RedisCodes } from "./codes.ts";
import {
  acceptWhilePaired,
  noPartner,
  noPendingRequest,
  notPaired,
  peerUnavailable,
  requestRefused,
  sharedStateUnreachable as unreachable,
  unknownPeer,
} from "../refusals.ts";
import { errorText, plural, truncate } from "../../runtime/safe_text.ts";
import type { RedisLink } from "./link.ts";
import { parseEvent, type ScriptName, type StoreEvent, toldEvents } from "./scripts.ts";
import { RedisSessions } from "./sessions.ts";
import { STRAY_MS, Strays } from "./strays.ts";

const logger = getLogger(["switchboard", "redis"]);
const narrate = new Narration(logger);

/** Timing of the heartbeat that tells live instances from dead ones. */
export interface HeartbeatOptions {
  /** How often each instance renews its key and looks for dead ones, in ms. */
  intervalMs: number;
  /** How long a key lives without renewal, in ms: an instance silent this long is dead. */
  ttlMs: number;
}

/** The defaults: a dead instance is noticed within 1.5 s + 0.25 s. */
export const DEFAULT_HEARTBEAT: Readonly<HeartbeatOptions> = { intervalMs: 250, ttlMs: 1500 };

const RELAYED: ReadonlySet<string> = new Set([
  MessageType.Pake,
  MessageType.Offer,
  MessageType.Answer,
  MessageType.Candidate,
  MessageType.Relay,
]);

/**
 * Pairing and relay across instances. `available` is false while Redis is
 * out of reach: then pairs within this instance carry on, pairs with clients
 * elsewhere end (both ends hear `peer_left`), and new clients are refused
 * until the link is back and every live client is registered again.
 */
export class RedisSignaling implements SignalingService {
  readonly #registry: Registry<Peer>;
  readonly #link: RedisLink;
  readonly #instance: string;
  readonly #timeoutMs: number;
  readonly #heartbeat: HeartbeatOptions;
  readonly #ice: { iceServers?: IceServer[] };
  readonly #iceFor: ((clientId: string) => Promise<readonly IceServer[]>) | undefined;
  readonly #tenantOf: (clientId: string) => string | undefined;
  readonly #grantOf: (clientId: string) => string | undefined;
  readonly #pairEvents: PairEvents | undefined;
  readonly #cluster: ClusterEvents | undefined;
  readonly #sessions: RedisSessions;
  // Clients whose `paired` waits for their own ICE servers: what else is sent to them waits behind it.
  readonly #holdBack = new Map<string, ServerMessage[]>();
  // Events for clients not registered here, by id: a resume may be about to register them.
  readonly #strays = new Strays<StoreEvent>();
  // Revocations made while Redis was out of reach, sent when it is back.
  readonly #unsentRevocations = { revoked: new Set<string>(), kept: new Set<string>() };
  // This instance's clients that have a partner, anywhere → the partner.
  readonly #partners = new Map<string, string>();
  // This instance's clients with a request out → its target and expiry timer.
  readonly #outgoing = new Map<string, { target: string; timer: ReturnType<typeof setTimeout> }>();
  // Clients with a call under way: their next messages wait behind it, in order.
  readonly #busy = new Map<string, Promise<void>>();
  // Its clients' codes and meetings (kept in Redis).
  readonly #codes: RedisCodes;
  #available = true;
  #closed = false;
  #tick: ReturnType<typeof setTimeout> | undefined;
  #recovering = false;

  /**
   * @param registry This instance's clients.
   * @param link The connected link to Redis.
   * @param instance This instance's id, as `RedisLink` subscribed it.
   * @param options The pairing timeout, ICE servers, tenant rule, sessions
   *   and cluster events: every option is honoured, across instances.
   * @param heartbeat How instances notice each other's death.
   * @param revoked Keys (SHA-256) revoked in the cluster when this instance entered.
   */
  constructor(
    registry: Registry<Peer>,
    link: RedisLink,
    instance: string,
    options: SignalingOptions,
    heartbeat: HeartbeatOptions = DEFAULT_HEARTBEAT,
    revoked: readonly string[] = [],
  ) {
    this.#registry = registry;
    this.#link = link;
    this.#instance = instance;
    this.#timeoutMs = options.pairTimeoutMs;
    this.#codes = new RedisCodes({
      available: () => this.#available,
      call: (name, args) => this.#call(name, args),
      queue: (id, op) => void this.#queue(id, op),
      send: (id, message) => this.#send(id, message),
      gone: (code) => this.#gone(code),
      logTold: (reply, from, op) => this.#logTold(reply, from, op),
    }, options.codeTtlMs ?? DEFAULT_CODE_TTL_MS);
    this.#heartbeat = heartbeat;
    const iceServers = options.iceServers ?? [];
    this.#ice = iceServers.length > 0 ? { iceServers: [...iceServers] } : {};
    this.#iceFor = options.iceServersFor;
    this.#tenantOf = options.tenantOf ?? (() => undefined);
    this.#grantOf = options.grantOf ?? (() => undefined);
    this.#pairEvents = options.pairEvents;
    this.#cluster = options.cluster;
    this.#sessions = new RedisSessions(options.resume, {
      instance,
      available: () => this.#available,
      call: (name, args) => this.#link.call(name, args),
      queue: (id, op) => this.#queue(id, op),
      lost: (reason) => this.#lost(reason),
      away: (id) => this.#wentAway(id),
      arrived: (id, partner, target, leftMs, queued) =>
        this.#arrived(id, partner, target, leftMs, queued),
    });
    // Once the server that builds this signaling has finished building itself.
    if (revoked.length > 0) queueMicrotask(() => this.#cluster?.keysRevoked(revoked));
    this.#schedule();
  }

  /** Resumable sessions, kept in Redis: a client resumes on whichever instance it reaches. */
  get sessions(): SessionService {
    return this.#sessions;
  }

  /** Whether Redis is reachable and this instance registered with it. */
  get available(): boolean {
    return this.#available;
  }

  /** Pairs this instance's clients are in; a pair within the instance counts once. */
  get pairCount(): number {
    let count = 0;
    for (const partner of this.#partners.values()) count += this.#registry.has(partner) ? 0.5 : 1;
    return count;
  }

  /** `id`'s partner as this instance knows it, or `undefined`. */
  partnerOf(id: string): string | undefined {
    return this.#partners.get(id);
  }

  /**
   * Registers the client in Redis, with its key: a key at its client limit
   * across the cluster is refused. Its messages wait until that is done.
   */
  joined(id: string, key?: JoiningKey): Promise<Joined> {
    if (!this.#available) return Promise.resolve("unavailable");
    const limit = key?.maxClients === undefined ? "" : String(key.maxClients);
    return this.#queue(id, async () => {
      const reply = await this.#call(
        "join",
        [this.#instance, id, key?.tenant ?? "", limit, this.#grantOf(id) ?? ""],
        true,
      );
      if (reply?.[0] === "ok") return "ok";
      if (reply?.[0] === "key_limit") return "key_limit";
      if (reply?.[0] === "gone") this.#lost("this instance was presumed dead");
      return "unavailable";
    });
  }

  /** Acts on one message: a relay to a partner here at once, anything else through Redis. */
  handle(me: string, message: ClientMessage): Refused | undefined | Promise<Refused | undefined> {
    if (RELAYED.has(message.type) && !this.#busy.has(me)) {
      const partner = this.#partners.get(me);
      if (partner === undefined) return notPaired(message.type);
      if (this.#registry.has(partner)) return this.#relayHere(me, partner, message);
    }
    return this.#queue(me, () => this.#handle(me, message));
  }

  /** Forgets a client: in Redis when reachable (others are told from there), else here. */
  disconnected(id: string): void {
    const partner = this.#partners.get(id);
    this.#partners.delete(id);
    this.#codes.forget(id);
    this.#forgetRequest(id);
    this.#holdBack.delete(id);
    this.#sessions.forget(id);
    if (!this.#available) {
      // Only pairs within this instance are left; Redis is put right on rejoin.
      if (partner !== undefined && this.#partners.get(partner) === id) {
        this.#partners.delete(partner);
        narrate.left(id, partner);
        this.#pairEvents?.ended(id, partner, "disconnected");
        this.#send(partner, { type: MessageType.PeerLeft, peer: id, reason: "disconnected" });
      }
      return;
    }
    this.#queue(id, async () => {
      // After any call of the client's still under way (a session being opened, say).
      this.#sessions.forget(id);
      const reply = await this.#call("leave", [this.#instance, id], true);
      if (reply) this.#logTold(reply, 1, "leave");
    });
  }

  /**
   * Records the revocation in Redis for every instance, present and to come;
   * each live instance closes its clients of these keys, and away sessions
   * of theirs end, their partners told first.
   *
   * @returns How many away sessions ended, cluster-wide.
   */
  async revoke(tenants: readonly string[], kept: readonly string[]): Promise<number> {
    const reply = await this.#call("revoke", [
      this.#instance,
      String(tenants.length),
      ...tenants,
      ...kept,
    ]);
    if (reply === undefined) {
      // Kept for when Redis is back: the other instances must hear of it then.
      for (const tenant of tenants) {
        this.#unsentRevocations.revoked.add(tenant);
        this.#unsentRevocations.kept.delete(tenant);
      }
      for (const tenant of kept) {
        this.#unsentRevocations.kept.add(tenant);
        this.#unsentRevocations.revoked.delete(tenant);
      }
      logger.warn(
        "Cannot reach the shared registry: the other instances hear of the revoked keys when it is back.",
      );
      return 0;
    }
    const ended = Number(reply[1] ?? 0);
    for (let i = 0; i < ended; i++) this.#sessions.counted("revoked");
    // Partners here hear `peer_left` now, before the caller closes this instance's clients.
    for (const event of toldEvents(reply, 2)) {
      if (this.#registry.has(event.to)) this.#deliver(event);
    }
    return ended;
  }

  /**
   * Redis round trips, cross-instance traffic and instances removed, and the
   * codes of this instance's clients, for `/metrics`.
   */
  metricsText(): string {
    return this.#link.metrics.render() + this.#codes.metricsText();
  }

  /** Stops the heartbeat, lets pending calls finish, and leaves Redis: others forget this instance at once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#tick);
    for (const { timer } of this.#outgoing.values()) clearTimeout(timer);
    this.#outgoing.clear();
    this.#codes.close();
    await Promise.all(this.#busy.values());
    this.#sessions.close();
    if (this.#available) {
      try {
        await this.#link.call("exit", [this.#instance]);
      } catch (error) {
        logger.warn("Could not leave Redis cleanly ({error}); others will notice in {seconds} s", {
          error: errorText(error),
          seconds: this.#heartbeat.ttlMs / 1000,
        });
      }
    }
    await this.#link.close();
  }

  /** Runs `op` after the client's calls under way, keeping its messages in order. */
  #queue<T>(id: string, op: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(id);
    const run = before === undefined ? op() : before.then(op);
    const done = run.then(() => {}, () => {});
    this.#busy.set(id, done);
    done.then(() => {
      if (this.#busy.get(id) === done) this.#busy.delete(id);
    });
    return run;
  }

  /**
   * One script call; `undefined` when it failed, which also marks Redis lost.
   * With `batch`, it goes with the other joins and leaves of this turn.
   */
  async #call(name: ScriptName, args: string[], batch = false): Promise<unknown[] | undefined> {
    if (!this.#available) return undefined;
    try {
      if (batch && (name === "join" || name === "leave")) {
        return await this.#link.batched(name, args);
      }
      return await this.#link.call(name, args);
    } catch (error) {
      this.#lost(errorText(error));
      return undefined;
    }
  }

  async #handle(me: string, message: ClientMessage): Promise<Refused | undefined> {
    switch (message.type) {
      case MessageType.PairRequest:
        return await this.#request(me, message.target);
      case MessageType.PairAccept: {
        if (!this.#available) return unreachable(ErrorCode.NoPendingRequest);
        const reply = await this.#call("accept", [me, message.from]);
        if (!reply) return unreachable(ErrorCode.NoPendingRequest);
        const status = String(reply[0]);
        if (status === "gone") return this.#gone(ErrorCode.NoPendingRequest);
        if (status === ErrorCode.AlreadyPaired) return acceptWhilePaired();
        if (status === ErrorCode.PeerUnavailable) return peerUnavailable(message.from);
        if (status !== "ok") return noPendingRequest(message.from);
        this.#logTold(reply, 1, "accept");
        return undefined;
      }
      case MessageType.PairReject: {
        if (!this.#available) return unreachable(ErrorCode.NoPendingRequest);
        const reply = await this.#call("reject", [me, message.from]);
        if (!reply) return unreachable(ErrorCode.NoPendingRequest);
        if (reply[0] !== "ok") return noPendingRequest(message.from);
        narrate.rejected(me, message.from);
        return undefined;
      }
      case MessageType.Unpair:
        return await this.#unpair(me);
      case MessageType.CodeClaim:
        return await this.#codes.claim(me);
      case MessageType.CodeRelease:
        return await this.#codes.release(me);
      case MessageType.CodeUse:
        return await this.#codes.use(me, message.nameplate);
      case MessageType.Meet:
        return await this.#codes.meet(me, message.rendezvous);
      default:
        return await this.#relay(me, message);
    }
  }

  async #request(me: string, target: string): Promise<Refused | undefined> {
    if (!this.#available) return unreachable(ErrorCode.UnknownPeer);
    const reply = await this.#call("request", [me, target, String(this.#timeoutMs)]);
    if (!reply) return unreachable(ErrorCode.UnknownPeer);
    const status = String(reply[0]);
    switch (status) {
      case "ok":
        break;
      case "gone":
        return this.#gone(ErrorCode.UnknownPeer);
      case ErrorCode.UnknownPeer:
        return unknownPeer(target);
      case ErrorCode.PeerUnavailable:
        return peerUnavailable(target);
      case ErrorCode.SelfPair:
      case ErrorCode.AlreadyPaired:
      case ErrorCode.PeerBusy:
        return requestRefused(status);
      default:
        return unreachable(ErrorCode.UnknownPeer);
    }
    this.#logTold(reply, 3, "request");
    this.#expireLater(me, target, this.#timeoutMs);
    return undefined;
  }

  async #unpair(me: string): Promise<Refused | undefined> {
    const partner = this.#partners.get(me);
    if (!this.#available) {
      // Only pairs within this instance are left while Redis is away.
      if (partner === undefined) return noPartner();
      this.#partners.delete(me);
      if (this.#partners.get(partner) === me) this.#partners.delete(partner);
      narrate.unpaired(me, partner);
      this.#pairEvents?.ended(me, partner, "unpaired");
      this.#send(partner, { type: MessageType.PeerLeft, peer: me, reason: "unpaired" });
      return undefined;
    }
    const reply = await this.#call("unpair", [me]);
    if (reply?.[0] !== "ok") return noPartner();
    const former = String(reply[1]);
    if (this.#partners.get(me) === former) this.#partners.delete(me);
    narrate.unpaired(me, former);
    this.#pairEvents?.ended(me, former, "unpaired");
    return undefined;
  }

  async #relay(me: string, message: ClientMessage): Promise<Refused | undefined> {
    const partner = this.#partners.get(me);
    if (partner === undefined) return notPaired(message.type);
    if (this.#registry.has(partner)) return this.#relayHere(me, partner, message);
    const reply = await this.#call("relay", [
      me,
      partner,
      JSON.stringify({ ...message, from: me }),
    ]);
    if (reply?.[0] !== 1) return notPaired(message.type);
    this.#link.metrics.crossSent++;
    logger.debug("Relayed {type} from {clientId} to {peerId} on another instance.", {
      type: message.type,
      clientId: me,
      peerId: partner,
    });
    return undefined;
  }

  #relayHere(me: string, partner: string, message: ClientMessage): Refused | undefined {
    // The partner's own entry says whether the pair still stands: an unpair
    // or a disconnect clears it at once, before Redis has told anyone.
    if (this.#partners.get(partner) !== me) return notPaired(message.type);
    narrate.relayed(message.type, me, partner);
    this.#send(partner, { ...message, from: me } as ServerMessage);
    return undefined;
  }

  /** An event from Redis for one of this instance's clients. */
  #onEvent(payload: string): void {
    const event = parseEvent(payload);
    if (event === undefined) {
      logger.warn("Ignored an event from Redis that is not one: {event}", {
        event: truncate(payload),
      });
      return;
    }
    if (event.kind === "m") this.#link.metrics.crossReceived++;
    else this.#link.metrics.events++;
    if (event.kind === "k") {
      if (event.to === "*") this.#cluster?.keysRevoked([event.peer]);
      return;
    }
    // While degraded, pairs with other instances are over for this side.
    if (!this.#available && (event.kind === "m" || event.kind === "p" || event.kind === "r")) {
      return;
    }
    if (!this.#registry.has(event.to)) {
      if (event.kind === "s") return;
      // Published before Redis knew the client had gone away from here: on to where it is now.
      if (this.#sessions.departed(event.to, performance.now(), STRAY_MS)) {
        this.#requeue(event.to, payload);
      } else {
        this.#strays.keep(event.to, event, payload.length, performance.now());
      }
      return;
    }
    this.#deliver(event);
  }

  #deliver(event: StoreEvent): void {
    const { to } = event;
    if (event.kind === "m") {
      let message: ServerMessage;
      try {
        message = JSON.parse(event.json);
      } catch {
        return;
      }
      this.#send(to, message);
      return;
    }
    const { peer } = event;
    switch (event.kind) {
      case "p": {
        this.#partners.set(to, peer);
        // Both ends here: set both, so the first to hear can relay to the other at once.
        if (this.#registry.has(peer)) this.#partners.set(peer, to);
        this.#forgetRequest(to);
        // Redis released any nameplate of a client in a pair.
        this.#codes.forget(to);
        this.#announce(to, peer, event.reason.startsWith("1"), event.reason.slice(1));
        return;
      }
      case "r":
        this.#send(to, { type: MessageType.PairRequest, from: peer });
        return;
      case "l":
        if (this.#partners.get(to) !== peer) return;
        this.#partners.delete(to);
        // A window that ran out is noticed by no caller: the partner's instance tells.
        if (event.reason === "timeout") this.#pairEvents?.ended(peer, to, "timeout");
        this.#send(to, {
          type: MessageType.PeerLeft,
          peer,
          reason: event.reason as PeerLeftReason,
        });
        return;
      case "j":
        if (this.#outgoing.get(to)?.target === peer) this.#forgetRequest(to);
        this.#send(to, {
          type: MessageType.PairRejected,
          peer,
          reason: event.reason as PairRejectedReason,
        });
        return;
      case "c":
        this.#send(to, {
          type: MessageType.PairCancelled,
          from: peer,
          reason: event.reason as PairCancelledReason,
        });
        return;
      case "w":
        if (this.#partners.get(to) !== peer) return;
        narrate.reconnecting(peer, to);
        this.#send(to, { type: MessageType.PeerReconnecting, peer });
        return;
      case "b":
        if (this.#partners.get(to) !== peer) return;
        narrate.back(peer, to);
        this.#send(to, { type: MessageType.PeerBack, peer });
        return;
      case "s":
        // Resumed on another instance: nothing of it is this instance's any more.
        this.#partners.delete(to);
        this.#forgetRequest(to);
        this.#holdBack.delete(to);
        this.#sessions.forget(to);
        this.#cluster?.superseded(to);
        return;
    }
  }

  /**
   * Sends `paired`; with per-client ICE servers (TURN credentials) once they
   * are issued, and whatever else comes for the client meanwhile waits
   * behind it, so a partner's offer never arrives before `paired`.
   */
  #announce(to: string, peer: string, initiator: boolean, how: string): void {
    const iceFor = this.#iceFor;
    const code: { by_code?: true; by_device?: true } = how === "c"
      ? { by_code: true }
      : how === "d"
      ? { by_device: true }
      : {};
    if (iceFor === undefined) {
      this.#send(to, { type: MessageType.Paired, peer, initiator, ...this.#ice, ...code });
      return;
    }
    const held: ServerMessage[] = [];
    this.#holdBack.set(to, held);
    const shared = this.#ice.iceServers ?? [];
    iceFor(to).catch((error) => {
      logger.error("Cannot issue ICE servers for {clientId}: {error}", {
        clientId: to,
        error: errorText(error),
      });
      return [] as readonly IceServer[];
    }).then((own) => {
      if (this.#holdBack.get(to) !== held) return;
      this.#holdBack.delete(to);
      const all = [...own, ...shared];
      if (this.#partners.get(to) === peer) {
        this.#send(to, {
          type: MessageType.Paired,
          peer,
          initiator,
          ...(all.length > 0 ? { iceServers: all } : {}),
          ...code,
        });
      }
      for (const message of held) this.#send(to, message);
    });
  }

  #send(id: string, message: ServerMessage): void {
    const held = this.#holdBack.get(id);
    if (held !== undefined) held.push(message);
    else this.#registry.get(id)?.socket.send(message);
  }

  /** Sends an event on to a client that went away from here, behind its `away` call. */
  #requeue(id: string, payload: string): void {
    this.#queue(id, async () => {
      await this.#call("requeue", [id, payload]);
    });
  }

  /** A resumable client of this instance lost its connection: its window starts in Redis. */
  #wentAway(id: string): void {
    this.#partners.delete(id);
    this.#forgetRequest(id);
    this.#holdBack.delete(id);
  }

  /**
   * A session was resumed here: its pairing and request are this instance's
   * now, and what waited for it (in Redis, then here) is turned into messages.
   */
  #arrived(
    id: string,
    partner: string,
    target: string,
    leftMs: number,
    queued: readonly string[],
  ): ServerMessage[] {
    if (partner !== "") this.#partners.set(id, partner);
    if (target !== "") this.#expireLater(id, target, Math.max(0, leftMs));
    const events: StoreEvent[] = [];
    for (const payload of queued) {
      const event = parseEvent(payload);
      if (event !== undefined) events.push(event);
    }
    events.push(...this.#strays.take(id));
    // Delivered through the usual path, into a list the connection sends after `session`;
    // behind a `paired` still waiting for its TURN credentials, if there is one.
    const waiting = this.#holdBack.get(id);
    const messages: ServerMessage[] = [];
    this.#holdBack.set(id, waiting ?? messages);
    for (const event of events) {
      if (event.to !== id || event.kind === "s" || event.kind === "k") continue;
      // The pair ended while the client was away: its queued peer_left is the news of that.
      if (event.kind === "l" && partner === "") {
        this.#send(id, {
          type: MessageType.PeerLeft,
          peer: event.peer,
          reason: event.reason as PeerLeftReason,
        });
      } else {
        this.#deliver(event);
      }
    }
    if (this.#holdBack.get(id) === messages) this.#holdBack.delete(id);
    return messages;
  }

  #expireLater(requester: string, target: string, ms: number): void {
    this.#forgetRequest(requester);
    const timer = setTimeout(() => {
      if (this.#outgoing.get(requester)?.timer !== timer) return;
      this.#outgoing.delete(requester);
      this.#queue(requester, async () => {
        const reply = await this.#call("expire", [requester, target]);
        if (reply?.[0] === "later") this.#expireLater(requester, target, Number(reply[1]));
        else if (reply?.[0] === "ok") narrate.timedOut(requester, target);
      });
    }, timerDelay(ms));
    this.#outgoing.set(requester, { target, timer });
  }

  #forgetRequest(requester: string): void {
    const outgoing = this.#outgoing.get(requester);
    if (outgoing === undefined) return;
    clearTimeout(outgoing.timer);
    this.#outgoing.delete(requester);
  }

  /** The reply said this client is not registered: this instance was presumed dead. */
  #gone(code: ErrorCode): Refused {
    this.#lost("this instance was presumed dead");
    return unreachable(code);
  }

  /**
   * Redis is out of reach (or forgot this instance): refuse new clients, end
   * what involves other instances, keep pairs within this one.
   */
  #lost(reason: string): void {
    if (!this.#available || this.#closed) return;
    this.#available = false;
    logger.warn(
      "Lost the shared registry ({reason}); refusing new clients and ending pairs with other instances until it is back",
      { reason: truncate(reason) },
    );
    for (const [id, partner] of this.#partners) {
      if (this.#registry.has(partner)) continue;
      this.#partners.delete(id);
      this.#send(id, { type: MessageType.PeerLeft, peer: partner, reason: "disconnected" });
    }
    for (const [requester, { target, timer }] of this.#outgoing) {
      clearTimeout(timer);
      this.#send(requester, { type: MessageType.PairRejected, peer: target, reason: "peer_left" });
      this.#send(target, { type: MessageType.PairCancelled, from: requester, reason: "peer_left" });
    }
    this.#outgoing.clear();
  }

  /** The heartbeat, or the recovery while Redis is away; one at a time. */
  #schedule(): void {
    if (this.#closed) return;
    this.#tick = setTimeout(async () => {
      try {
        if (this.#available) await this.#beat();
        else await this.#recover();
      } finally {
        this.#schedule();
      }
    }, this.#heartbeat.intervalMs);
  }

  async #beat(): Promise<void> {
    const now = performance.now();
    this.#strays.sweep(now);
    this.#sessions.sweepDeparted(now, STRAY_MS);
    const reply = await this.#call("heartbeat", [this.#instance, String(this.#heartbeat.ttlMs)]);
    if (!reply) return;
    if (reply[0] === "gone") {
      this.#lost("this instance was presumed dead");
      return;
    }
    this.#sessions.awayCount = Number(reply[1]);
    const ended = Number(reply[2]);
    for (let i = 0; i < ended; i++) this.#sessions.counted("timeout");
    if (ended > 0) {
      logger.info("Ended {sessions}: not resumed within the grace window.", {
        ended,
        sessions: plural(ended, "away session"),
      });
    }
    const overflowed = Number(reply[3]);
    for (let i = 0; i < overflowed; i++) this.#sessions.counted("overflow");
    for (let i = 4; i + 1 < reply.length; i += 2) {
      this.#link.metrics.instancesRemoved++;
      const clients = Number(reply[i + 1]);
      logger.warn("Instance {instance} stopped answering; removed its {removed}.", {
        instance: String(reply[i]),
        clients,
        removed: plural(clients, "client"),
      });
    }
  }

  /**
   * Enters Redis again with every live client, its key and session, and the
   * pairs within this instance. A client that resumed on another instance
   * meanwhile is closed here.
   */
  async #recover(): Promise<void> {
    if (this.#recovering || !this.#link.ready) return;
    this.#recovering = true;
    try {
      // Calls queued while the link was down are over by now; wait for any still finishing.
      await Promise.all(this.#busy.values());
      const entered = await this.#link.call("enter", [
        this.#instance,
        String(this.#heartbeat.ttlMs),
      ]);
      const revoked = entered.slice(1).map(String);
      const ids = [...this.#registry].map((entry) => entry.id);
      let moved = 0;
      for (let i = 0; i < ids.length; i += REJOIN_BATCH) {
        const batch = ids.slice(i, i + REJOIN_BATCH);
        const groups: string[] = [];
        const pairs: string[] = [];
        for (const id of batch) {
          groups.push(
            id,
            this.#tenantOf(id) ?? "",
            this.#grantOf(id) ?? "",
            ...this.#sessions.rejoining(id),
          );
          const partner = this.#partners.get(id);
          if (partner !== undefined && id < partner) pairs.push(id, partner);
        }
        const reply = await this.#link.call("rejoin", [
          this.#instance,
          String(batch.length),
          ...groups,
          ...pairs,
        ]);
        for (const id of reply.slice(1).map(String)) {
          moved++;
          this.#deliver({ to: id, kind: "s", peer: "-", reason: "-" });
        }
      }
      this.#available = true;
      this.#link.markUp();
      // Clients that left while the batches were on their way were registered all the same.
      for (const id of ids) if (!this.#registry.has(id)) this.disconnected(id);
      const { revoked: unsent, kept } = this.#unsentRevocations;
      if (unsent.size > 0 || kept.size > 0) {
        const tenants = [...unsent];
        const stillKept = [...kept];
        unsent.clear();
        kept.clear();
        await this.revoke(tenants, stillKept);
      }
      logger.info("The shared registry is back; registered {registered} again.", {
        clients: ids.length - moved,
        registered: plural(ids.length - moved, "client"),
      });
      if (revoked.length > 0) this.#cluster?.keysRevoked(revoked);
    } catch (error) {
      logger.debug("Redis is not back yet: {error}", { error: errorText(error) });
    } finally {
      this.#recovering = false;
    }
  }

  /** Logs what a script told whom, as the in-memory signaling logs the same events. */
  #logTold(reply: readonly unknown[], from: number, op: ScriptName): void {
    for (const event of toldEvents(reply, from)) {
      if (event.kind === "m") continue;
      const { to, peer, reason } = event;
      switch (event.kind) {
        case "r":
          narrate.requested(peer, to);
          break;
        case "p":
          if (reason.startsWith("1")) {
            narrate.paired(to, peer);
            this.#pairEvents?.paired(to, peer, PAIRED_BY[reason.slice(1)] ?? "request");
          }
          break;
        case "l":
          if (op === "leave") {
            narrate.left(peer, to);
            this.#pairEvents?.ended(peer, to, "disconnected");
          }
          break;
        case "j":
          if (reason === "peer_left") narrate.targetLeft(to, peer);
          else narrate.targetPaired(to, peer);
          break;
        case "c":
          narrate.cancelled(peer, to, reason as PairCancelledReason);
          break;
      }
    }
  }

  /** Receives events from the link; for the factory that wires them. */
  receive(payload: string): void {
    this.#onEvent(payload);
  }

  /** Marks Redis lost; for the factory that wires the link's notice. */
  linkLost(reason: string): void {
    this.#lost(reason);
  }
}

/** Clients registered again per script call after the link comes back. */
const REJOIN_BATCH = 1000;
