/**
 * Checks an HTTP request before it becomes a WebSocket, so a refused
 * handshake gets a plain HTTP answer instead of a runtime exception.
 * Pure: a `Request` in, a verdict out.
 *
 * @module
 */

import { printable, truncate } from "../runtime/safe_text.ts";

/** Why a request cannot be upgraded, and the HTTP answer to give. */
export interface Refusal {
  /** The HTTP status. */
  status: 400 | 401 | 403 | 426 | 429 | 503;
  /** A one-line reason for the body and the log. */
  reason: string;
  /** Extra response headers (RFC 6455 wants a few). */
  headers?: Record<string, string>;
}

/** The WebSocket version this server speaks (RFC 6455). */
export const WEBSOCKET_VERSION = "13";

// A Sec-WebSocket-Key is 16 random bytes in base64: 22 characters and "==".
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Whether the request asks for a WebSocket upgrade at all. */
export function wantsUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * Checks an upgrade request (RFC 6455, section 4.2.1) and its `Origin`.
 *
 * @param request A request for which {@linkcode wantsUpgrade} is true.
 * @param allowedOrigins The browser origins to accept; empty accepts any. A
 *   request without `Origin` (not a browser) is accepted either way.
 * @returns `undefined` when the upgrade may go ahead, else the refusal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkUpgrade } from "./handshake.ts";
 * const request = new Request("http://localhost/", {
 *   headers: { upgrade: "websocket", origin: "https://evil.example" },
 * });
 * assert.equal(checkUpgrade(request, ["https://app.example"])?.status, 403);
 * ```
 */
export function checkUpgrade(
  request: Request,
  allowedOrigins: readonly string[],
): Refusal | undefined {
  // Browsers always send Origin, so a missing one is a non-browser client,
  // which cross-site WebSocket hijacking cannot involve.
  const origin = request.headers.get("origin");
  if (allowedOrigins.length > 0 && origin !== null && !allowedOrigins.includes(origin)) {
    return { status: 403, reason: `origin ${shown(origin)} not allowed` };
  }
  if (request.method !== "GET") {
    return { status: 400, reason: "a WebSocket handshake must be a GET" };
  }
  // RFC 6455 requires Host. The runtime does not tell an HTTP/1.0 request from
  // a 1.1 one, but a 1.0 client that sends no Host is refused here.
  if (!request.headers.has("host")) {
    return { status: 400, reason: "missing Host header (a handshake needs HTTP/1.1 and Host)" };
  }
  const connection = request.headers.get("connection") ?? "";
  if (!connection.toLowerCase().split(/\s*,\s*/).includes("upgrade")) {
    return { status: 400, reason: 'missing "Connection: Upgrade"' };
  }
  const version = request.headers.get("sec-websocket-version");
  if (version !== WEBSOCKET_VERSION) {
    return {
      status: 426,
      reason: `unsupported WebSocket version ${
        version === null ? "(none)" : shown(version)
      }; use 13`,
      headers: { "sec-websocket-version": WEBSOCKET_VERSION },
    };
  }
  const key = request.headers.get("sec-websocket-key");
  if (key === null || !KEY.test(key)) {
    return { status: 400, reason: "missing or malformed Sec-WebSocket-Key" };
  }
  return undefined;
}

/**
 * The subprotocols a handshake offers, in order. RFC 6455 (after RFC 9110's
 * list syntax) allows any optional whitespace around the commas, so `a,b`
 * and `a , b` offer the same two as `a, b`; `Deno.upgradeWebSocket`'s own
 * `protocol` option splits on `", "` exactly and refuses the others, so
 * the server answers with this list instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { offeredSubprotocols } from "./handshake.ts";
 * const request = new Request("http://h/", {
 *   headers: { "sec-websocket-protocol": "switchboard,switchboard.key.k \t, x" },
 * });
 * assert.deepEqual(offeredSubprotocols(request), ["switchboard", "switchboard.key.k", "x"]);
 * ```
 */
export function offeredSubprotocols(request: Request): string[] {
  const offered = request.headers.get("sec-websocket-protocol") ?? "";
  return offered.split(",").map((p) => p.trim()).filter((p) => p !== "");
}

/** A header value as it may appear in a log line and a response body. */
function shown(value: string): string {
  return JSON.stringify(truncate(printable(value), 60));
}
