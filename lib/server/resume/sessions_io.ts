/**
 * The server's side of resumable sessions: the pure {@linkcode SessionTable}
 * (`sessions.ts`) wired to one timer, the log and the metrics. Tokens never reach the log; lines say
 * "resumed", "could not resume", and when and why a window ended.
 *
 * @module
 */

import { getLogger } from "../../runtime/deps.ts";
import { DeadlineTimer } from "../../runtime/deadline_timer.ts";
import type { Metrics } from "../../metrics.ts";
import { type ServerMessage, sessionMessage } from "../../protocol/messages.ts";
import { type ResumeResult, SessionTable } from "./sessions.ts";

const logger = getLogger(["switchboard", "server"]);

/** Why a grace window ended without a resume. */
export type WindowEnd = "timeout" | "overflow" | "revoked";

/** Options for {@linkcode Resumption}. */
export interface ResumptionOptions {
  /** Seconds a session waits for its client after an abrupt loss; 0 turns resume off. */
  graceS: number;
  /** The most messages held for an away client. */
  maxQueued: number;
  /** The most bytes held for an away client. */
  maxQueuedBytes: number;
  /** Counts resumes and windows that ended. */
  metrics: Metrics;
  /** Called when a window ends without a resume: the session is over. */
  onEnded(id: string, why: WindowEnd): void;
}

const encoder = new TextEncoder();

/**
 * Sessions that outlive a connection for a grace window. Signaling asks it
 * whether a client is away and hands it the messages for one.
 */
export class Resumption {
  readonly #options: ResumptionOptions;
  readonly #table: SessionTable<ServerMessage> | undefined;
  // One timer for every window, due at the earliest end.
  readonly #timer = new DeadlineTimer(() => this.#table?.nextDeadline, (now) => this.#expire(now));

  /** @param options The window, the queue's bounds, and what to do when a window ends. */
  constructor(options: ResumptionOptions) {
    this.#options = options;
    this.#table = options.graceS > 0
      ? new SessionTable({
        graceMs: options.graceS * 1000,
        maxQueued: options.maxQueued,
        maxQueuedBytes: options.maxQueuedBytes,
      })
      : undefined;
  }

  /** How many clients are away within a window. */
  get awayCount(): number {
    return this.#table?.awayCount ?? 0;
  }

  /** A new session for `id`: the `session` message to send, or `undefined` when resume is off. */
  open(id: string): ServerMessage | undefined {
    if (this.#table === undefined) return undefined;
    return sessionMessage(this.#table.open(id), this.#options.graceS);
  }

  /**
   * Resumes the session of `token`: its id and held messages, and the
   * `session` message to send.
   *
   * @param owns Whether the client presenting the token may have the session
   *   of that id (same API key); when not, it fails like an unknown token and
   *   the session is left to its owner and its window.
   */
  resume(
    token: string,
    owns: (id: string) => boolean,
    now: number = performance.now(),
  ): ResumeResult<ServerMessage> & { session?: ServerMessage } {
    const result = this.#table?.resume(token, now, owns) ?? { ok: false };
    if (!result.ok) {
      this.#options.metrics.resumed("failed");
      return result;
    }
    this.#options.metrics.resumed("resumed");
    this.#timer.reschedule();
    return { ...result, session: sessionMessage(result.token, this.#options.graceS) };
  }

  /**
   * `id` lost its connection abruptly: its window starts.
   *
   * @returns Whether it did; `false` when `id` has no session.
   */
  lost(id: string, now: number = performance.now()): boolean {
    if (!this.#table?.suspend(id, now)) return false;
    this.#timer.reschedule();
    return true;
  }

  /** `id` left for good (a clean close, a broken limit): its session ends at once. */
  ended(id: string): void {
    if (this.#table?.end(id)) this.#timer.reschedule();
  }

  /**
   * Ends at once the windows of away clients whose key was revoked: such a
   * client can never come back, so its partner must not wait out the window
   * nor its key go on counting it.
   *
   * @param revoked Whether `id`'s key is revoked.
   * @returns How many sessions ended.
   */
  revoke(revoked: (id: string) => boolean): number {
    const ended = this.#table?.endAway(revoked) ?? [];
    if (ended.length === 0) return 0;
    this.#timer.reschedule();
    for (const id of ended) {
      logger.info("Session of client {clientId} ended: its key was revoked.", { clientId: id });
      this.#options.metrics.resumed("revoked");
      this.#options.onEnded(id, "revoked");
    }
    return ended.length;
  }

  /** Whether `id` is away within its window. */
  isAway(id: string): boolean {
    return this.#table?.isAway(id) ?? false;
  }

  /** Holds a message for an away client; past the queue's bounds the session ends. */
  hold(id: string, message: ServerMessage): void {
    if (this.#table === undefined) return;
    const bytes = encoder.encode(JSON.stringify(message)).length;
    if (this.#table.hold(id, message, bytes) !== "overflow") return;
    logger.info(
      "Session of client {clientId} ended: more than {maxQueued} messages or {maxBytes} bytes waited for it.",
      {
        clientId: id,
        maxQueued: this.#options.maxQueued,
        maxBytes: this.#options.maxQueuedBytes,
      },
    );
    this.#options.metrics.resumed("overflow");
    this.#timer.reschedule();
    this.#options.onEnded(id, "overflow");
  }

  /** Ends every session and stops the timer; for server shutdown. */
  close(): void {
    this.#table?.clear();
    this.#timer.stop();
  }

  #expire(now: number): void {
    for (const id of this.#table?.expire(now) ?? []) {
      logger.info("Session of client {clientId} ended: not resumed within {seconds} s.", {
        clientId: id,
        seconds: this.#options.graceS,
      });
      this.#options.metrics.resumed("timeout");
      this.#options.onEnded(id, "timeout");
    }
  }
}
