/**
 * The life of one client connection: open, register, send the id, receive
 * within the limits, close, unregister.
 *
 * @module
 */

import type { KeyRecord } from "../auth/key_file.ts";
import type { AccessToken } from "../auth/token_claims.ts";
import { NO_TOKEN_TO_REFRESH, type TokenHost, TokenSession } from "./token_session.ts";
import { closeCode } from "../protocol/close_code.ts";
import { Access } from "../auth/access.ts";
import { getLogger } from "../runtime/deps.ts";
import type { RefusalLog } from "./refusal_log.ts";
import type { DisconnectReason, Metrics } from "../metrics.ts";
import {
  CloseCode,
  ErrorCode,
  errorMessage,
  MessageType,
  type ServerMessage,
  yourId,
} from "../protocol/messages.ts";
import { type Inbound, inspectFrame } from "./inbound.ts";
import { TokenBucket } from "./rate_limit.ts";
import type { Registry } from "../registry.ts";
import { NOT_RESUMABLE, type ResumeRequest } from "../protocol/resume_params.ts";
import { sendJson } from "../runtime/json_socket.ts";
import type { ServerOptions } from "./config.ts";
import type { Joined, Peer, Refused, Resumed, SignalingService } from "../signaling/service.ts";
import type { SocketTracker } from "./socket_tracker.ts";
import type { CodeLimits } from "./code_limits.ts";
import { tooManyCodes } from "../signaling/refusals.ts";
import { errorText, plural, printable, truncate } from "../runtime/safe_text.ts";
import { protocolViolation } from "./ws_violations.ts";

const logger = getLogger(["switchboard", "server"]);

/** How many bad messages of one connection are logged one by one. */
export const LOGGED_BAD_MESSAGES = 5;

/** What every connection of one server shares. */
export interface ServerState {
  /** The server's settings. */
  readonly config: Readonly<ServerOptions>;
  /** The connected clients. */
  readonly registry: Registry<Connection>;
  /** The server's counters. */
  readonly metrics: Metrics;
  /** Pairing and relay: in memory, or shared with other instances. */
  readonly signaling: SignalingService;
  /** Every WebSocket still held, per client address. */
  readonly sockets: SocketTracker;
  /** Whether the server is shutting down. */
  stopping: boolean;
  /** Caps the lines for refusals, which strangers can cause at will. */
  readonly refusalLog: RefusalLog;
  /** Who may connect and whom each client may reach: keys, tenants, reload. */
  readonly access: Access;
  /** How fast codes may be claimed and tried, per address and per key. */
  readonly codeLimits: CodeLimits;
}

/**
 * One client connection. It listens to its own socket as one event-listener
 * object, so an idle client costs this object and no closures. The registry
 * holds these, and everything sent to a client goes through
 * {@linkcode Connection.send}.
 */
export class Connection implements Peer {
  /** The client's id once registered. */
  clientId: string | undefined;
  readonly #server: ServerState;
  readonly #socket: WebSocket;
  readonly #remoteAddr: string;
  // What per-address limits count under (an IPv4 address, an IPv6 /64).
  readonly #addressKey: string;
  readonly #bucket: TokenBucket;
  // Set when the server closes the connection itself.
  #closing = false;
  #badMessages = 0;
  // The runtime's reason when it drops the connection, from the error event.
  #error: string | undefined;
  readonly #resume: ResumeRequest;
  // Set when a resumed connection took this one's place: its close ends nothing.
  #superseded = false;
  /** The SHA-256 of the client's API key: its tenant. `undefined` on an open server. */
  readonly tenant: string | undefined;
  /** The API key's label, for logs; never the key. */
  readonly keyLabel: string | undefined;
  // Its access token, when it came with one: its clock and its refreshes.
  readonly #token: TokenSession | undefined;

  /**
   * Starts serving `socket`; the server keeps no other reference to it until
   * it opens and registers.
   *
   * @param resume What the client asked for on its URL: a resumable session, a resume.
   * @param key The entry of the API key the handshake presented, if any.
   * @param addressKey What per-address limits count it under.
   * @param token The access token the handshake presented, if any.
   */
  constructor(
    server: ServerState,
    socket: WebSocket,
    remoteAddr: string,
    resume: ResumeRequest = NOT_RESUMABLE,
    key?: KeyRecord,
    addressKey: string = remoteAddr,
    token?: AccessToken,
  ) {
    this.#server = server;
    this.#socket = socket;
    this.#remoteAddr = remoteAddr;
    this.#addressKey = addressKey;
    this.#resume = resume;
    this.tenant = key?.sha256 ?? token?.tenant;
    this.keyLabel = key?.label;
    this.#token = token && new TokenSession(token, server.access, this.#tokenHost());
    this.#bucket = new TokenBucket(
      // A key's or a token's own rate limit applies on top of the server's.
      Access.rateLimit(server.config.rateLimit, key, token),
      server.config.rateBurst,
      performance.now(),
    );
    socket.binaryType = "arraybuffer";
    for (const type of ["open", "message", "close", "error"]) {
      socket.addEventListener(type, this);
    }
  }

  /** The socket's events, dispatched. */
  handleEvent(event: Event): void {
    // A close event always follows "error", which says why, if anything.
    switch (event.type) {
      case "error":
        this.#error = (event as ErrorEvent).message;
        return;
      case "open":
        return this.#open();
      case "message":
        return this.#receive((event as MessageEvent).data);
      case "close":
        return this.#close(event as CloseEvent);
    }
  }

  #open(): void {
    if (this.#server.stopping) return this.goAway();
    const token = this.#resume.token;
    if (token === undefined) return this.#register(false);
    // A session being resumed holds its id already, so a full server still takes it back.
    // A session belongs to its API key: a token presented with another key
    // fails like any unknown token, and leaves the session to its owner.
    const resumed = this.#server.signaling.sessions.resume(token, this.tenant);
    if (!(resumed instanceof Promise)) return this.#afterResume(resumed);
    resumed.then((outcome) => {
      // Gone meanwhile, before it heard its new token: the session can never be resumed, so
      // it ends now (its partner hears peer_left) rather than keep a window nobody can use.
      if (this.#socket.readyState !== WebSocket.OPEN || this.#server.stopping) {
        if (outcome.ok) {
          this.#server.signaling.sessions.ended(outcome.id);
          this.#server.signaling.disconnected(outcome.id);
        }
        return;
      }
      this.#afterResume(outcome);
    });
  }

  #afterResume(outcome: Resumed): void {
    if (outcome.ok) {
      return this.#resumed(outcome.id, outcome.session, outcome.queued);
    }
    // The shared store is out of reach: the session may still be there, so try again later.
    if (outcome.unavailable) return this.#unavailable();
    this.#register(true);
  }

  /** Registers a new client (after a failed resume when `resumeFailed`). */
  #register(resumeFailed: boolean): void {
    const { registry, signaling, access } = this.#server;
    if (!this.#admitted()) return;
    const clientId = this.clientId = registry.register(this, this.#remoteAddr);
    access.join(clientId, this.tenant, this.#token?.token);
    this.#token?.start();
    this.#logConnected(clientId);
    this.#server.config.webhooks?.emit("client.connected", {
      client_id: clientId,
      ...access.identityOf(clientId),
    });
    const key = this.tenant === undefined
      ? undefined
      : { tenant: this.tenant, maxClients: access.maxClientsOf(this.tenant) };
    const joining = signaling.joined(clientId, key);
    if (joining === undefined) return this.#welcome(clientId, resumeFailed);
    // Others must be able to find the client before it can hand out its id.
    joining.then((joined: Joined) => {
      if (this.#closing || !registry.has(clientId)) return;
      if (joined === "ok") this.#welcome(clientId, resumeFailed);
      else if (joined === "key_limit") this.#keyLimit();
      else this.#unavailable();
    });
  }

  /**
   * Whether a new client may register: the server has room, the shared
   * registry is reachable, and its key is still good. Refuses it when not.
   */
  #admitted(): boolean {
    const { config, registry } = this.#server;
    if (registry.size >= config.maxClients) {
      this.#full();
      return false;
    }
    if (!this.#server.signaling.available) {
      this.#unavailable();
      return false;
    }
    return this.#admitKey();
  }

  #logConnected(clientId: string): void {
    if (this.#token !== undefined) {
      logger.info('Client {clientId} (user "{user}") connected from {remoteAddr}', {
        clientId,
        user: this.#token.user ?? "",
        remoteAddr: this.#remoteAddr,
      });
    } else if (this.keyLabel === undefined) {
      logger.info("Client {clientId} connected from {remoteAddr}", {
        clientId,
        remoteAddr: this.#remoteAddr,
      });
    } else {
      logger.info('Client {clientId} (key "{keyLabel}") connected from {remoteAddr}', {
        clientId,
        keyLabel: this.keyLabel,
        remoteAddr: this.#remoteAddr,
      });
    }
  }

  /** Refuses a client past `--max-clients`: `server_full`, then 1013, try again later. */
  #full(): void {
    const { config } = this.#server;
    this.#server.metrics.serverFull++;
    this.#server.refusalLog.warn(
      "Refused a client from {remoteAddr}: server full ({clients})",
      "Refused a client from {remoteAddr}: server full ({clients}; {skipped} more refused, not logged)",
      {
        remoteAddr: this.#remoteAddr,
        maxClients: config.maxClients,
        clients: plural(config.maxClients, "client"),
      },
    );
    sendJson(
      this.#socket,
      errorMessage(ErrorCode.ServerFull, "The server is full; try again later."),
    );
    this.#closeFor(CloseCode.TryAgainLater, "server full");
  }

  /**
   * Sends a new client its id and, when it asked for one, its session; a
   * client whose resume failed hears why.
   */
  #welcome(clientId: string, resumeFailed: boolean): void {
    this.send(yourId(clientId, this.#token?.receiveFiles ?? true));
    if (!this.#resume.resumable) return;
    const session = this.#server.signaling.sessions.open(clientId, this.tenant);
    if (!(session instanceof Promise)) return this.#sessionOpened(clientId, session, resumeFailed);
    session.then(
      (opened) => {
        if (!this.#closing && this.#server.registry.get(clientId)?.socket === this) {
          this.#sessionOpened(clientId, opened, resumeFailed);
        }
      },
    );
  }

  #sessionOpened(
    clientId: string,
    session: ServerMessage | undefined,
    resumeFailed: boolean,
  ): void {
    if (session) this.send(session);
    if (resumeFailed) {
      logger.info(
        "Client {clientId} at {remoteAddr} could not resume a session; it has a new id.",
        {
          clientId,
          remoteAddr: this.#remoteAddr,
        },
      );
      this.send(
        errorMessage(
          ErrorCode.ResumeFailed,
          "that session is gone (unknown, used or expired token); this is a new one",
        ),
      );
    }
  }

  /**
   * Takes over the session `id` after a valid resume: the id, the pairing
   * and what waited, in order. A connection still registered under `id` is
   * superseded.
   */
  #resumed(id: string, session: ServerMessage, queued: readonly ServerMessage[]): void {
    const { registry, access } = this.#server;
    const previous = registry.get(id);
    previous?.socket.supersede();
    this.clientId = id;
    registry.restore(id, this, this.#remoteAddr);
    // Resumed from another instance, the session's key is new here.
    access.join(id, this.tenant, this.#token?.token);
    this.#token?.start();
    logger.info(
      previous
        ? "Client {clientId} resumed from {remoteAddr}, replacing its connection from {previousAddr}."
        : "Client {clientId} resumed from {remoteAddr} ({waited} waited).",
      {
        clientId: id,
        remoteAddr: this.#remoteAddr,
        previousAddr: previous?.remoteAddr,
        queued: queued.length,
        waited: plural(queued.length, "message"),
      },
    );
    this.#server.config.webhooks?.emit("client.connected", {
      client_id: id,
      ...access.identityOf(id),
      resumed: true,
    });
    this.send(yourId(id, this.#token?.receiveFiles ?? true));
    this.send(session);
    for (const message of queued) this.send(message);
  }

  /**
   * Closes with 4000 for a newer connection that resumed this session; the
   * close then ends nothing, since the session lives on.
   */
  supersede(): void {
    this.#token?.stop();
    this.#superseded = true;
    this.#closing = true;
    this.#socket.close(CloseCode.Superseded, "superseded");
    this.#server.sockets.closing(this.#socket);
  }

  /**
   * Closes with 4000 and forgets the client here without ending anything:
   * its session was resumed on another instance, which holds it now.
   */
  movedAway(): void {
    const { registry, access } = this.#server;
    const clientId = this.clientId;
    if (clientId === undefined || registry.get(clientId)?.socket !== this) return;
    logger.info("Client {clientId} resumed on another instance; closing this connection.", {
      clientId,
      remoteAddr: this.#remoteAddr,
    });
    this.supersede();
    registry.unregister(clientId);
    access.leave(clientId);
  }

  /** Refuses a client while the shared registry is out of reach: 1013, try again later. */
  #unavailable(): void {
    this.#server.metrics.unavailable++;
    this.#server.refusalLog.warn(
      "Refused a client from {remoteAddr}: shared registry unreachable",
      "Refused a client from {remoteAddr}: shared registry unreachable ({skipped} more refused, not logged)",
      { remoteAddr: this.#remoteAddr },
    );
    this.#closeFor(CloseCode.TryAgainLater, "try again later");
  }

  /**
   * Checks the client's key again as it opens: it may have been revoked
   * since the handshake, and its key may be at its client limit.
   */
  #admitKey(): boolean {
    const opening = this.#server.access.open(this.tenant);
    if (opening.ok) return true;
    if (opening.why === "revoked") {
      this.#closeFor(CloseCode.PolicyViolation, KEY_REVOKED);
      return false;
    }
    this.#keyLimit(opening.key, opening.maxClients);
    return false;
  }

  /**
   * Refuses a client whose key has its `maxClients` connected (here, or
   * across the instances that share state): `key_limit`, then 1013.
   */
  #keyLimit(
    key = this.#server.access.keyOf(this.tenant),
    maxClients = key?.maxClients ?? 0,
  ): void {
    this.#server.refusalLog.warn(
      'Refused a client from {remoteAddr}: key "{keyLabel}" has {clients}, its limit',
      'Refused a client from {remoteAddr}: key "{keyLabel}" has {clients}, its limit ({skipped} more refused, not logged)',
      {
        remoteAddr: this.#remoteAddr,
        keyLabel: key?.label ?? this.keyLabel,
        maxClients,
        clients: plural(maxClients, "client"),
      },
    );
    sendJson(
      this.#socket,
      errorMessage(
        ErrorCode.KeyLimit,
        `This API key has ${plural(maxClients, "client")} connected, its limit; try again later.`,
      ),
    );
    this.#closeFor(CloseCode.TryAgainLater, "key limit");
  }

  /**
   * Closes with 1008 `key revoked`, for a key taken out of the keys file;
   * the partner hears `peer_left` at once.
   */
  revoke(): void {
    if (this.#closing) return;
    logger.info('Client {clientId} at {remoteAddr}: key "{keyLabel}" revoked; closing with 1008', {
      clientId: this.clientId,
      remoteAddr: this.#remoteAddr,
      keyLabel: this.keyLabel,
    });
    this.#closeFor(CloseCode.PolicyViolation, KEY_REVOKED);
  }

  /**
   * Sends a message, unless the client has left too much unread: then it is
   * closed with 1008 and forgotten at once, since its close frame would wait
   * behind the backlog and its partner must not.
   *
   * @returns Whether the message was handed to the socket.
   */
  send(message: ServerMessage): boolean {
    const waiting = this.#socket.bufferedAmount;
    if (waiting > this.#server.config.maxBufferedBytes && !this.#closing) {
      logger.warn(
        "Client {clientId} at {remoteAddr} is not reading ({bytes} bytes waiting); closing with 1008",
        { clientId: this.clientId, remoteAddr: this.#remoteAddr, bytes: waiting },
      );
      this.#closeFor(CloseCode.PolicyViolation, "too slow: send buffer full");
      return false;
    }
    return sendJson(this.#socket, message);
  }

  #receive(data: unknown): void {
    const { config, metrics } = this.#server;
    const clientId = this.clientId;
    metrics.messagesReceived++;
    // Frames already in flight when we closed are counted, not judged:
    // one log line per offence, however hard the client floods.
    if (clientId === undefined || this.#closing) return;
    const frame = inspectFrame(data, config.maxMessageBytes, this.#bucket, performance.now());
    switch (frame.kind) {
      case "too_big":
      case "rate_limited":
        return this.#brokeLimit(frame);
      case "bad":
        this.#reject(frame.code, frame.reason);
        return;
    }
    const message = frame.message;
    if (message.type === MessageType.Refresh) {
      if (this.#token === undefined) {
        return this.#refuse(message.type, ErrorCode.TokenRefused, NO_TOKEN_TO_REFRESH);
      }
      this.#token.refresh(message.token).catch((error) =>
        logger.error("Client {clientId}: refresh failed: {error}", {
          clientId,
          error: errorText(error),
        })
      );
      return;
    }
    if (
      (message.type === MessageType.CodeClaim || message.type === MessageType.CodeUse ||
        message.type === MessageType.Meet) &&
      !this.#server.codeLimits.allow(this.#addressKey, this.tenant, performance.now())
    ) {
      const refused = tooManyCodes();
      this.#refuse(message.type, refused.code, refused.reason);
      return;
    }
    const outcome = this.#server.signaling.handle(clientId, message);
    // An answer that needs no round trip comes at once, without a promise.
    if (outcome instanceof Promise) outcome.then((refused) => this.#handled(message.type, refused));
    else this.#handled(message.type, outcome);
  }

  /** What this connection's token session needs of it: made once, for token clients only. */
  #tokenHost(): TokenHost {
    // A getter's `this` is the host object, so the id is read through a name of its own.
    // deno-lint-ignore no-this-alias
    const connection = this;
    return {
      get clientId() {
        return connection.clientId;
      },
      remoteAddr: this.#remoteAddr,
      current: () =>
        !this.#closing && this.clientId !== undefined &&
        this.#server.registry.get(this.clientId)?.socket === this,
      send: (message) => this.send(message),
      refuse: (reason) => this.#refuse(MessageType.Refresh, ErrorCode.TokenRefused, reason),
      expire: () => this.#closeFor(CloseCode.PolicyViolation, TOKEN_EXPIRED),
    };
  }

  /** Counts, logs and closes for a frame over the size limit (1009) or the rate limit (1008). */
  #brokeLimit(frame: Extract<Inbound, { kind: "too_big" | "rate_limited" }>): void {
    const { config, metrics } = this.#server;
    const who = { clientId: this.clientId, remoteAddr: this.#remoteAddr };
    if (frame.kind === "too_big") {
      metrics.badMessage("message_too_big");
      logger.warn(TOO_BIG, { ...who, size: frame.size, limit: config.maxMessageBytes });
      this.#closeFor(CloseCode.MessageTooBig, "message too big");
    } else {
      metrics.badMessage("rate_limited");
      logger.warn(RATE_LIMITED, { ...who, rate: config.rateLimit, burst: config.rateBurst });
      this.#closeFor(CloseCode.PolicyViolation, "rate limit exceeded");
    }
  }

  #handled(type: string, refused: Refused | undefined): void {
    if (refused) this.#refuse(type, refused.code, refused.reason);
    else if (RELAYED_TYPES.has(type)) this.#server.metrics.relayedMessage(type);
  }

  /**
   * Answers a well-formed request the pairing rules refuse (`not_paired`,
   * `unknown_peer`, ...): an ordinary event, not bad input, so it is counted
   * and logged at debug level only.
   */
  #refuse(type: string, code: ErrorCode, reason: string): void {
    this.#server.metrics.refusedRequest(code);
    logger.debug("Refused {type} from client {clientId}: {reason}", {
      type,
      clientId: this.clientId,
      remoteAddr: this.#remoteAddr,
      errorCode: code,
      reason,
    });
    this.send(errorMessage(code, reason));
  }

  /** Closes with 1001 for a server shutdown; the close event does the rest. */
  goAway(): void {
    this.#socket.close(CloseCode.GoingAway, "Server shutting down");
  }

  #reject(code: ErrorCode, reason: string): void {
    this.#server.metrics.badMessage(code);
    // Each answer is sent, but a client that stays under the rate limit could
    // still fill the log: only its first few are logged, the rest counted.
    const bad = ++this.#badMessages;
    if (bad <= LOGGED_BAD_MESSAGES) {
      logger.warn("Bad message from client {clientId} at {remoteAddr}: {reason}", {
        clientId: this.clientId,
        remoteAddr: this.#remoteAddr,
        errorCode: code,
        reason,
      });
    } else if (bad === LOGGED_BAD_MESSAGES + 1) {
      logger.warn(
        "Client {clientId} at {remoteAddr} keeps sending bad messages; counting the rest without logging them.",
        { clientId: this.clientId, remoteAddr: this.#remoteAddr },
      );
    }
    this.send(errorMessage(code, reason));
  }

  /**
   * Closes for a broken limit and forgets the client at once: a client that
   * does not read may never complete the close handshake.
   */
  #closeFor(code: CloseCode, reason: string): void {
    this.#closing = true;
    this.#socket.close(code, reason);
    this.#server.sockets.closing(this.#socket);
    this.#forget(code, "limit");
  }

  #close(event: CloseEvent): void {
    const violation = protocolViolation(this.#error);
    if (violation !== undefined && this.clientId !== undefined && !this.#closing) {
      this.#server.metrics.violation(violation);
      logger.warn(
        "Client {clientId} at {remoteAddr} broke the WebSocket protocol ({error}); the connection was dropped",
        {
          clientId: this.clientId,
          remoteAddr: this.#remoteAddr,
          error: truncate(printable(this.#error ?? "")),
          violation,
        },
      );
      this.#forget(closeCode(event), "violation");
    } else if (this.#server.stopping && !this.#closing) {
      // The event carries the client's echo, often without a code; say what was sent.
      this.#forget(CloseCode.GoingAway, "shutdown");
    } else {
      this.#forget(closeCode(event), classify(event));
    }
  }

  /**
   * Unregisters the client, once, and tells whoever needs to know; after an
   * abrupt loss of a resumable client, its session waits for it instead.
   */
  #forget(code: number, reason: DisconnectReason): void {
    const { registry, metrics, signaling } = this.#server;
    const clientId = this.clientId;
    this.#token?.stop();
    // Its id belongs to the connection that resumed it now.
    if (this.#superseded) return;
    // Deno fires close twice for a ping timeout, and a client closed for a
    // limit was forgotten before its close event: unregister only once.
    // A connection whose id another one holds now (it resumed) has nothing left to end.
    if (clientId === undefined || registry.get(clientId)?.socket !== this) return;
    if (!registry.unregister(clientId)) return;
    metrics.disconnected(reason);
    logger.info("Client {clientId} disconnected (code {code}, {reason}).", {
      clientId,
      remoteAddr: this.#remoteAddr,
      code,
      reason,
      ...(this.keyLabel === undefined ? {} : { keyLabel: this.keyLabel }),
    });
    if (this.#badMessages > LOGGED_BAD_MESSAGES) {
      logger.warn("Client {clientId} sent {bad} bad messages in all.", {
        clientId,
        remoteAddr: this.#remoteAddr,
        bad: this.#badMessages,
      });
    }
    const abrupt = reason === "abrupt" || reason === "timeout";
    const webhooks = this.#server.config.webhooks;
    // Read before its session is handed on, which may forget who it was here; only for an event.
    const identity = webhooks && this.#server.access.identityOf(clientId);
    const kept = abrupt && this.#resume.resumable && signaling.sessions.lost(clientId);
    webhooks?.emit("client.disconnected", {
      client_id: clientId,
      ...identity,
      code,
      reason,
      // Its session waits for a resume: a `client.connected` with `resumed` may follow.
      resumable: kept,
    });
    if (kept) {
      logger.info("Keeping the session of client {clientId} for {seconds} s.", {
        clientId,
        remoteAddr: this.#remoteAddr,
        seconds: this.#server.config.resumeGrace,
      });
      // Its key stays its own while away: only a client of that key may resume it.
      return;
    }
    this.#server.access.leave(clientId);
    signaling.sessions.ended(clientId);
    signaling.disconnected(clientId);
  }
}

/**
 * Why a client went away, from its close event: a ping timeout is an unclean
 * 1001 from the runtime, a lost TCP connection an unclean 0 or 1006, and the
 * codes the server closes with for a broken limit count as `limit`.
 */
export function classify(event: Pick<CloseEvent, "code" | "wasClean">): DisconnectReason {
  if (LIMIT_CODES.has(event.code)) return "limit";
  if (event.wasClean) return "clean";
  return event.code === CloseCode.GoingAway ? "timeout" : "abrupt";
}

// What a partner receives as sent; the rest is pairing, which the server answers itself.
const RELAYED_TYPES: ReadonlySet<string> = new Set([
  MessageType.Pake,
  MessageType.Offer,
  MessageType.Answer,
  MessageType.Candidate,
  MessageType.Relay,
]);

// The lines for a broken limit, one per offence.
const TOO_BIG =
  "Client {clientId} at {remoteAddr} sent {size} bytes (limit {limit}); closing with 1009";
const RATE_LIMITED =
  "Client {clientId} at {remoteAddr} exceeded {rate} messages/s (burst {burst}); closing with 1008";

/** The close reason for a client whose key was revoked. */
export const KEY_REVOKED = "key revoked";

/** The close reason for a client whose access token expired. */
export const TOKEN_EXPIRED = "token expired";

const LIMIT_CODES: ReadonlySet<number> = new Set([
  CloseCode.PolicyViolation,
  CloseCode.MessageTooBig,
  CloseCode.TryAgainLater,
]);
