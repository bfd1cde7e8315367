/**
 * One connection attempt of the command-line client: open the WebSocket,
 * hand each server message to the program around it, and say how it ended.
 *
 * @module
 */

import { closeCode } from "../protocol/close_code.ts";
import {
  type ClientMessage,
  CloseCode,
  parseEnvelope,
  type ServerMessage,
  toServerMessage,
} from "../protocol/messages.ts";
import { getLogger } from "../runtime/deps.ts";
import { sendJson } from "../runtime/json_socket.ts";
import { truncate } from "../runtime/safe_text.ts";
import { describeError, diagnose } from "./connect_failure.ts";

const logger = getLogger(["switchboard", "client"]);

/** How one connection attempt ended. */
export type SessionEnd =
  /** We closed it: `--once` after the id, `quit`, or Ctrl+C. */
  | { kind: "stopped" }
  /** The server closed it normally (1000). */
  | { kind: "closed"; code: number; reason: string }
  /** It could not be opened. */
  | { kind: "failed"; reason: string }
  /** It was open and ended unexpectedly. */
  | { kind: "dropped"; code: number; reason: string };

/** Sends one message to the server; `false` when the connection is not open. */
export type Send = (message: ClientMessage) => boolean;

/** What a session reports to the program around it. */
export interface SessionHooks {
  /** Closes the session with a clean 1000 when aborted. */
  signal: AbortSignal;
  /** Called once the connection is open, with the way to send on it. */
  onOpen(send: Send): void;
  /** Called for each known server message; return `true` to close cleanly. */
  onMessage(message: ServerMessage): boolean;
}

/**
 * Connects once and runs until the connection ends.
 *
 * @param apiKey Sent as `Authorization: Bearer` on the handshake.
 * @returns How it ended; never rejects.
 */
export function runSession(
  url: string,
  hooks: SessionHooks,
  apiKey?: string,
): Promise<SessionEnd> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = apiKey === undefined
        ? new WebSocket(url)
        : new WebSocket(url, { headers: { authorization: `Bearer ${apiKey}` } });
    } catch (error) {
      resolve({ kind: "failed", reason: describeError(error) });
      return;
    }
    let opened = false;
    let stopping = false;
    let failure = "";
    const stop = (): void => {
      stopping = true;
      socket.close(CloseCode.Normal);
    };
    if (hooks.signal.aborted) stop();
    hooks.signal.addEventListener("abort", stop, { once: true });

    socket.onopen = () => {
      opened = true;
      hooks.onOpen((message) => sendJson(socket, message));
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== "string") {
        logger.warn("Ignored a binary message from the server.");
        return;
      }
      const parsed = parseEnvelope(event.data);
      if (!parsed.ok) {
        logger.error("Invalid message from server ({reason}): {text}", {
          reason: parsed.reason,
          text: truncate(event.data),
        });
        return;
      }
      const message = toServerMessage(parsed.message);
      if (message === undefined) {
        logger.warn("Unhandled message type: {type}", { type: parsed.message.type });
      } else if (hooks.onMessage(message)) {
        stop();
      }
    };
    socket.onerror = (event: Event) => {
      failure = event instanceof ErrorEvent ? event.message : "";
    };
    socket.onclose = async (event: CloseEvent) => {
      hooks.signal.removeEventListener("abort", stop);
      if (stopping) {
        resolve({ kind: "stopped" });
      } else if (!opened) {
        resolve({
          kind: "failed",
          reason: await diagnose(url, failure, apiKey !== undefined, apiKey),
        });
      } else if (event.code === CloseCode.Normal) {
        resolve({ kind: "closed", code: event.code, reason: event.reason });
      } else {
        resolve({ kind: "dropped", code: closeCode(event), reason: event.reason });
      }
    };
  });
}
