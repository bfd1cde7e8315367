/**
 * `sendJson`: the one way Switchboard puts a message on a socket.
 *
 * @module
 */

import { getLogger } from "./deps.ts";
import { errorText } from "./safe_text.ts";

const logger = getLogger(["switchboard", "send"]);

/** The part of a `WebSocket` that {@linkcode sendJson} needs. */
export interface JsonSocket {
  /** The socket's state; only `WebSocket.OPEN` (1) can send. */
  readonly readyState: number;
  /** Sends one text frame. */
  send(data: string): void;
}

/**
 * Serialises `data` and sends it as one text frame, only when the socket is
 * open. A failed send is logged, never thrown: the socket's `close` event
 * does the clean-up.
 *
 * @returns Whether the message was handed to the socket.
 *
 * @example
 * ```ts ignore
 * import { sendJson } from "./json_socket.ts";
 * sendJson(socket, { type: "your_id", id });
 * ```
 */
export function sendJson(socket: JsonSocket, data: unknown): boolean {
  if (socket.readyState !== WebSocket.OPEN) return false;
  try {
    socket.send(JSON.stringify(data));
    return true;
  } catch (error) {
    logger.error("Failed to send a message: {error}", {
      error: errorText(error),
    });
    return false;
  }
}
