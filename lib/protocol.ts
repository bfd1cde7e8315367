/**
 * The Switchboard wire protocol: every message type, error code and close
 * code, declared once and shared by the server, the client and the tests.
 *
 * Every message is a JSON object in a text frame with a string `type`.
 *
 * @module
 */

/** Message types the server sends. */
export const ServerMessageType = {
  /** The client's id; always the first message on a connection. */
  YourId: "your_id",
  /** A problem with something the client sent, or with the server's state. */
  Error: "error",
} as const;

/** A server message type. */
export type ServerMessageType = typeof ServerMessageType[keyof typeof ServerMessageType];

/** Error codes carried by an {@linkcode ErrorMessage}. */
export const ErrorCode = {
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
} as const;

/** An error code. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** WebSocket close codes the server uses (RFC 6455, section 7.4.1). */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** The server is shutting down, or the peer stopped answering pings. */
  GoingAway: 1001,
  /** The client broke a policy: it sent messages faster than allowed. */
  PolicyViolation: 1008,
  /** The client sent a message larger than the server accepts. */
  MessageTooBig: 1009,
  /** The server is full; try again later. */
  TryAgainLater: 1013,
} as const;

/** A close code the server sends. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** `{"type":"your_id","id":"<uuid>"}`: the client's id. */
export interface YourIdMessage {
  /** Always `"your_id"`. */
  type: typeof ServerMessageType.YourId;
  /** The client's id, a v4 UUID. */
  id: string;
}

/** `{"type":"error","code":"...","message":"..."}`. */
export interface ErrorMessage {
  /** Always `"error"`. */
  type: typeof ServerMessageType.Error;
  /** What went wrong, for programs. */
  code: ErrorCode;
  /** What went wrong, for people. */
  message: string;
}

/** Any message the server sends. */
export type ServerMessage = YourIdMessage | ErrorMessage;

/**
 * Builds the `your_id` message.
 *
 * @example
 * ```ts
 * import { yourId } from "./protocol.ts";
 * yourId("0f8c..."); // { type: "your_id", id: "0f8c..." }
 * ```
 */
export function yourId(id: string): YourIdMessage {
  return { type: ServerMessageType.YourId, id };
}

/** Builds an `error` message. */
export function errorMessage(code: ErrorCode, message: string): ErrorMessage {
  return { type: ServerMessageType.Error, code, message };
}

/** A JSON object with a string `type`: the envelope every message shares. */
export interface Envelope {
  /** The message type. */
  type: string;
  /** The other fields, unchecked. */
  [field: string]: unknown;
}

/** The outcome of parsing one text frame. */
export type ParseResult =
  | { ok: true; message: Envelope }
  | { ok: false; code: ErrorCode; reason: string };

/**
 * Parses a text frame into an {@linkcode Envelope}, without judging its type.
 * Never throws: a bad frame gives `ok: false` with the error code to answer.
 *
 * @example
 * ```ts
 * import { parseEnvelope } from "./protocol.ts";
 * parseEnvelope('{"type":"x"}'); // { ok: true, message: { type: "x" } }
 * parseEnvelope("nope"); // { ok: false, code: "invalid_json", ... }
 * ```
 */
export function parseEnvelope(text: string): ParseResult {
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

/**
 * Narrows an envelope received from the server to a known
 * {@linkcode ServerMessage}, checking its fields; `undefined` when the type is
 * unknown or a field is missing.
 */
export function toServerMessage(message: Envelope): ServerMessage | undefined {
  switch (message.type) {
    case ServerMessageType.YourId:
      return typeof message.id === "string" ? yourId(message.id) : undefined;
    case ServerMessageType.Error:
      return typeof message.code === "string" &&
          typeof message.message === "string"
        ? {
          type: ServerMessageType.Error,
          code: message.code as ErrorCode,
          message: message.message,
        }
        : undefined;
    default:
      return undefined;
  }
}

/**
 * Shortens a client's text for a log line, so a large or hostile message
 * cannot flood the log.
 */
export function truncate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
