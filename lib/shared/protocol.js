// This module is browser compatible.
// @ts-check
/**
 * The Switchboard wire protocol, declared once as plain data: its names, the
 * fields of every message type (the schema), and the check that holds a
 * message to it. The server, the command-line client and the browser page
 * all import this file (the server serves it to the page as it is); the
 * TypeScript types of the messages are in `../protocol/messages.ts`.
 *
 * @module
 */

/** Every message type, in either direction. */
export const MessageType = /** @type {const} */ ({
  /** Server → client: the client's id; always the first message. */
  YourId: "your_id",
  /** Server → client: a problem with what the client sent. */
  Error: "error",
  /** Client → server `{target}`: ask to pair; server → target `{from}`. */
  PairRequest: "pair_request",
  /** Client → server `{from}`: accept a pending request. */
  PairAccept: "pair_accept",
  /** Client → server `{from}`: decline a pending request. */
  PairReject: "pair_reject",
  /** Server → both `{peer, initiator, iceServers?}`: the pair is made. */
  Paired: "paired",
  /** Server → requester `{peer, reason}`: the request ended without a pair. */
  PairRejected: "pair_rejected",
  /** Server → target `{from, reason}`: a request to it ended before it answered. */
  PairCancelled: "pair_cancelled",
  /** WebRTC SDP offer `{sdp}`, forwarded to the partner with `from`. */
  Offer: "offer",
  /** WebRTC SDP answer `{sdp}`, forwarded to the partner with `from`. */
  Answer: "answer",
  /** WebRTC ICE candidate `{candidate}`, forwarded to the partner with `from`. */
  Candidate: "candidate",
  /** Application data `{data}`, forwarded to the partner with `from`. */
  Relay: "relay",
  /** Client → server: end the pairing. */
  Unpair: "unpair",
  /** Server → partner `{peer, reason}`: the partner is gone. */
  PeerLeft: "peer_left",
  /**
   * Server → a client that asked for resumability `{resume_token, grace_s}`:
   * sent right after `your_id`, and again after each resume with a new token.
   */
  Session: "session",
  /** Server → partner `{peer}`: the partner lost its connection and may resume. */
  PeerReconnecting: "peer_reconnecting",
  /** Server → partner `{peer}`: the partner resumed its session. */
  PeerBack: "peer_back",
  /** Client → server: hold a nameplate, the number of a code for pairing by code. */
  CodeClaim: "code_claim",
  /** Server → client `{nameplate, expires_s}`: the nameplate it holds, and for how long. */
  Nameplate: "nameplate",
  /** Client → server: give up the nameplate it holds. */
  CodeRelease: "code_release",
  /**
   * Client → server `{nameplate}`: pair with the nameplate's holder at once
   * (typing the code is the consent); the nameplate is spent either way.
   */
  CodeUse: "code_use",
  /** Server → holder `{nameplate}`: the nameplate expired unused. */
  NameplateExpired: "nameplate_expired",
  /**
   * Client → server `{rendezvous}`: meet a remembered device, which sends the
   * same rendezvous (a secret both derived when they first paired by code):
   * the first to come waits, the second is paired with it at once.
   */
  Meet: "meet",
  /** Server → client `{expires_s}`: nobody waits under that rendezvous yet; this client does. */
  MeetWaiting: "meet_waiting",
  /** Server → client: its wait under a rendezvous ended unmet. */
  MeetExpired: "meet_expired",
  /**
   * The password-authenticated key exchange of partners paired by code
   * `{share?, confirm?, failure?}`, forwarded to the partner with `from`.
   */
  Pake: "pake",
  /**
   * Client → server `{token}`: a fresh access token for this connection,
   * from the app that embeds the client; same `sub` and tenant.
   */
  Refresh: "refresh",
  /**
   * Server → client `{expires_s}`: its access token expires soon; the
   * connection is closed (1008 `token expired`) then unless it sends `refresh`.
   */
  TokenExpiring: "token_expiring",
  /** Server → client `{expires_s}`: the fresh token is accepted; the connection lasts until it expires. */
  TokenRefreshed: "token_refreshed",
});

/** Error codes carried by an `error` message. */
export const ErrorCode = /** @type {const} */ ({
  /** The text frame is not JSON. */
  InvalidJson: "invalid_json",
  /** The JSON is not an object with a string `type`, or a field is wrong. */
  InvalidMessage: "invalid_message",
  /** The `type` is not one the server knows. */
  UnknownType: "unknown_type",
  /** A binary frame; the protocol is text only. */
  BinaryNotSupported: "binary_not_supported",
  /** The server is at its client limit; the connection is closed next. */
  ServerFull: "server_full",
  /** No connected client has that id. */
  UnknownPeer: "unknown_peer",
  /** A client asked to pair with itself. */
  SelfPair: "self_pair",
  /** The client already has a partner. */
  AlreadyPaired: "already_paired",
  /** The other client already has a partner. */
  PeerBusy: "peer_busy",
  /** The client has no partner to send to or leave. */
  NotPaired: "not_paired",
  /** No live pairing request from that id. */
  NoPendingRequest: "no_pending_request",
  /** The resume token was unknown, used or expired; the client has a new id. */
  ResumeFailed: "resume_failed",
  /** That client lost its connection and may resume; it cannot pair meanwhile. */
  PeerUnavailable: "peer_unavailable",
  /** The client's API key has as many clients as it may; the connection is closed next. */
  KeyLimit: "key_limit",
  /** No code is waiting under that nameplate: it was used, expired or mistyped. */
  UnknownNameplate: "unknown_nameplate",
  /** Too many codes claimed or tried from this address or key; try again in a minute. */
  TooManyCodes: "too_many_codes",
  /** A `refresh` token was refused (bad, expired, another user or tenant); the old one still holds. */
  TokenRefused: "token_refused",
});

/** WebSocket close codes the server uses (RFC 6455, section 7.4.1). */
export const CloseCode = /** @type {const} */ ({
  /** Normal closure. */
  Normal: 1000,
  /** The server is shutting down, or the peer stopped answering pings. */
  GoingAway: 1001,
  /**
   * The client broke a policy: it sent messages faster than allowed, its key
   * was revoked, or its access token expired.
   */
  PolicyViolation: 1008,
  /** The client sent a message larger than the server accepts. */
  MessageTooBig: 1009,
  /** The server, or the client's API key, is full; try again later. */
  TryAgainLater: 1013,
  /** Another connection resumed this client's session. */
  Superseded: 4000,
});

/**
 * Query parameters of the WebSocket URL: `resumable=1` asks for a resumable
 * session, `resume=<token>` resumes one.
 */
export const ResumeParam = /** @type {const} */ ({
  /** `?resumable=1`: send a `session` message after `your_id`. */
  Resumable: "resumable",
  /** `?resume=<token>`: resume the session the token belongs to. */
  Resume: "resume",
});

/** The label of the data channel peers chat on. */
export const CHAT_CHANNEL = "chat";

/** The WebSocket subprotocol a browser offers, next to its key's. */
export const SUBPROTOCOL = "switchboard";

/**
 * The prefix of the subprotocol that carries a browser's API key
 * (`switchboard.key.<key>`): a browser cannot set headers on a WebSocket,
 * and a key in the URL would land in access logs.
 */
export const KEY_SUBPROTOCOL_PREFIX = "switchboard.key.";

/**
 * What the page and the app that embeds or opens it (`window.parent` or
 * `window.opener`) say with `postMessage`, when the server takes access
 * tokens: the app mints tokens on its own backend for its logged-in user.
 */
export const EmbedMessage = /** @type {const} */ ({
  /** App → page `{type, token}`: an access token to connect with (or refresh with). */
  Token: "switchboard.token",
  /** Page → app `{type, reason}`: send a token; `reason` is `start`, `expiring`, `expired` or `refused`. */
  TokenNeeded: "switchboard.token_needed",
});

/** Why a client whose access token does not let it receive files turns an offer away. */
export const FILES_NOT_GRANTED = "this user may not receive files (the app's access token says so)";

/** The fragment parameter that gives the page its access token (`#token=<jwt>`). */
export const TOKEN_FRAGMENT = "token";

/** The HTTP paths the page asks the server about, besides the WebSocket at `/`. */
export const HttpPath = /** @type {const} */ ({
  /** `200` while the server serves, `503` while it stops. */
  Health: "/healthz",
  /** `{"auth": boolean, "tokens": boolean}`: whether the server wants an API key, an access token. */
  Config: "/config.json",
});

/**
 * What each field of a message may hold: `any` is any JSON value, but it
 * must be present; a kind ending in `?` may also be absent.
 *
 * @typedef {"string" | "number" | "boolean" | "object|null" | "any" | "array?" | "string?"
 *   | "boolean?"} FieldKind
 */

/**
 * Message types and, for each, its fields (besides `type`) and their kinds.
 *
 * @typedef {Readonly<Record<string, Readonly<Record<string, FieldKind>>>>} Schema
 */

/**
 * What a client may send: the server answers anything else with an error.
 *
 * @type {Schema}
 */
export const CLIENT_SCHEMA = {
  [MessageType.PairRequest]: { target: "string" },
  [MessageType.PairAccept]: { from: "string" },
  [MessageType.PairReject]: { from: "string" },
  [MessageType.Unpair]: {},
  [MessageType.CodeClaim]: {},
  [MessageType.CodeRelease]: {},
  [MessageType.CodeUse]: { nameplate: "string" },
  [MessageType.Meet]: { rendezvous: "string" },
  // `proof`: for partners paired by code, the MAC of the description's fingerprints.
  [MessageType.Offer]: { sdp: "string", proof: "string?" },
  [MessageType.Answer]: { sdp: "string", proof: "string?" },
  [MessageType.Candidate]: { candidate: "object|null" },
  [MessageType.Relay]: { data: "any" },
  [MessageType.Pake]: {
    share: "string?",
    confirm: "string?",
    failure: "string?",
    identity: "string?",
  },
  [MessageType.Refresh]: { token: "string" },
};

/**
 * What the server sends: a peer drops anything else.
 *
 * @type {Schema}
 */
export const SERVER_SCHEMA = {
  // `receive_files: false`: this client's access token does not let it receive files.
  [MessageType.YourId]: { id: "string", receive_files: "boolean?" },
  [MessageType.Error]: { code: "string", message: "string" },
  [MessageType.PairRequest]: { from: "string" },
  [MessageType.Paired]: {
    peer: "string",
    initiator: "boolean",
    iceServers: "array?",
    by_code: "boolean?",
    by_device: "boolean?",
  },
  [MessageType.PairRejected]: { peer: "string", reason: "string" },
  [MessageType.PairCancelled]: { from: "string", reason: "string" },
  [MessageType.PeerLeft]: { peer: "string", reason: "string" },
  [MessageType.Session]: { resume_token: "string", grace_s: "number" },
  [MessageType.PeerReconnecting]: { peer: "string" },
  [MessageType.PeerBack]: { peer: "string" },
  [MessageType.Nameplate]: { nameplate: "string", expires_s: "number" },
  [MessageType.NameplateExpired]: { nameplate: "string" },
  [MessageType.MeetWaiting]: { expires_s: "number" },
  [MessageType.MeetExpired]: {},
  [MessageType.TokenExpiring]: { expires_s: "number" },
  [MessageType.TokenRefreshed]: { expires_s: "number" },
  [MessageType.Offer]: { sdp: "string", proof: "string?", from: "string" },
  [MessageType.Answer]: { sdp: "string", proof: "string?", from: "string" },
  [MessageType.Candidate]: { candidate: "object|null", from: "string" },
  [MessageType.Relay]: { data: "any", from: "string" },
  [MessageType.Pake]: {
    share: "string?",
    confirm: "string?",
    failure: "string?",
    identity: "string?",
    from: "string",
  },
};

/**
 * A JSON object with a string `type`: the envelope every message shares.
 *
 * @typedef {{ type: string, [field: string]: unknown }} Envelope
 */

/** @typedef {typeof ErrorCode[keyof typeof ErrorCode]} ErrorCodeValue An error code. */

/**
 * The outcome of parsing or checking a message: it, or the error to answer with.
 *
 * @template M
 * @typedef {{ ok: true, message: M }
 *   | { ok: false, code: ErrorCodeValue, reason: string }} Checked
 */

/**
 * Parses a text frame into an envelope, without judging its type. Never
 * throws: a bad frame gives `ok: false` with the error code to answer.
 *
 * @param {string} text A text frame.
 * @returns {Checked<Envelope>}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEnvelope } from "./protocol.js";
 * assert.deepEqual(parseEnvelope('{"type":"x"}'), { ok: true, message: { type: "x" } });
 * assert.deepEqual(parseEnvelope("nope"), {
 *   ok: false,
 *   code: "invalid_json",
 *   reason: "not valid JSON",
 * });
 * ```
 */
export function parseEnvelope(text) {
  /** @type {unknown} */
  let value;
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
  const type = /** @type {Record<string, unknown>} */ (value).type;
  if (typeof type !== "string") {
    return {
      ok: false,
      code: ErrorCode.InvalidMessage,
      reason: 'field "type" must be a string',
    };
  }
  return { ok: true, message: /** @type {Envelope} */ (value) };
}

/**
 * Checks that an envelope is a type `schema` knows, with the right fields,
 * and keeps only those fields (a forged `from` never survives).
 *
 * @param {Envelope} envelope
 * @param {Schema} schema {@link CLIENT_SCHEMA} or {@link SERVER_SCHEMA}.
 * @returns {Checked<Envelope>}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMessage, CLIENT_SCHEMA } from "./protocol.js";
 * assert.deepEqual(checkMessage({ type: "pair_request", target: 7 }, CLIENT_SCHEMA), {
 *   ok: false,
 *   code: "invalid_message",
 *   reason: 'field "target" must be a string',
 * });
 * assert.deepEqual(checkMessage({ type: "unpair", from: "forged" }, CLIENT_SCHEMA), {
 *   ok: true,
 *   message: { type: "unpair" },
 * });
 * ```
 */
export function checkMessage(envelope, schema) {
  const fields = Object.hasOwn(schema, envelope.type) ? schema[envelope.type] : undefined;
  if (fields === undefined) {
    return {
      ok: false,
      code: ErrorCode.UnknownType,
      reason: `unknown message type "${truncate(envelope.type, 40)}"`,
    };
  }
  /** @type {Envelope} */
  const message = { type: envelope.type };
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
  return { ok: true, message };
}

/**
 * Parses and checks a text frame from the server, as a peer receives it.
 *
 * @param {string} text
 * @returns {Checked<Envelope>}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readServerMessage } from "./protocol.js";
 * assert.deepEqual(readServerMessage('{"type":"your_id","id":"a"}'), {
 *   ok: true,
 *   message: { type: "your_id", id: "a" },
 * });
 * assert.equal(readServerMessage('{"type":"your_id"}').ok, false);
 * ```
 */
export function readServerMessage(text) {
  const parsed = parseEnvelope(text);
  return parsed.ok ? checkMessage(parsed.message, SERVER_SCHEMA) : parsed;
}

/** @type {Readonly<Record<FieldKind, string>>} */
const KIND_NAMES = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  "object|null": "an object or null",
  any: "present",
  "array?": "an array",
  "string?": "a string",
  "boolean?": "a boolean",
};

/**
 * @param {unknown} value
 * @param {FieldKind} kind
 * @returns {boolean}
 */
function fits(value, kind) {
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
    case "string?":
      return typeof value === "string";
    case "boolean?":
      return typeof value === "boolean";
  }
}

// The untrusted type echoed in a reason is cut short (the runtime's
// `truncate()`, which this browser-compatible module cannot import).
/**
 * @param {string} text
 * @param {number} max
 */
function truncate(text, max) {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * One STUN or TURN server, in the browser's `RTCIceServer` shape.
 *
 * @typedef {object} IceServer
 * @property {string | string[]} urls `stun:host:port`, `turn:host:port?transport=udp`, …; one or several.
 * @property {string} [username] The TURN username.
 * @property {string} [credential] The TURN password.
 */

/**
 * Keeps the well-formed entries of an `iceServers` list from the network: a
 * `urls` string or list of strings, and string `username` and `credential`
 * when present. Anything else is dropped rather than handed to a WebRTC stack.
 *
 * @param {unknown} value
 * @returns {IceServer[]}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toIceServers } from "./protocol.js";
 * assert.deepEqual(
 *   toIceServers([{ urls: "stun:example.org" }, { urls: 7 }, "junk"]),
 *   [{ urls: "stun:example.org" }],
 * );
 * ```
 */
export function toIceServers(value) {
  if (!Array.isArray(value)) return [];
  /** @type {IceServer[]} */
  const servers = [];
  for (const entry of value) {
    if (typeof entry !== "object" || entry === null) continue;
    const { urls, username, credential } = /** @type {Record<string, unknown>} */ (entry);
    const urlList = typeof urls === "string" ? [urls] : urls;
    if (!Array.isArray(urlList) || urlList.length === 0) continue;
    if (!urlList.every((url) => typeof url === "string")) continue;
    if (username !== undefined && typeof username !== "string") continue;
    if (credential !== undefined && typeof credential !== "string") continue;
    /** @type {IceServer} */
    const server = { urls: /** @type {string | string[]} */ (urls) };
    if (username !== undefined) server.username = username;
    if (credential !== undefined) server.credential = credential;
    servers.push(server);
  }
  return servers;
}
