/**
 * The command-line client: connect, print the id the server gives, pair and
 * talk through typed commands, report closures plainly, and optionally
 * reconnect with backoff. One connection attempt is a session
 * (`session.ts`); what the client knows between messages is its state
 * (`state.ts`); commands wait their turn in `script.ts`.
 *
 * @module
 */

import { backoffDelay } from "../shared/backoff.js";
import { getLogger } from "../runtime/deps.ts";
import { MessageType } from "../protocol/messages.ts";
import type { ProgressDisplay } from "./files/progress.ts";
import { readCommands } from "./script.ts";
import { runSession } from "./session.ts";
import { type ClientOptions, ClientState } from "./state.ts";
import type { PeerConnectionFactory } from "./werift/peer.ts";

export type { ClientOptions } from "./state.ts";

const logger = getLogger(["switchboard", "client"]);

/** The longest wait between reconnect attempts before jitter, in milliseconds. */
export const MAX_RETRY_DELAY_MS = 30_000;

/** What `runClient` needs from the process. */
export interface ClientIo {
  /** Writes one line to stdout: ids, events, command feedback. */
  print(line: string): void;
  /** Aborted when the user asks the client to stop (Ctrl+C). */
  signal: AbortSignal;
  /** Lines the user types; none when omitted. */
  input?: AsyncIterable<string>;
  /**
   * Whether the input is a script (piped, not typed at a terminal): then
   * `pair` and `accept` wait for their answer before the next command runs.
   */
  scripted?: boolean;
  /** Where reconnect delays come from; `Math.random` by default. */
  random?: () => number;
  /** In WebRTC mode: makes the peer connections chat runs over. */
  peerConnections?: PeerConnectionFactory;
  /**
   * In WebRTC mode: settles once the WebRTC library is loaded and warm;
   * `--pair` asks only then, so the partner never waits on this side's start.
   */
  peerReady?: Promise<unknown>;
  /** In WebRTC mode: where file transfer progress goes. */
  progress?: ProgressDisplay;
}

/**
 * Runs the client: connects, prints `*** Your Client ID: <id> ***` and every
 * later event, runs typed commands, and with `reconnect` retries after
 * failures with exponential backoff.
 *
 * @returns The exit code: 0 when stopped or closed normally, 1 on failure.
 */
export async function runClient(options: ClientOptions, io: ClientIo): Promise<number> {
  const quit = new AbortController();
  const signal = AbortSignal.any([io.signal, quit.signal]);
  let quitting = false;
  // A deliberate quit ends the transfers first, while their channels can still
  // tell the partner why, then lets the lines sent on the data channel arrive
  // before the connection closes and the server tells the partner we left.
  const leave = (): void => {
    if (quitting) return;
    quitting = true;
    state.stopFiles().catch(() => {}).then(() => state.finishChat()).finally(() => quit.abort());
  };
  const state = new ClientState(
    options,
    io.print,
    io.input !== undefined,
    io.peerConnections,
    io.progress,
    io.peerReady,
    io.scripted ?? false,
    leave,
  );
  if (io.input) readCommands(io.input, state, leave, signal);
  // The retry under way, and the attempts to connect since the last id.
  let retry = 0;
  let attempts = 0;
  try {
    while (true) {
      logger.info("Connecting to server at {url}...", { url: options.url });
      attempts++;
      let gotId = false;
      const end = await runSession(state.connectUrl(), {
        signal,
        onOpen: (send) => state.connected(send),
        onMessage: (message) => {
          if (!gotId && message.type === MessageType.YourId) {
            gotId = true;
            // Only now is the client usable: the server may still refuse an open socket.
            logger.info("Connected to server.");
          }
          return state.received(message);
        },
      }, options.apiKey);
      state.disconnected();
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
            url: options.url,
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
      if (!options.reconnect || signal.aborted) return 1;
      // A connection that got its id was a success: the count starts again.
      if (gotId) retry = attempts = 0;
      retry++;
      if (retry > options.maxRetries) {
        logger.error("Giving up after {attempts} attempts.", { attempts });
        return 1;
      }
      const delay = backoffDelay(retry, options.retryDelay * 1000, MAX_RETRY_DELAY_MS, io.random);
      logger.info("Reconnecting in {seconds} s (retry {retry} of {max})...", {
        seconds: Math.round(delay / 10) / 100,
        retry,
        max: options.maxRetries,
      });
      if (!await wait(delay, signal)) return 0;
    }
  } finally {
    // Input is left unread from here: a read pending on stdin cannot be cancelled.
    quit.abort();
    // The process exits next: no transfer may outlive it, nor leave a .part file.
    await state.stopFiles();
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
