/**
 * The Switchboard wire protocol: every message type, error code and close
 * code, declared once and shared by the server, the client and the tests.
 *
 * Every message is a JSON object in a text frame with a string `type`.
 *
 * @module
 */

import { truncate } from "../runtime/safe_text.ts";
import * as names from "../shared/protocol.js";

export { CHAT_CHANNEL, ResumeParam } from "../shared/protocol.js";

/** Every message type, in either direction (declared in `lib/shared/protocol.js`). */
export const MessageType = names.MessageType;

/** Error codes carried by an {@linkcode ErrorMessage}. */
export const ErrorCode = names.ErrorCode;

/** WebSocket close codes the server uses (RFC 6455, section 7.4.1). */
export const CloseCode = names.CloseCode;

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

/** One STUN or TURN server, in the browser's `RTCIceServer` shape. */
export interface IceServer {
  /** `stun:host:port`, `turn:host:port?transport=udp`, …; one or several. */
  urls: string | string[];
  /** The TURN username. */
  username?: string;
  /** The TURN password. */
  credential?: string;
}

/** `{"type":"your_id","id":"<uuid>"}`: the client's id. */
export interface YourIdMessage {
  /** Always `"your_id"`. */
  type: typeof MessageType.YourId;
  /** The client's id, a v4 UUID. */
  id: string;
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
  | { type: typeof MessageType.Offer; sdp: string }
  | { type: typeof MessageType.Answer; sdp: string }
  | { type: typeof MessageType.Candidate; candidate: Record<string, unknown> | null }
  | { type: typeof MessageType.Relay; data: unknown };

/** Any message a client sends. */
export type ClientMessage =
  | { type: typeof MessageType.PairRequest; target: string }
  | { type: typeof MessageType.PairAccept; from: string }
  | { type: typeof MessageType.PairReject; from: string }
  | { type: typeof MessageType.Unpair }
  | SignalMessage;

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
  }
  | { type: typeof MessageType.PairRejected; peer: string; reason: PairRejectedReason }
  | { type: typeof MessageType.PairCancelled; from: string; reason: PairCancelledReason }
  | { type: typeof MessageType.PeerLeft; peer: string; reason: PeerLeftReason }
  | SessionMessage
  | { type: typeof MessageType.PeerReconnecting; peer: string }
  | { type: typeof MessageType.PeerBack; peer: string }
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
export function yourId(id: string): YourIdMessage {
  return { type: MessageType.YourId, id };
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

/** A JSON object with a string `type`: the envelope every message shares. */
export interface Envelope {
  /** The message type. */
  type: string;
  /** The other fields, unchecked. */
  [field: string]: unknown;
}

/** The outcome of parsing or checking a message: it, or the error to answer with. */
export type Checked<M> =
  | { ok: true; message: M }
  | { ok: false; code: ErrorCode; reason: string };

/**
 * Parses a text frame into an {@linkcode Envelope}, without judging its type.
 * Never throws: a bad frame gives `ok: false` with the error code to answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEnvelope } from "./messages.ts";
 * assert.deepEqual(parseEnvelope('{"type":"x"}'), { ok: true, message: { type: "x" } });
 * assert.deepEqual(parseEnvelope("nope"), {
 *   ok: false,
 *   code: "invalid_json",
 *   reason: "not valid JSON",
 * });
 * ```
 */
export function parseEnvelope(text: string): Checked<Envelope> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: ErrorCode.InvalidJson, reason: "not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      code: ErrorCode.InvalidMessage,
      reason: "a message must be a JSON object",
    };
  }
  const type = (value as Record<string, unknown>).type;
  if (typeof type !== "string") {
    return {
      ok: false,
      code: ErrorCode.InvalidMessage,
      reason: 'field "type" must be a string',
    };
  }
  return { ok: true, message: value as Envelope };
}

// What each field may hold; "any" is any JSON value, but it must be present.
// A kind ending in "?" may also be absent.
type FieldKind = "string" | "number" | "boolean" | "object|null" | "any" | "array?";
type Schema = Readonly<Record<string, Readonly<Record<string, FieldKind>>>>;

const CLIENT_SCHEMA: Schema = {
  [MessageType.PairRequest]: { target: "string" },
  [MessageType.PairAccept]: { from: "string" },
  [MessageType.PairReject]: { from: "string" },
  [MessageType.Unpair]: {},
  [MessageType.Offer]: { sdp: "string" },
  [MessageType.Answer]: { sdp: "string" },
  [MessageType.Candidate]: { candidate: "object|null" },
  [MessageType.Relay]: { data: "any" },
};

const SERVER_SCHEMA: Schema = {
  [MessageType.YourId]: { id: "string" },
  [MessageType.Error]: { code: "string", message: "string" },
  [MessageType.PairRequest]: { from: "string" },
  [MessageType.Paired]: { peer: "string", initiator: "boolean", iceServers: "array?" },
  [MessageType.PairRejected]: { peer: "string", reason: "string" },
  [MessageType.PairCancelled]: { from: "string", reason: "string" },
  [MessageType.PeerLeft]: { peer: "string", reason: "string" },
  [MessageType.Session]: { resume_token: "string", grace_s: "number" },
  [MessageType.PeerReconnecting]: { peer: "string" },
  [MessageType.PeerBack]: { peer: "string" },
  [MessageType.Offer]: { sdp: "string", from: "string" },
  [MessageType.Answer]: { sdp: "string", from: "string" },
  [MessageType.Candidate]: { candidate: "object|null", from: "string" },
  [MessageType.Relay]: { data: "any", from: "string" },
};

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
export function toClientMessage(envelope: Envelope): Checked<ClientMessage> {
  return check<ClientMessage>(envelope, CLIENT_SCHEMA);
}

/**
 * Narrows an envelope received from the server to a known
 * {@linkcode ServerMessage}, checking its fields; `undefined` when the type is
 * unknown or a field is wrong.
 */
export function toServerMessage(envelope: Envelope): ServerMessage | undefined {
  const checked = check<ServerMessage>(envelope, SERVER_SCHEMA);
  return checked.ok ? checked.message : undefined;
}

function check<M>(envelope: Envelope, schema: Schema): Checked<M> {
  const fields = Object.hasOwn(schema, envelope.type) ? schema[envelope.type] : undefined;
  if (fields === undefined) {
    return {
      ok: false,
      code: ErrorCode.UnknownType,
      reason: `unknown message type "${truncate(envelope.type, 40)}"`,
    };
  }
  const message: Record<string, unknown> = { type: envelope.type };
  for (const [field, kind] of Object.entries(fields)) {
    const value = envelope[field];
    if (value === undefined && kind.endsWith("?")) continue;
    if (!fits(value, kind)) {
      return {
        ok: false,
        code: ErrorCode.InvalidMessage,
        reason: `field "${field}" must be ${KIND_NAMES[kind]}`,
      };
    }
    message[field] = value;
  }
  // The schema above is the message types' definition, so this cast holds.
  return { ok: true, message: message as M };
}

const KIND_NAMES: Readonly<Record<FieldKind, string>> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  "object|null": "an object or null",
  any: "present",
  "array?": "an array",
};

function fits(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "object|null":
      return value === null || (typeof value === "object" && !Array.isArray(value));
    case "any":
      return value !== undefined;
    case "array?":
      return Array.isArray(value);
  }
}

/**
 * Keeps the well-formed entries of an `iceServers` list from the network: a
 * `urls` string or list of strings, and string `username` and `credential`
 * when present. Anything else is dropped rather than handed to a WebRTC stack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toIceServers } from "./messages.ts";
 * assert.deepEqual(
 *   toIceServers([{ urls: "stun:example.org" }, { urls: 7 }, "junk"]),
 *   [{ urls: "stun:example.org" }],
 * );
 * ```
 */
export function toIceServers(value: unknown): IceServer[] {
  if (!Array.isArray(value)) return [];
  const servers: IceServer[] = [];
  for (const entry of value) {
    if (typeof entry !== "object" || entry === null) continue;
    const { urls, username, credential } = entry as Record<string, unknown>;
    const urlList = typeof urls === "string" ? [urls] : urls;
    if (!Array.isArray(urlList) || urlList.length === 0) continue;
    if (!urlList.every((url) => typeof url === "string")) continue;
    if (username !== undefined && typeof username !== "string") continue;
    if (credential !== undefined && typeof credential !== "string") continue;
    const server: IceServer = { urls: urls as string | string[] };
    if (username !== undefined) server.username = username;
    if (credential !== undefined) server.credential = credential;
    servers.push(server);
  }
  return servers;
}
