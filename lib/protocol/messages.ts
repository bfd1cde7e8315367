/**
 * The Switchboard wire protocol: every message type, error code and close
 * code, declared once and shared by the server, the client and the tests.
 *
 * Every message is a JSON object in a text frame with a string `type`. The
 * names, the schema and the checks are data in `../shared/protocol.js`, which
 * the page runs too; this module gives them their TypeScript types.
 *
 * @module
 */

import * as shared from "../shared/protocol.js";

export { CHAT_CHANNEL, parseEnvelope, ResumeParam, toIceServers } from "../shared/protocol.js";
import type { Checked, Envelope, IceServer } from "../shared/protocol.js";
export type { Checked, Envelope, IceServer };

/** Every message type, in either direction (declared in `lib/shared/protocol.js`). */
export const MessageType = shared.MessageType;

/** Error codes carried by an {@linkcode ErrorMessage}. */
export const ErrorCode = shared.ErrorCode;

/** WebSocket close codes the server uses (RFC 6455, section 7.4.1). */
export const CloseCode = shared.CloseCode;

/** A message type. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** An error code. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Why a pairing request ended without a pair. */
export type PairRejectedReason = "rejected" | "timeout" | "peer_left";

/** Why a request ended before its target answered; the `reason` of `pair_cancelled`. */
export type PairCancelledReason =
  /** Nobody answered within `--pair-timeout`. */
  | "timeout"
  /** The requester asked another client instead. */
  | "replaced"
  /** The requester paired with another client. */
  | "paired"
  /** The requester disconnected. */
  | "peer_left";

/** Why a partner is gone; `timeout`: it lost its connection and did not resume in time. */
export type PeerLeftReason = "disconnected" | "unpaired" | "timeout";

/** A close code the server sends. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** `{"type":"your_id","id":"<uuid>"}`: the client's id. */
export interface YourIdMessage {
  /** Always `"your_id"`. */
  type: typeof MessageType.YourId;
  /** The client's id, a v4 UUID. */
  id: string;
  /** Present (`false`) when the client's access token does not let it receive files. */
  receive_files?: false;
}

/** `{"type":"error","code":"...","message":"..."}`. */
export interface ErrorMessage {
  /** Always `"error"`. */
  type: typeof MessageType.Error;
  /** What went wrong, for programs. */
  code: ErrorCode;
  /** What went wrong, for people. */
  message: string;
}

/** `{"type":"session","resume_token":"...","grace_s":15}`: how to resume this session. */
export interface SessionMessage {
  /** Always `"session"`. */
  type: typeof MessageType.Session;
  /** The single-use secret that resumes the session; a new one follows each resume. */
  resume_token: string;
  /** How long the session waits for a resume after the connection is lost, in seconds. */
  grace_s: number;
}

/** WebRTC signaling and application data, as a client sends it to its partner. */
export type SignalMessage =
  | { type: typeof MessageType.Offer; sdp: string; proof?: string }
  | { type: typeof MessageType.Answer; sdp: string; proof?: string }
  | { type: typeof MessageType.Candidate; candidate: Record<string, unknown> | null }
  | { type: typeof MessageType.Relay; data: unknown }
  | {
    type: typeof MessageType.Pake;
    share?: string;
    confirm?: string;
    failure?: string;
    identity?: string;
  };

/** Any message a client sends. */
export type ClientMessage =
  | { type: typeof MessageType.PairRequest; target: string }
  | { type: typeof MessageType.PairAccept; from: string }
  | { type: typeof MessageType.PairReject; from: string }
  | { type: typeof MessageType.Unpair }
  | { type: typeof MessageType.CodeClaim }
  | { type: typeof MessageType.CodeRelease }
  | { type: typeof MessageType.CodeUse; nameplate: string }
  | { type: typeof MessageType.Meet; rendezvous: string }
  | SignalMessage;

/** `{"type":"refresh","token":"<jwt>"}`: a fresh access token for the connection. */
export interface RefreshMessage {
  /** Always `"refresh"`. */
  type: typeof MessageType.Refresh;
  /** The new access token. */
  token: string;
}

/** Anything a client may send: what the signaling handles, and what its connection handles itself. */
export type InboundMessage = ClientMessage | RefreshMessage;

/** Any message the server sends. */
export type ServerMessage =
  | YourIdMessage
  | ErrorMessage
  | { type: typeof MessageType.PairRequest; from: string }
  | {
    type: typeof MessageType.Paired;
    peer: string;
    initiator: boolean;
    /** ICE servers for the peer connection; absent when the server has none. */
    iceServers?: IceServer[];
    /** Present (`true`) when the pair was made by a code: the partners run a PAKE first. */
    by_code?: boolean;
    /** Present (`true`) when two remembered devices met: each proves its saved key. */
    by_device?: boolean;
  }
  | { type: typeof MessageType.PairRejected; peer: string; reason: PairRejectedReason }
  | { type: typeof MessageType.PairCancelled; from: string; reason: PairCancelledReason }
  | { type: typeof MessageType.PeerLeft; peer: string; reason: PeerLeftReason }
  | SessionMessage
  | { type: typeof MessageType.PeerReconnecting; peer: string }
  | { type: typeof MessageType.PeerBack; peer: string }
  | { type: typeof MessageType.Nameplate; nameplate: string; expires_s: number }
  | { type: typeof MessageType.NameplateExpired; nameplate: string }
  | { type: typeof MessageType.MeetWaiting; expires_s: number }
  | { type: typeof MessageType.MeetExpired }
  | { type: typeof MessageType.TokenExpiring; expires_s: number }
  | { type: typeof MessageType.TokenRefreshed; expires_s: number }
  // The server stamps `from` itself, whatever the sender wrote.
  | (SignalMessage & { from: string });

/**
 * Builds the `your_id` message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { yourId } from "./messages.ts";
 * assert.deepEqual(yourId("0f8c..."), { type: "your_id", id: "0f8c..." });
 * ```
 */
export function yourId(id: string, receiveFiles = true): YourIdMessage {
  return receiveFiles
    ? { type: MessageType.YourId, id }
    : { type: MessageType.YourId, id, receive_files: false };
}

/**
 * Builds the `session` message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionMessage } from "./messages.ts";
 * assert.deepEqual(sessionMessage("t0k3n", 15), {
 *   type: "session",
 *   resume_token: "t0k3n",
 *   grace_s: 15,
 * });
 * ```
 */
export function sessionMessage(token: string, graceS: number): SessionMessage {
  return { type: MessageType.Session, resume_token: token, grace_s: graceS };
}

/** Builds an `error` message. */
export function errorMessage(code: ErrorCode, message: string): ErrorMessage {
  return { type: MessageType.Error, code, message };
}

/**
 * Checks that a client's envelope is a known type with the right fields, and
 * keeps only those fields (a forged `from` never survives).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toClientMessage } from "./messages.ts";
 * assert.deepEqual(toClientMessage({ type: "pair_request", target: 7 }), {
 *   ok: false,
 *   code: "invalid_message",
 *   reason: 'field "target" must be a string',
 * });
 * assert.deepEqual(toClientMessage({ type: "unpair", from: "forged" }), {
 *   ok: true,
 *   message: { type: "unpair" },
 * });
 * ```
 */
export function toClientMessage(envelope: Envelope): Checked<InboundMessage> {
  // The schema is the message types' definition, so this cast holds.
  return shared.checkMessage(envelope, shared.CLIENT_SCHEMA) as Checked<InboundMessage>;
}

/**
 * Narrows an envelope received from the server to a known
 * {@linkcode ServerMessage}, checking its fields; `undefined` when the type is
 * unknown or a field is wrong.
 */
export function toServerMessage(envelope: Envelope): ServerMessage | undefined {
  const checked = shared.checkMessage(envelope, shared.SERVER_SCHEMA);
  // The schema is the message types' definition, so this cast holds.
  return checked.ok ? checked.message as ServerMessage : undefined;
}
