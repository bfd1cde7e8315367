/**
 * Why the command-line client could not connect, in words a user can act on.
 *
 * @module
 */

import { errorText } from "../runtime/safe_text.ts";
import { unauthorizedReason } from "./api_key.ts";
import { looksLikeToken } from "../protocol/token_format.ts";

/**
 * Turns the runtime's vague handshake failure into a reason a user can act
 * on; the WebSocket API only says "tcp connect error", so it asks TCP.
 */
export async function diagnose(
  url: string,
  message: string,
  sentKey: boolean,
  credential?: string,
): Promise<string> {
  if (/dns error|lookup/i.test(message)) return "unknown host";
  if (/status code:? 401\b/i.test(message)) {
    return unauthorizedReason(sentKey, credential !== undefined && looksLikeToken(credential));
  }
  const { hostname, port, protocol } = new URL(url);
  // A TLS server answers a plain request with a TLS record, which does not parse as HTTP.
  if (protocol === "ws:" && /invalid HTTP version/i.test(message)) {
    return `the server speaks TLS (HTTP could not be parsed): try ${withScheme(url, "wss:")}`;
  }
  // A plain server answers a TLS hello with HTTP, which is not a TLS record.
  if (protocol === "wss:" && /InvalidContentType|corrupt message/i.test(message)) {
    return `the server does not speak TLS: try ${withScheme(url, "ws:")}`;
  }
  if (!/tcp connect error/i.test(message)) {
    const reason = message.replace(/^NetworkError: (failed to connect to WebSocket: )?/, "");
    return reason || "connection failed";
  }
  try {
    const conn = await Deno.connect({
      hostname: hostname.replace(/^\[|\]$/g, ""),
      port: Number(port) || (protocol === "wss:" ? 443 : 80),
    });
    conn.close();
    return "the server accepted TCP but refused the WebSocket handshake";
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      return "connection refused (is the server running? Start one with: deno task server)";
    }
    return describeError(error);
  }
}

/** `url` with another scheme, for a hint to copy. */
function withScheme(url: string, protocol: "ws:" | "wss:"): string {
  return protocol + url.slice(url.indexOf(":") + 1);
}

/** An error as one line; an invalid URL says so. */
export function describeError(error: unknown): string {
  if (error instanceof DOMException && error.name === "SyntaxError") {
    return `invalid URL (${error.message})`;
  }
  return errorText(error);
}
