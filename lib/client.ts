/**
 * The command-line client: connect, print the id the server gives, report
 * closures plainly, and optionally reconnect with backoff.
 *
 * @module
 */

import { backoffDelay } from "./backoff.ts";
import { getLogger } from "./deps.ts";
import type { ClientFlags } from "./flags.ts";
import {
  CloseCode,
  parseEnvelope,
  ServerMessageType,
  toServerMessage,
  truncate,
} from "./protocol.ts";

const logger = getLogger(["switchboard", "client"]);

/** The longest wait between reconnect attempts, in milliseconds. */
export const MAX_RETRY_DELAY_MS = 30_000;

/** How one connection attempt ended. */
export type SessionEnd =
  /** We closed it: `--once` after the id, or the user stopped the client. */
  | { kind: "stopped" }
  /** The server closed it normally (1000). */
  | { kind: "closed"; code: number; reason: string }
  /** It could not be opened. */
  | { kind: "failed"; reason: string }
  /** It was open and ended unexpectedly. */
  | { kind: "dropped"; code: number; reason: string };

/** What a session reports to the program around it. */
export interface SessionHooks {
  /** Called with the id from each `your_id` message. */
  onId(id: string): void;
  /** Stops the session with a clean 1000 close when aborted. */
  signal: AbortSignal;
  /** Close right after the first id. */
  once: boolean;
}

/**
 * Connects once and runs until the connection ends.
 *
 * @returns How it ended; never rejects.
 */
export function runSession(url: string, hooks: SessionHooks): Promise<SessionEnd> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
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
      logger.info("Connected to server.");
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
      if (message?.type === ServerMessageType.YourId) {
        hooks.onId(message.id);
        if (hooks.once) stop();
      } else if (message?.type === ServerMessageType.Error) {
        logger.warn("Server error {code}: {message}", { ...message });
      } else {
        logger.warn("Unhandled message type: {type}", {
          type: parsed.message.type,
        });
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
        resolve({ kind: "failed", reason: await diagnose(url, failure) });
      } else if (event.code === CloseCode.Normal) {
        resolve({ kind: "closed", code: event.code, reason: event.reason });
      } else {
        resolve({ kind: "dropped", code: event.code, reason: event.reason });
      }
    };
  });
}

/** What `runClient` needs from the process. */
export interface ClientIo {
  /** Writes one line to stdout: the id line. */
  print(line: string): void;
  /** Aborted when the user asks the client to stop (Ctrl+C). */
  signal: AbortSignal;
  /** Where reconnect delays come from; `Math.random` by default. */
  random?: () => number;
}

/**
 * Runs the client: connects, prints `*** Your Client ID: <id> ***`, and with
 * `reconnect` retries after failures with exponential backoff.
 *
 * @returns The exit code: 0 when stopped or closed normally, 1 on failure.
 */
export async function runClient(
  flags: Pick<ClientFlags, "url" | "once" | "reconnect" | "retryDelay" | "maxRetries">,
  io: ClientIo,
): Promise<number> {
  let attempt = 0;
  try {
    while (true) {
      logger.info("Connecting to server at {url}...", { url: flags.url });
      let gotId = false;
      const end = await runSession(flags.url, {
        once: flags.once,
        signal: io.signal,
        onId: (id) => {
          gotId = true;
          io.print(`*** Your Client ID: ${id} ***`);
        },
      });
      switch (end.kind) {
        case "stopped":
          return 0;
        case "closed":
          logger.info("Server closed the connection: code {code} reason {reason}", {
            code: end.code,
            reason: end.reason || "(none)",
          });
          return 0;
        case "failed":
          logger.error("Failed to connect to {url}: {reason}", {
            url: flags.url,
            reason: end.reason,
          });
          break;
        case "dropped":
          logger.error("Connection closed unexpectedly: code {code} reason {reason}", {
            code: end.code,
            reason: end.reason || "(none)",
          });
          break;
      }
      if (!flags.reconnect || io.signal.aborted) return 1;
      attempt = gotId ? 1 : attempt + 1;
      if (attempt > flags.maxRetries) {
        logger.error("Giving up after {attempts} attempts.", {
          attempts: flags.maxRetries,
        });
        return 1;
      }
      const delay = backoffDelay(
        attempt,
        flags.retryDelay * 1000,
        MAX_RETRY_DELAY_MS,
        io.random,
      );
      logger.info("Reconnecting in {seconds} s (attempt {attempt} of {max})...", {
        seconds: (delay / 1000).toFixed(2),
        attempt,
        max: flags.maxRetries,
      });
      if (!await wait(delay, io.signal)) return 0;
    }
  } finally {
    logger.info("Disconnecting...");
    logger.info("Client shut down.");
  }
}

/** Waits `ms`; resolves `false` early if `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", done);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Turns the runtime's vague handshake failure into a reason a user can act
 * on; the WebSocket API only says "tcp connect error", so it asks TCP.
 */
async function diagnose(url: string, message: string): Promise<string> {
  if (/dns error|lookup/i.test(message)) return "unknown host";
  if (!/tcp connect error/i.test(message)) {
    return message.replace(/^NetworkError: /, "") || "connection failed";
  }
  const { hostname, port, protocol } = new URL(url);
  try {
    const conn = await Deno.connect({
      hostname: hostname.replace(/^\[|\]$/g, ""),
      port: Number(port) || (protocol === "wss:" ? 443 : 80),
    });
    conn.close();
    return "the server accepted TCP but refused the WebSocket handshake";
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
    return describeError(error);
  }
}

function describeError(error: unknown): string {
  if (error instanceof DOMException && error.name === "SyntaxError") {
    return `invalid URL (${error.message})`;
  }
  return error instanceof Error ? error.message : String(error);
}
