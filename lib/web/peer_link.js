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
 *
 * @module
 */

import { CHAT_CHANNEL, MessageType } from "./protocol.js";

/**
 * @typedef {object} CandidateInit An ICE candidate as it travels in a
 *   `candidate` message.
 * @property {string} candidate The candidate line; empty for end of candidates.
 * @property {string | null} [sdpMid] The media section's id.
 * @property {number | null} [sdpMLineIndex] The media section's index.
 */

/**
 * @typedef {object} DataChannelLike The part of `RTCDataChannel` used here.
 * @property {string} label
 * @property {string} readyState
 * @property {(data: string) => void} send
 * @property {() => void} close
 * @property {((event: unknown) => void) | null | undefined} [onopen]
 * @property {((event: { data: unknown }) => void) | null | undefined} [onmessage]
 * @property {((event: unknown) => void) | null | undefined} [onclose]
 */

/**
 * @typedef {object} SessionDescriptionLike
 * @property {string} type
 * @property {string} [sdp]
 */

/**
 * @typedef {object} PeerConnectionLike The part of `RTCPeerConnection` used
 *   here; the browser's and werift's both fit.
 * @property {(label: string, init?: { ordered?: boolean }) => DataChannelLike} createDataChannel
 * @property {() => Promise<SessionDescriptionLike>} createOffer
 * @property {() => Promise<SessionDescriptionLike>} createAnswer
 * @property {(description: SessionDescriptionLike) => Promise<unknown>} setLocalDescription
 * @property {(description: { type: "offer" | "answer", sdp: string }) => Promise<unknown>} setRemoteDescription
 * @property {(candidate: CandidateInit) => Promise<unknown>} addIceCandidate
 * @property {SessionDescriptionLike | null | undefined} localDescription
 * @property {SessionDescriptionLike | null | undefined} [remoteDescription]
 * @property {string} connectionState
 * @property {((event: { candidate?: Partial<CandidateInit> | null }) => void) | null | undefined} [onicecandidate]
 * @property {((event: { channel: DataChannelLike }) => void) | null | undefined} [ondatachannel]
 * @property {(() => void) | null | undefined} [onconnectionstatechange]
 * @property {() => unknown} close
 */

/**
 * @typedef {{ type: "offer", sdp: string }
 *   | { type: "answer", sdp: string }
 *   | { type: "candidate", candidate: CandidateInit | null }} SignalOut
 *   A message for the server to forward to the partner.
 */

/**
 * @typedef {{ kind: "open", ms: number }
 *   | { kind: "message", text: string }
 *   | { kind: "failed", reason: string }} LinkEvent
 *   What the link reports: the channel opened (`ms` since `start()`), a line
 *   arrived on it, or peer-to-peer is not (or no longer) possible.
 */

/**
 * @typedef {object} PeerLinkOptions
 * @property {boolean} initiator Whether this side creates the channel and the offer.
 * @property {() => PeerConnectionLike} createPeerConnection Makes the
 *   connection, with the ICE servers and policy already in its configuration.
 * @property {(message: SignalOut) => void} signal Sends a message to the partner
 *   through the server.
 * @property {(event: LinkEvent) => void} onEvent Receives what happens.
 * @property {number} timeoutMs How long the channel may take to open.
 * @property {(text: string) => void} [debug] Receives details worth a debug log line.
 * @property {() => number} [now] The clock in milliseconds; `performance.now` by default.
 * @property {(channel: DataChannelLike) => void} [onChannel] Receives the
 *   other channels the partner opens (files); without it they are closed.
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
 *     throw new Error("not reached: the responder makes its connection on start()");
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
  /** @type {CandidateInit[]} Candidates that came before the remote description. */
  #early = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  #startedAt = 0;
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
      () => this.#fail(`no peer-to-peer connection within ${options.timeoutMs / 1000} s`),
      options.timeoutMs,
    );
    let pc;
    try {
      pc = this.#pc = options.createPeerConnection();
    } catch (error) {
      this.#fail(`cannot create a peer connection: ${errorText(error)}`);
      return;
    }
    pc.onicecandidate = (event) => this.#sendCandidate(event.candidate);
    pc.onconnectionstatechange = () => {
      this.#debug(`connection ${pc.connectionState}`);
      if (pc.connectionState === "failed") this.#fail("ICE failed");
    };
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
      this.#enqueue(async () => {
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        this.#signal({ type: MessageType.Offer, sdp: pc.localDescription?.sdp ?? offer.sdp ?? "" });
      }, "make an offer");
    }
  }

  /**
   * Takes an `offer`, `answer` or `candidate` message from the partner.
   *
   * @param {{ type: string, sdp?: unknown, candidate?: unknown }} message
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
        this.#enqueue(() => this.#takeDescription(type, sdp), `take the ${type}`);
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
      this.#signal({ type: MessageType.Answer, sdp: pc.localDescription?.sdp ?? answer.sdp ?? "" });
    }
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

  /** @param {Partial<CandidateInit> | null | undefined} candidate */
  #sendCandidate(candidate) {
    this.#signal({
      type: MessageType.Candidate,
      candidate: candidate?.candidate
        ? {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? null,
          sdpMLineIndex: candidate.sdpMLineIndex ?? null,
        }
        : { candidate: "", sdpMid: null, sdpMLineIndex: 0 },
    });
  }

  /** @param {DataChannelLike} channel */
  #watch(channel) {
    this.#channel = channel;
    channel.onopen = () => this.#opened();
    channel.onmessage = (event) => {
      if (this.#state !== "open") return;
      const data = event.data;
      if (typeof data === "string") this.#emit({ kind: "message", text: data });
      else this.#debug("ignored a binary message on the chat channel");
    };
    channel.onclose = () => this.#fail("the data channel closed");
    if (channel.readyState === "open") this.#opened();
  }

  #opened() {
    if (this.#state !== "negotiating") return;
    clearTimeout(this.#timer);
    this.#state = "open";
    this.#emit({ kind: "open", ms: Math.round(this.#now() - this.#startedAt) });
  }

  /** @param {string} reason */
  #fail(reason) {
    if (this.#state !== "negotiating" && this.#state !== "open") return;
    this.#state = "failed";
    this.#release();
    this.#emit({ kind: "failed", reason });
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
 * @param {unknown} error
 * @returns {string}
 */
function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}
