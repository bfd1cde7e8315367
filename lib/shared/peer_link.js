// This module is browser compatible.
// @ts-check
/**
 * One peer-to-peer data channel to the partner, negotiated through the
 * signaling server. The command-line peer (with werift) and the browser page
 * (with the browser's own `RTCPeerConnection`) both run this file, so the two
 * ends follow one negotiation, written down once:
 *
 * - `start()` on `paired`: the initiator creates the `chat` channel and the
 *   offer; the other side waits for the offer and answers.
 * - ICE candidates trickle both ways as `candidate` messages in the
 *   browser's `RTCIceCandidateInit` shape; an empty `candidate` string means
 *   end of candidates. Candidates that arrive before the remote description
 *   are queued. A peer that puts every candidate in its SDP and trickles none
 *   works too.
 * - The link is `open` when the channel opens, and `failed` when ICE fails,
 *   the channel closes, or nothing opened within the timeout: the caller then
 *   carries the conversation through the server instead.
 * - Once open, the connection's statistics tell whether the selected path is
 *   direct or goes through a TURN relay (when the connection has `getStats`).
 * - A TURN server that refuses the credentials (an `icecandidateerror` with
 *   code 401) is named as the reason, and ends the attempt at once when the
 *   connection may use relays only.
 *
 * @module
 */

import { CHAT_CHANNEL, MessageType } from "./protocol.js";

/**
 * @typedef {import("./rtc_types.js").CandidateInit} CandidateInit
 * @typedef {import("./rtc_types.js").DataChannelLike} DataChannelLike
 * @typedef {import("./rtc_types.js").IceCandidateErrorLike} IceCandidateErrorLike
 * @typedef {import("./rtc_types.js").PeerConnectionLike} PeerConnectionLike
 * @typedef {import("./rtc_types.js").StatsReportLike} StatsReportLike
 */

/**
 * @typedef {{ type: "offer", sdp: string, proof?: string }
 *   | { type: "answer", sdp: string, proof?: string }
 *   | { type: "candidate", candidate: CandidateInit | null }} SignalOut
 *   A message for the server to forward to the partner.
 */

/** @typedef {"direct" | "relay"} LinkPath Whether the data goes straight to the partner or through TURN. */

/**
 * How a path is named to people: the command-line peer's open line and the
 * page's say the same words.
 *
 * @type {Readonly<Record<LinkPath, string>>}
 */
export const PATH_WORDS = Object.freeze({ direct: "direct", relay: "via TURN relay" });

/**
 * @typedef {{ kind: "open", ms: number, path?: LinkPath }
 *   | { kind: "message", text: string }
 *   | { kind: "failed", reason: string, tampered?: true }} LinkEvent
 *   What the link reports: the channel opened (`ms` since `start()`, and the
 *   path when the statistics tell it), a line arrived on it, or peer-to-peer
 *   is not (or no longer) possible. `tampered`: the partner's description
 *   did not carry its proof (see `binding`; the reason is the binding's), so
 *   the pairing must end.
 */

/** The reason given when a TURN server refuses the credentials. */
export const TURN_REFUSED = "TURN server refused the credentials";

// How long the path may take to find once open; the channel is usable meanwhile.
const STATS_TIMEOUT_MS = 2000;

/**
 * @typedef {object} PeerLinkOptions
 * @property {boolean} initiator Whether this side creates the channel and the offer.
 * @property {() => PeerConnectionLike | Promise<PeerConnectionLike>} createPeerConnection
 *   Makes the connection, with the ICE servers and policy already in its
 *   configuration; it may take a while (the CLI loads its WebRTC library in
 *   the background), and messages that arrive meanwhile wait for it.
 * @property {(message: SignalOut) => void} signal Sends a message to the partner
 *   through the server.
 * @property {(event: LinkEvent) => void} onEvent Receives what happens.
 * @property {number} timeoutMs How long the channel may take to open.
 * @property {boolean} [relayOnly] Whether the connection uses TURN relays
 *   only: then a refused TURN credential ends the attempt at once.
 * @property {(text: string) => void} [debug] Receives details worth a debug log line.
 * @property {() => number} [now] The clock in milliseconds; `performance.now` by default.
 * @property {(channel: DataChannelLike) => void} [onChannel] Receives the
 *   other channels the partner opens (files); without it they are closed.
 * @property {import("./code_exchange.js").FingerprintBinding} [binding] For
 *   partners paired by code: every description sent carries its `proof`, and
 *   one received without the right proof fails the link (`tampered`).
 */

/** @typedef {"new" | "negotiating" | "open" | "failed" | "closed"} LinkState */

/**
 * A data channel to one partner, from `paired` until it fails or is closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PeerLink } from "./peer_link.js";
 * const sent: string[] = [];
 * const link = new PeerLink({
 *   initiator: false,
 *   createPeerConnection: () => {
 *     throw new Error("not reached: the connection is made on start()");
 *   },
 *   signal: (message) => sent.push(message.type),
 *   onEvent: () => {},
 *   timeoutMs: 1000,
 * });
 * assert.equal(link.state, "new");
 * assert.equal(link.send("hello"), false); // nothing is open yet
 * link.close();
 * assert.equal(link.state, "closed");
 * ```
 */
export class PeerLink {
  /** @type {PeerLinkOptions} */
  #options;
  /** @type {LinkState} */
  #state = "new";
  /** @type {PeerConnectionLike | undefined} */
  #pc;
  /** @type {DataChannelLike | undefined} */
  #channel;
  #remoteDescriptionSet = false;
  /**
   * Local candidates found before this side's offer or answer went out: sent
   * right after it. The description is what the partner needs first, and a
   * client socket that sends two small frames back to back may hold the
   * second until the first is acknowledged (Nagle's algorithm; up to 40 ms on
   * Linux): werift finds its candidates while it makes the description.
   *
   * @type {SignalOut[] | undefined}
   */
  #unsentCandidates = [];
  /** @type {CandidateInit[]} Candidates that came before the remote description. */
  #early = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  #startedAt = 0;
  /** @type {string[] | undefined} Lines that came while the path was looked up. */
  #held;
  #turnRefused = false;
  // Signaling messages are handled one at a time, in arrival order: each
  // step awaits the connection, and a candidate must not overtake its offer.
  /** @type {Promise<void>} */
  #queue = Promise.resolve();

  /** @param {PeerLinkOptions} options */
  constructor(options) {
    this.#options = options;
  }

  /** @returns {LinkState} Where the link is. */
  get state() {
    return this.#state;
  }

  /** Starts negotiating: call once, on `paired`. */
  start() {
    if (this.#state !== "new") return;
    const options = this.#options;
    this.#state = "negotiating";
    this.#startedAt = this.#now();
    this.#timer = setTimeout(
      () =>
        this.#fail(
          this.#turnRefused
            ? TURN_REFUSED
            : `no peer-to-peer connection within ${options.timeoutMs / 1000} s`,
        ),
      options.timeoutMs,
    );
    // The first step in the queue: the partner's messages wait behind it.
    this.#enqueue(async () => {
      const pc = await options.createPeerConnection();
      if (this.#state !== "negotiating") {
        pc.close();
        return;
      }
      this.#pc = pc;
      pc.onicecandidate = (event) => this.#sendCandidate(event.candidate);
      pc.onconnectionstatechange = () => {
        this.#debug(`connection ${pc.connectionState}`);
        if (pc.connectionState === "failed") {
          this.#fail(this.#turnRefused ? TURN_REFUSED : "ICE failed");
        }
      };
      pc.onicecandidateerror = (event) => this.#candidateError(event);
      // Either side may open more channels once the chat channel is up.
      pc.ondatachannel = (event) => {
        const chat = event.channel.label === CHAT_CHANNEL;
        if (chat && !options.initiator && this.#channel === undefined) this.#watch(event.channel);
        else if (chat) event.channel.close();
        else if (options.onChannel) options.onChannel(event.channel);
        else event.channel.close();
      };
      if (options.initiator) {
        this.#watch(pc.createDataChannel(CHAT_CHANNEL, { ordered: true }));
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        await this.#describe(MessageType.Offer, pc.localDescription?.sdp ?? offer.sdp ?? "");
      }
    }, "create a peer connection");
  }

  /**
   * Takes an `offer`, `answer` or `candidate` message from the partner.
   *
   * @param {{ type: string, sdp?: unknown, candidate?: unknown, proof?: unknown }} message
   */
  handle(message) {
    switch (message.type) {
      case MessageType.Offer:
      case MessageType.Answer: {
        const type = message.type;
        const sdp = message.sdp;
        // Only the initiator offers, so only the other side takes an offer.
        if (typeof sdp !== "string" || (type === MessageType.Offer) === this.#options.initiator) {
          this.#debug(`ignored an unexpected ${type}`);
          return;
        }
        const proof = message.proof;
        this.#enqueue(async () => {
          const binding = this.#options.binding;
          const checked = binding ? await binding.check(sdp, proof) : true;
          if (checked !== true) this.#fail(checked, true);
          else await this.#takeDescription(type, sdp);
        }, `take the ${type}`);
        return;
      }
      case MessageType.Candidate: {
        const candidate = toCandidate(message.candidate);
        if (candidate === undefined) return;
        this.#enqueue(() => this.#takeCandidate(candidate), "take a candidate");
        return;
      }
    }
  }

  /**
   * Sends one line over the channel.
   *
   * @param {string} text
   * @returns {boolean} Whether it went; `false` unless the link is open.
   */
  send(text) {
    if (this.#state !== "open" || this.#channel?.readyState !== "open") return false;
    try {
      this.#channel.send(text);
      return true;
    } catch (error) {
      this.#fail(`cannot send on the data channel: ${errorText(error)}`);
      return false;
    }
  }

  /** Closes the link for good (the pairing ended); reports nothing more. */
  close() {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#release();
  }

  /**
   * Closes the link for good, as {@linkcode PeerLink.close} does, but lets
   * the lines already sent arrive first: once they have left this side, the
   * chat channel closes, and the partner's stack confirms that close only
   * after it has what was sent before it. Resolves within `ms` either way.
   *
   * @param {number} ms
   * @returns {Promise<void>}
   */
  async finish(ms) {
    const channel = this.#channel;
    if (this.#state !== "open" || channel?.readyState !== "open") {
      this.close();
      return;
    }
    this.#state = "closed";
    clearTimeout(this.#timer);
    const deadline = performance.now() + ms;
    /** @type {Promise<unknown>} */
    const closed = new Promise((resolve) => {
      channel.onmessage = null;
      channel.onclose = resolve;
    });
    // A close sent before the lines would overtake them.
    while ((channel.bufferedAmount ?? 0) > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    try {
      channel.close();
      await withTimeout(closed, Math.max(0, deadline - performance.now()));
    } catch (error) {
      this.#debug(`the chat channel did not close in time: ${errorText(error)}`);
    }
    this.#release();
  }

  /**
   * The connection, for the caller to inspect (statistics) while open.
   *
   * @returns {PeerConnectionLike | undefined}
   */
  get connection() {
    return this.#pc;
  }

  /**
   * @param {"offer" | "answer"} type
   * @param {string} sdp
   */
  async #takeDescription(type, sdp) {
    const pc = this.#pc;
    if (!pc) return;
    await pc.setRemoteDescription({ type, sdp });
    this.#remoteDescriptionSet = true;
    for (const candidate of this.#early.splice(0)) await this.#addCandidate(candidate);
    if (type === MessageType.Offer) {
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      await this.#describe(MessageType.Answer, pc.localDescription?.sdp ?? answer.sdp ?? "");
    }
  }

  /**
   * Sends this side's description, with its proof when paired by code (or
   * as remembered devices), and the candidates found meanwhile after it.
   *
   * @param {"offer" | "answer"} type
   * @param {string} sdp
   */
  async #describe(type, sdp) {
    const binding = this.#options.binding;
    this.#signal(binding ? { type, sdp, proof: await binding.proof(sdp) } : { type, sdp });
    this.#described();
  }

  /** @param {CandidateInit} candidate */
  async #takeCandidate(candidate) {
    if (this.#remoteDescriptionSet) await this.#addCandidate(candidate);
    else this.#early.push(candidate);
  }

  /** @param {CandidateInit} candidate */
  async #addCandidate(candidate) {
    try {
      await this.#pc?.addIceCandidate(candidate);
    } catch (error) {
      // One bad candidate (or an end marker a stack does not take) costs
      // that candidate only; the others may still connect.
      this.#debug(`ignored a candidate the connection refused: ${errorText(error)}`);
    }
  }

  /** This side's description went out: the candidates found meanwhile follow it. */
  #described() {
    const unsent = this.#unsentCandidates ?? [];
    this.#unsentCandidates = undefined;
    for (const message of unsent) this.#signal(message);
  }

  /** @param {Partial<CandidateInit> | null | undefined} candidate */
  #sendCandidate(candidate) {
    /** @type {SignalOut} */
    const message = {
      type: MessageType.Candidate,
      candidate: candidate?.candidate
        ? {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? null,
          sdpMLineIndex: candidate.sdpMLineIndex ?? null,
        }
        : { candidate: "", sdpMid: null, sdpMLineIndex: 0 },
    };
    if (this.#unsentCandidates) this.#unsentCandidates.push(message);
    else this.#signal(message);
  }

  /** @param {DataChannelLike} channel */
  #watch(channel) {
    this.#channel = channel;
    channel.onopen = () => this.#opened();
    channel.onmessage = (event) => {
      if (this.#state !== "open") return;
      const data = event.data;
      if (typeof data !== "string") this.#debug("ignored a binary message on the chat channel");
      else if (this.#held) this.#held.push(data);
      else this.#emit({ kind: "message", text: data });
    };
    channel.onclose = () => this.#fail("the data channel closed");
    if (channel.readyState === "open") this.#opened();
  }

  #opened() {
    if (this.#state !== "negotiating") return;
    clearTimeout(this.#timer);
    this.#state = "open";
    const ms = Math.round(this.#now() - this.#startedAt);
    const pc = this.#pc;
    if (typeof pc?.getStats !== "function") {
      this.#emit({ kind: "open", ms });
      return;
    }
    // "open" goes first, with the path; lines that come meanwhile wait for it.
    this.#held = [];
    withTimeout(pc.getStats(), STATS_TIMEOUT_MS).then(pathFromStats, (error) => {
      this.#debug(`no path from the statistics: ${errorText(error)}`);
      return undefined;
    }).then((path) => {
      const held = this.#held ?? [];
      this.#held = undefined;
      if (this.#state !== "open") return;
      this.#emit(path ? { kind: "open", ms, path } : { kind: "open", ms });
      for (const text of held) {
        if (this.#state === "open") this.#emit({ kind: "message", text });
      }
    });
  }

  /** @param {IceCandidateErrorLike} event */
  #candidateError(event) {
    this.#debug(
      `ICE server ${event.url ?? ""} answered ${event.errorCode} ${event.errorText ?? ""}`,
    );
    if (event.errorCode !== 401) return;
    this.#turnRefused = true;
    if (this.#options.relayOnly) this.#fail(TURN_REFUSED);
  }

  /**
   * @param {string} reason
   * @param {boolean} [tampered]
   */
  #fail(reason, tampered = false) {
    if (this.#state !== "negotiating" && this.#state !== "open") return;
    this.#state = "failed";
    this.#release();
    this.#emit(tampered ? { kind: "failed", reason, tampered } : { kind: "failed", reason });
  }

  #release() {
    clearTimeout(this.#timer);
    const channel = this.#channel;
    const pc = this.#pc;
    if (channel) {
      channel.onopen = channel.onmessage = channel.onclose = null;
    }
    if (pc) {
      pc.onicecandidate = pc.ondatachannel = pc.onconnectionstatechange = null;
      pc.onicecandidateerror = null;
    }
    try {
      channel?.close();
      pc?.close();
    } catch (error) {
      this.#debug(`closing the peer connection: ${errorText(error)}`);
    }
  }

  /**
   * @param {() => Promise<void>} step
   * @param {string} what
   */
  #enqueue(step, what) {
    this.#queue = this.#queue.then(async () => {
      if (this.#state !== "negotiating" && this.#state !== "open") return;
      try {
        await step();
      } catch (error) {
        this.#fail(`could not ${what}: ${errorText(error)}`);
      }
    });
  }

  /** @param {SignalOut} message */
  #signal(message) {
    if (this.#state === "negotiating" || this.#state === "open") this.#options.signal(message);
  }

  /** @param {LinkEvent} event */
  #emit(event) {
    this.#options.onEvent(event);
  }

  /** @param {string} text */
  #debug(text) {
    this.#options.debug?.(text);
  }

  #now() {
    return (this.#options.now ?? (() => performance.now()))();
  }
}

/**
 * A `candidate` field from the network as a candidate to add, or `undefined`
 * when it is malformed. `null` (an older end-of-candidates form) becomes the
 * empty candidate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toCandidate } from "./peer_link.js";
 * assert.deepEqual(toCandidate({ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" }), {
 *   candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
 *   sdpMid: "0",
 *   sdpMLineIndex: null,
 * });
 * assert.equal(toCandidate({ candidate: 42 }), undefined);
 * ```
 *
 * @param {unknown} value
 * @returns {CandidateInit | undefined}
 */
export function toCandidate(value) {
  if (value === null) return { candidate: "", sdpMid: null, sdpMLineIndex: 0 };
  if (typeof value !== "object" || value === undefined) return undefined;
  const { candidate, sdpMid, sdpMLineIndex } = /** @type {Record<string, unknown>} */ (value);
  if (typeof candidate !== "string") return undefined;
  if (sdpMid !== undefined && sdpMid !== null && typeof sdpMid !== "string") return undefined;
  if (
    sdpMLineIndex !== undefined && sdpMLineIndex !== null &&
    !(Number.isInteger(sdpMLineIndex) && /** @type {number} */ (sdpMLineIndex) >= 0)
  ) {
    return undefined;
  }
  return {
    candidate,
    sdpMid: typeof sdpMid === "string" ? sdpMid : null,
    sdpMLineIndex: typeof sdpMLineIndex === "number" ? sdpMLineIndex : null,
  };
}

/**
 * Whether the selected candidate pair in a connection's statistics goes
 * through a TURN relay (its local candidate is a `relay` one) or not; the
 * browser's and werift's statistics both name the pair in their transport.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathFromStats } from "./peer_link.js";
 * const report = new Map<string, Record<string, unknown>>([
 *   ["T", { type: "transport", id: "T", selectedCandidatePairId: "P" }],
 *   ["P", { type: "candidate-pair", id: "P", localCandidateId: "L" }],
 *   ["L", { type: "local-candidate", id: "L", candidateType: "relay" }],
 * ]);
 * assert.equal(pathFromStats(report), "relay");
 * report.set("L", { type: "local-candidate", id: "L", candidateType: "host" });
 * assert.equal(pathFromStats(report), "direct");
 * assert.equal(pathFromStats(new Map()), undefined);
 * ```
 *
 * @param {StatsReportLike} report
 * @returns {LinkPath | undefined} `undefined` when no pair is selected.
 */
export function pathFromStats(report) {
  /** @type {Map<unknown, Record<string, unknown>>} */
  const byId = new Map();
  report.forEach((stat) => byId.set(stat.id, stat));
  let pair;
  for (const stat of byId.values()) {
    if (stat.type === "transport" && stat.selectedCandidatePairId !== undefined) {
      pair = byId.get(stat.selectedCandidatePairId);
      if (pair) break;
    }
  }
  // Firefox marks the pair itself instead.
  pair ??= [...byId.values()].find((stat) => stat.type === "candidate-pair" && stat.selected);
  const local = pair && byId.get(pair.localCandidateId);
  if (!local || typeof local.candidateType !== "string") return undefined;
  return local.candidateType === "relay" ? "relay" : "direct";
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, late])).finally(() =>
    clearTimeout(timer)
  );
}

/**
 * @param {unknown} error
 * @returns {string}
 */
function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}
