/**
 * What becomes of a frame a client sends, before signaling sees it: too big,
 * over the rate limit, not JSON text, not a message this protocol knows, or
 * a message. No I/O: a frame, the limits and the clock in, a verdict out.
 *
 * @module
 */

import {
  ErrorCode,
  type InboundMessage,
  parseEnvelope,
  toClientMessage,
} from "../protocol/messages.ts";
import { truncate } from "../runtime/safe_text.ts";
import type { TokenBucket } from "./rate_limit.ts";

/** A frame's verdict. */
export type Inbound =
  /** A well-formed message, for signaling. */
  | { kind: "message"; message: InboundMessage }
  /** Larger than the limit: the client is closed with 1009. */
  | { kind: "too_big"; size: number }
  /** Over the rate limit: the client is closed with 1008. */
  | { kind: "rate_limited" }
  /** Bad input the client is told about, and stays connected. */
  | { kind: "bad"; code: ErrorCode; reason: string };

/**
 * Judges one frame: its size first, then the rate (a frame that is judged
 * takes a token), then its type and shape.
 *
 * @param data The frame: a string for text, an `ArrayBuffer` for binary.
 * @param maxMessageBytes The largest message accepted, in bytes.
 * @param bucket The client's rate limit.
 * @param now The clock, in milliseconds (`performance.now()`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectFrame } from "./inbound.ts";
 * import { TokenBucket } from "./rate_limit.ts";
 * const bucket = new TokenBucket(10, 2, 0);
 * assert.deepEqual(inspectFrame('{"type":"unpair"}', 100, bucket, 0), {
 *   kind: "message",
 *   message: { type: "unpair" },
 * });
 * assert.equal(inspectFrame("{", 100, bucket, 0).kind, "bad");
 * assert.equal(inspectFrame("{}", 100, bucket, 0).kind, "rate_limited");
 * assert.deepEqual(inspectFrame("x".repeat(101), 100, bucket, 0), { kind: "too_big", size: 101 });
 * ```
 */
export function inspectFrame(
  data: unknown,
  maxMessageBytes: number,
  bucket: TokenBucket,
  now: number,
): Inbound {
  const size = typeof data === "string"
    ? sizeForLimit(data, maxMessageBytes)
    : (data as ArrayBuffer).byteLength;
  if (size > maxMessageBytes) return { kind: "too_big", size };
  if (!bucket.take(now)) return { kind: "rate_limited" };
  if (typeof data !== "string") {
    return {
      kind: "bad",
      code: ErrorCode.BinaryNotSupported,
      reason: `binary frames are not supported (${size} bytes); send JSON text`,
    };
  }
  const parsed = parseEnvelope(data);
  if (!parsed.ok) {
    return { kind: "bad", code: parsed.code, reason: `${parsed.reason}: ${truncate(data)}` };
  }
  const checked = toClientMessage(parsed.message);
  if (!checked.ok) return { kind: "bad", code: checked.code, reason: checked.reason };
  return { kind: "message", message: checked.message };
}

const encoder = new TextEncoder();

/**
 * A text frame's size for the limit check: exact in bytes whenever it could
 * exceed `limit`, and otherwise the UTF-16 length, a lower bound, since UTF-8
 * takes at most 3 bytes per unit and most messages need no encoding.
 */
function sizeForLimit(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : encoder.encode(text).length;
}
