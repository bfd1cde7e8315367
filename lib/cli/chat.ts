/**
 * Chat over a WebRTC data channel for the command-line peer: one
 * {@linkcode PeerLink} per pairing, and the server relay whenever the channel
 * is not open, so the conversation always goes on and every line received
 * through the server says so.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import { type ClientMessage, MessageType, type ServerMessage } from "../protocol/messages.ts";
import { describeLinkEvent, describeRelayed } from "./output.ts";
import { printable } from "../runtime/safe_text.ts";
import {
  type DataChannelLike,
  type LinkEvent,
  type PeerConnectionLike,
  PeerLink,
} from "../shared/peer_link.js";
import type { FingerprintBinding } from "../shared/code_exchange.js";
import type { PeerConnectionFactory } from "./werift/peer.ts";

const logger = getLogger(["switchboard", "webrtc"]);

/**
 * A channel that closes after it was open most often means the partner is
 * leaving, and the server says so (`peer_left`) within this long: only then
 * is the fall-back to the server announced. The page waits as long.
 */
export const LEFT_GRACE_MS = 2000;

/** What {@linkcode P2pChat} needs from the client around it. */
export interface P2pChatOptions {
  /** Makes a peer connection with the server's ICE servers. */
  createPeerConnection: PeerConnectionFactory;
  /** How long the channel may take to open, in milliseconds. */
  timeoutMs: number;
  /** Whether connections use TURN relays only, so a refused credential ends the attempt. */
  relayOnly?: boolean;
  /** Prints one line on stdout. */
  print(line: string): void;
  /** Sends a message to the server; `false` when not connected. */
  send(message: ClientMessage): boolean;
  /** What else rides on the connection (files); told when it opens and ends. */
  channels?: ChannelHooks;
  /**
   * Called when the negotiation ends: the channel opened, or chat fell back
   * to the server (again if an open channel fails later).
   */
  settled?(): void;
  /** How long a channel that closed after it was open waits for `peer_left`; {@linkcode LEFT_GRACE_MS} by default. */
  leftGraceMs?: number;
  /**
   * The partner's description failed its code proof: the caller ends the
   * pairing (and says why); chat does not fall back to the server.
   */
  tampered?(reason: string): void;
}

/** Hooks for what uses the peer connection besides chat. */
export interface ChannelHooks {
  /** The chat channel to `peer` opened on `connection` (`byCode`: its descriptions proven by a code). */
  opened(peer: string, connection: PeerConnectionLike | undefined, byCode: boolean): void;
  /** The partner opened another channel. */
  channel(peer: string, channel: DataChannelLike): void;
  /**
   * The connection is gone (`pairingEnded` false: it may be negotiated
   * again with the same partner), or the pairing ended.
   */
  closed(reason: string, pairingEnded: boolean): void;
}

type Paired = Extract<ServerMessage, { type: typeof MessageType.Paired }>;

/**
 * Why a pairing by code or by remembered device does not use the server's
 * relay: it was proven end to end, and the relay is the server's to read
 * and to forge.
 */
export const END_TO_END_ONLY =
  "a pairing by code or by remembered device talks only over its proven channel";

/** The command-line peer's side of peer-to-peer chat. */
export class P2pChat {
  /**
   * Set for a pairing by code or by remembered device: nothing goes through
   * the server's relay, and nothing that comes through it is shown.
   */
  endToEndOnly = false;
  readonly #options: P2pChatOptions;
  #link: PeerLink | undefined;
  #peer = "";
  // The pairing the link serves, to negotiate again after a resume.
  #paired: Paired | undefined;
  // For a pairing by code: what binds every description to the code's key.
  #binding: FingerprintBinding | undefined;
  // Holds back the fall-back line of a channel that closed after it was open.
  #grace: ReturnType<typeof setTimeout> | undefined;

  /** @param options How to make connections, print and reach the server. */
  constructor(options: P2pChatOptions) {
    this.#options = options;
  }

  /**
   * Starts negotiating with the new partner; paired by code, with the
   * binding of descriptions to the code's key.
   */
  paired(message: Paired, binding?: FingerprintBinding): void {
    this.ended();
    this.#negotiate(message, binding);
  }

  #negotiate(message: Paired, binding: FingerprintBinding | undefined): void {
    this.#paired = message;
    this.#binding = binding;
    const peer = this.#peer = message.peer;
    let opened = false;
    const link = this.#link = new PeerLink({
      initiator: message.initiator,
      createPeerConnection: () => this.#options.createPeerConnection(message.iceServers ?? []),
      signal: (signal) => {
        this.#options.send(signal);
      },
      onEvent: (event: LinkEvent) => {
        if (this.#link !== link) return;
        if (event.kind === "failed" && event.tampered) {
          this.#options.channels?.closed(event.reason, true);
          this.#options.settled?.();
          this.#options.tampered?.(event.reason);
          return;
        }
        if (event.kind === "failed" && opened) {
          this.#options.channels?.closed(event.reason, false);
          this.#grace = setTimeout(() => {
            this.#grace = undefined;
            if (this.#link === link) this.#options.print(describeLinkEvent(peer, event));
          }, this.#options.leftGraceMs ?? LEFT_GRACE_MS);
          return;
        }
        if (event.kind === "failed" && this.endToEndOnly) {
          this.#options.print(printable(
            `*** No peer-to-peer channel with ${peer} (${event.reason}): ${END_TO_END_ONLY}; leave and pair again ***`,
          ));
        } else {
          this.#options.print(describeLinkEvent(peer, event));
        }
        if (event.kind === "open") {
          opened = true;
          this.#options.channels?.opened(peer, link.connection, binding !== undefined);
        }
        if (event.kind === "failed") this.#options.channels?.closed(event.reason, false);
        if (event.kind !== "message") this.#options.settled?.();
      },
      onChannel: (channel) => {
        if (this.#link !== link) channel.close();
        else if (this.#options.channels) this.#options.channels.channel(peer, channel);
        else channel.close();
      },
      timeoutMs: this.#options.timeoutMs,
      relayOnly: this.#options.relayOnly ?? false,
      ...(binding ? { binding } : {}),
      debug: (text) =>
        logger.debug("Peer connection with {peerId}: {text}", { peerId: peer, text }),
    });
    link.start();
  }

  /**
   * Takes the messages that belong to peer-to-peer chat: signaling for the
   * link, and lines relayed by the server, which it prints marked as such.
   *
   * @returns Whether the message was taken.
   */
  take(message: ServerMessage): boolean {
    switch (message.type) {
      case MessageType.Offer:
      case MessageType.Answer:
      case MessageType.Candidate:
        if (message.from === this.#peer) this.#link?.handle(message);
        return true;
      case MessageType.Relay:
        if (this.endToEndOnly) {
          this.#options.print(
            `*** A line came through the server, not shown: ${END_TO_END_ONLY} ***`,
          );
        } else {
          this.#options.print(describeRelayed(message.from, message.data));
        }
        return true;
      default:
        return false;
    }
  }

  /**
   * Sends a chat line over the channel when it is open, and through the
   * server otherwise.
   *
   * @returns Whether it was sent either way.
   */
  send(text: string): boolean {
    if (this.#link?.send(text)) return true;
    if (this.endToEndOnly) {
      this.#options.print(`*** Not sent: ${END_TO_END_ONLY}, which is not open ***`);
      return true;
    }
    return this.#options.send({ type: MessageType.Relay, data: text });
  }

  /**
   * After a resume (ours, or the partner's `peer_back`): a channel that
   * survived the lost connection carries on; one that did not is negotiated
   * afresh, with the same roles, so the initiator offers again.
   */
  renegotiate(): void {
    const paired = this.#paired;
    if (paired === undefined || this.#link === undefined || this.#link.state === "open") return;
    logger.info("Negotiating a new peer-to-peer channel with {peerId}.", { peerId: paired.peer });
    // The same partner: what the old link carried may go on over the new one.
    this.#options.channels?.closed("the link is negotiated again", false);
    const binding = this.#binding;
    this.#link.close();
    this.#forget();
    this.#negotiate(paired, binding);
  }

  /** Closes the link: the partner left, we left, or the server went away. */
  ended(): void {
    if (this.#link) this.#options.channels?.closed("the pairing ended", true);
    this.#link?.close();
    this.#forget();
  }

  /**
   * Closes the link as {@linkcode P2pChat.ended} does, once the lines sent
   * on its channel have arrived (for `quit`, before the server hears of it
   * and tells the partner), within `ms`.
   */
  async finish(ms: number): Promise<void> {
    const link = this.#link;
    if (link === undefined) return;
    this.#forget();
    await link.finish(ms);
    this.#options.channels?.closed("the pairing ended", true);
  }

  #forget(): void {
    clearTimeout(this.#grace);
    this.#grace = undefined;
    this.#link = undefined;
    this.#paired = undefined;
    this.#binding = undefined;
  }
}
