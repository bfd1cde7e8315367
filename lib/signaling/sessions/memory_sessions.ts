/**
 * Resumable sessions in this process's memory, for the in-memory signaling:
 * the pure {@linkcode SessionTable} (`table.ts`) wired to one timer, the log
 * and the metrics. Tokens never reach the log; lines say "resumed", "could
 * not resume", and when and why a window ended.
 *
 * @module
 */

import { getLogger } from "../../runtime/deps.ts";
import { DeadlineTimer } from "../../runtime/deadline_timer.ts";
import { type ServerMessage, sessionMessage } from "../../protocol/messages.ts";
import type { Resumed, ResumeOptions, SessionService, WindowEnd } from "../service.ts";
import { SessionTable } from "./table.ts";

const logger = getLogger(["switchboard", "server"]);

/** What the in-memory signaling does as sessions come and go. */
export interface SessionHooks {
  /** The key (SHA-256) client `id` holds, while it holds the id. */
  tenantOf(id: string): string | undefined;
  /** `id` is away: its partner hears `peer_reconnecting`. */
  away(id: string): void;
  /** `id` is back: its partner hears `peer_back`. */
  back(id: string): void;
  /** `id`'s window ended without a resume: it is gone, as after a disconnect. */
  ended(id: string, why: WindowEnd): void;
}

const encoder = new TextEncoder();

/**
 * Sessions that outlive a connection for a grace window. Signaling asks it
 * whether a client is away and hands it the messages for one.
 */
export class MemorySessions implements SessionService {
  readonly #options: ResumeOptions;
  readonly #hooks: SessionHooks;
  readonly #table: SessionTable<ServerMessage> | undefined;
  // One timer for every window, due at the earliest end.
  readonly #timer = new DeadlineTimer(() => this.#table?.nextDeadline, (now) => this.#expire(now));

  /**
   * @param options The window, the queue's bounds and the server's counters;
   *   `undefined` turns sessions off.
   * @param hooks What the signaling does as clients go away, come back and end.
   */
  constructor(options: ResumeOptions | undefined, hooks: SessionHooks) {
    this.#options = options ?? {
      graceS: 0,
      maxQueued: 1,
      maxQueuedBytes: 1,
      metrics: { resumed: () => {} },
      released: () => {},
    };
    this.#hooks = hooks;
    this.#table = this.#options.graceS > 0
      ? new SessionTable({
        graceMs: this.#options.graceS * 1000,
        maxQueued: this.#options.maxQueued,
        maxQueuedBytes: this.#options.maxQueuedBytes,
      })
      : undefined;
  }

  /** How many clients are away within a window. */
  get awayCount(): number {
    return this.#table?.awayCount ?? 0;
  }

  /** A new session for `id`: the `session` message to send, or `undefined` when resume is off. */
  open(id: string, _tenant?: string): ServerMessage | undefined {
    if (this.#table === undefined) return undefined;
    return sessionMessage(this.#table.open(id), this.#options.graceS);
  }

  /**
   * Resumes the session of `token`: its id and held messages, and the
   * `session` message to send; its partner hears `peer_back` when it was away.
   *
   * @param tenant The key of the client presenting the token: a session
   *   belongs to its key, so another key's client fails like one with an
   *   unknown token, and the session is left to its owner and its window.
   */
  resume(token: string, tenant: string | undefined, now: number = performance.now()): Resumed {
    const owns = (id: string) => this.#hooks.tenantOf(id) === tenant;
    const result = this.#table?.resume(token, now, owns) ?? { ok: false };
    if (!result.ok) {
      this.#options.metrics.resumed("failed");
      return result;
    }
    this.#options.metrics.resumed("resumed");
    this.#timer.reschedule();
    if (result.wasAway) this.#hooks.back(result.id);
    return {
      ok: true,
      id: result.id,
      queued: result.queued,
      wasAway: result.wasAway,
      session: sessionMessage(result.token, this.#options.graceS),
    };
  }

  /**
   * `id` lost its connection abruptly: its window starts, and its partner
   * hears `peer_reconnecting`.
   *
   * @returns Whether it did; `false` when `id` has no session.
   */
  lost(id: string, now: number = performance.now()): boolean {
    if (!this.#table?.suspend(id, now)) return false;
    this.#timer.reschedule();
    this.#hooks.away(id);
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
   * @param tenants The revoked keys' SHA-256.
   * @returns How many sessions ended.
   */
  revoke(tenants: readonly string[]): number {
    const revoked = new Set(tenants);
    const ended = this.#table?.endAway((id) => revoked.has(this.#hooks.tenantOf(id) ?? "")) ?? [];
    if (ended.length === 0) return 0;
    this.#timer.reschedule();
    for (const id of ended) {
      logger.info("Session of client {clientId} ended: its key was revoked.", { clientId: id });
      this.#options.metrics.resumed("revoked");
      this.#end(id, "revoked");
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
    this.#end(id, "overflow");
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
      this.#end(id, "timeout");
    }
  }

  #end(id: string, why: WindowEnd): void {
    this.#options.released(id);
    this.#hooks.ended(id, why);
  }
}
