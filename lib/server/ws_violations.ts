/**
 * Breaches of the WebSocket protocol itself (RFC 6455), told apart from a
 * lost connection. The runtime drops such a client without a close frame and
 * reports why only as the text of the socket's `error` event; this module
 * turns that text into a stable label for logs and metrics. Pure.
 *
 * @module
 */

/** A kind of protocol violation; the `kind` label of the metric. */
export type ViolationKind =
  | "invalid_utf8"
  | "invalid_opcode"
  | "reserved_bits"
  | "bad_control_frame"
  | "bad_fragment"
  | "bad_close_frame"
  | "frame_too_large";

// The runtime's messages (Deno 2.9, from its WebSocket implementation), in
// lower case. An error text not listed here is not called a violation.
const KINDS: ReadonlyMap<string, ViolationKind> = new Map([
  ["invalid utf-8", "invalid_utf8"],
  ["invalid value", "invalid_opcode"],
  ["reserved bits are not zero", "reserved_bits"],
  ["ping frame too large", "bad_control_frame"],
  ["control frame must not be fragmented", "bad_control_frame"],
  ["invalid fragment", "bad_fragment"],
  ["invalid continuation frame", "bad_fragment"],
  ["invalid close frame", "bad_close_frame"],
  ["invalid close code", "bad_close_frame"],
  ["invalid status code", "bad_close_frame"],
  ["frame too large", "frame_too_large"],
]);

/**
 * The kind of violation an `error` event's message reports, or `undefined`
 * when it reports something else (a reset, a timeout) or nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolViolation } from "./ws_violations.ts";
 * assert.equal(protocolViolation("Invalid UTF-8"), "invalid_utf8");
 * assert.equal(protocolViolation("Reserved bits are not zero"), "reserved_bits");
 * assert.equal(protocolViolation("No response from ping frame."), undefined);
 * ```
 */
export function protocolViolation(message: string | undefined): ViolationKind | undefined {
  return message === undefined ? undefined : KINDS.get(message.trim().toLowerCase());
}
