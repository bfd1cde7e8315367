/**
 * The close code to report for a WebSocket that ended: the server's log and
 * the client's line say the same number for the same event.
 *
 * @module
 */

/**
 * RFC 6455, section 7.1.5: the code of a connection that closed without a
 * close frame (a dropped TCP connection). It is never sent on the wire.
 */
export const ABNORMAL_CLOSURE = 1006;

/**
 * The code of a close event as RFC 6455 names it. Deno reports a connection
 * that ended without a close frame as code 0, which no RFC defines; that is
 * an abnormal closure, 1006.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeCode } from "./close_code.ts";
 * assert.equal(closeCode({ code: 0, wasClean: false }), 1006);
 * assert.equal(closeCode({ code: 1001, wasClean: false }), 1001);
 * assert.equal(closeCode({ code: 1000, wasClean: true }), 1000);
 * ```
 */
export function closeCode(event: Pick<CloseEvent, "code" | "wasClean">): number {
  return event.code === 0 && !event.wasClean ? ABNORMAL_CLOSURE : event.code;
}
