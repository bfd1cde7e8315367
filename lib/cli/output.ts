/**
 * What the client prints on stdout for each message from the server: one
 * clear line per event. Pure, so the wording is tested without a network.
 *
 * @module
 */

import { ErrorCode, MessageType, type ServerMessage } from "../protocol/messages.ts";
import { printable } from "../runtime/safe_text.ts";
import { type LinkEvent, PATH_WORDS } from "../shared/peer_link.js";

/** How {@linkcode describeEvent} words its lines. */
export interface DescribeOptions {
  /**
   * Whether this is the WebRTC peer, for whom who makes the offer means
   * something; the plain client chats through the server and hears no
   * WebRTC words.
   */
  webrtc?: boolean;
  /** Whether the client accepts every request by itself (`--accept`): nothing to answer. */
  accepting?: boolean;
}

/**
 * The stdout line for a server message, with control characters escaped so a
 * peer can neither forge a line nor drive the terminal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeEvent } from "./output.ts";
 * assert.equal(describeEvent({ type: "paired", peer: "b", initiator: true }), "*** Paired with b ***");
 * assert.equal(
 *   describeEvent({ type: "paired", peer: "b", initiator: true }, { webrtc: true }),
 *   "*** Paired with b (you make the offer) ***",
 * );
 * assert.equal(describeEvent({ type: "relay", data: "hi\u001b[2J", from: "b" }), "b: hi\\u001b[2J");
 * ```
 */
export function describeEvent(message: ServerMessage, options: DescribeOptions = {}): string {
  // Every part but the fixed wording comes from the network.
  return printable(describe(message, options));
}

function describe(message: ServerMessage, { webrtc, accepting }: DescribeOptions): string {
  switch (message.type) {
    case MessageType.YourId:
      return `*** Your Client ID: ${message.id} ***`;
    case MessageType.Error:
      return `*** Error (${message.code}): ${
        Object.hasOwn(IN_COMMAND_WORDS, message.code)
          ? IN_COMMAND_WORDS[message.code]
          : message.message
      } ***`;
    case MessageType.PairRequest:
      return accepting
        ? `*** Pair request from ${message.from}; accepting it (--accept) ***`
        : `*** Pair request from ${message.from} (accept or reject) ***`;
    case MessageType.Paired:
      if (!webrtc) return `*** Paired with ${message.peer} ***`;
      // Who offers is settled once the code is proven (see code_session.js).
      if (message.by_code) return `*** Paired with ${message.peer} by code ***`;
      return `*** Paired with ${message.peer}${
        message.by_device ? " as a remembered device" : ""
      } (${message.initiator ? "you make the offer" : "they make the offer"}) ***`;
    case MessageType.PairRejected:
      return `*** Pair request to ${message.peer} ended (${message.reason}) ***`;
    case MessageType.PairCancelled:
      return `*** Pair request from ${message.from} withdrawn (${message.reason}) ***`;
    case MessageType.PeerLeft:
      return `*** Peer ${message.peer} left (${message.reason}) ***`;
    case MessageType.Session:
      return `*** The server keeps this session for ${message.grace_s} s if the connection drops ***`;
    case MessageType.PeerReconnecting:
      return `*** Peer ${message.peer} lost its connection; waiting for it to come back ***`;
    case MessageType.PeerBack:
      return `*** Peer ${message.peer} is back ***`;
    case MessageType.Relay:
      return `${message.from}: ${
        typeof message.data === "string" ? message.data : JSON.stringify(message.data)
      }`;
    case MessageType.Offer:
    case MessageType.Answer:
      return `*** ${message.type} from ${message.from} (${message.sdp.length} characters of SDP) ***`;
    case MessageType.Candidate:
      return `*** ICE candidate from ${message.from} ***`;
    // Said in words of their own by code_pairing.ts, which takes these first.
    case MessageType.Nameplate:
      return `*** Nameplate ${message.nameplate} (${message.expires_s} s) ***`;
    case MessageType.NameplateExpired:
      return `*** Nameplate ${message.nameplate} expired ***`;
    case MessageType.Pake:
      return `*** Key exchange from ${message.from} ***`;
    case MessageType.MeetWaiting:
      return `*** Waiting for a remembered device (${message.expires_s} s) ***`;
    case MessageType.MeetExpired:
      return "*** The remembered device did not come ***";
    case MessageType.TokenExpiring:
      return `*** The access token expires: the server closes this connection in ${message.expires_s} s ***`;
    case MessageType.TokenRefreshed:
      return `*** Access token renewed: ${message.expires_s} s left ***`;
  }
}

/**
 * The stdout line for what a peer-to-peer link reports, escaped like
 * {@linkcode describeEvent}: the channel opened, a line arrived on it, or
 * the conversation moved to the server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeLinkEvent } from "./output.ts";
 * assert.equal(
 *   describeLinkEvent("b", { kind: "open", ms: 42 }),
 *   "*** Data channel open with b (42 ms) ***",
 * );
 * assert.equal(
 *   describeLinkEvent("b", { kind: "open", ms: 412, path: "relay" }),
 *   "*** Data channel open with b (412 ms, via TURN relay) ***",
 * );
 * assert.equal(describeLinkEvent("b", { kind: "message", text: "hi\u001b[2J" }), "b: hi\\u001b[2J");
 * ```
 */
export function describeLinkEvent(peer: string, event: LinkEvent): string {
  switch (event.kind) {
    case "open":
      return printable(
        `*** Data channel open with ${peer} (${event.ms} ms${
          event.path ? `, ${PATH_WORDS[event.path]}` : ""
        }) ***`,
      );
    case "message":
      return printable(`${peer}: ${event.text}`);
    case "failed":
      return printable(
        `*** No peer-to-peer channel with ${peer} (${event.reason}); messages go via the server ***`,
      );
  }
}

/**
 * The stdout line for a chat line that came through the server while in
 * WebRTC mode: it says which path carried it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeRelayed } from "./output.ts";
 * assert.equal(describeRelayed("b", "hello"), "b (via server): hello");
 * ```
 */
export function describeRelayed(from: string, data: unknown): string {
  return printable(
    `${from} (via server): ${typeof data === "string" ? data : JSON.stringify(data)}`,
  );
}

// The server's wording names protocol messages ("unpair", "relay"); a person at
// the client knows its commands instead.
const IN_COMMAND_WORDS: Readonly<Record<string, string>> = {
  [ErrorCode.NotPaired]: "you have no partner: pair with someone first",
  [ErrorCode.AlreadyPaired]: "you already have a partner: leave first",
};
