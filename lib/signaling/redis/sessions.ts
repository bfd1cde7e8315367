/**
 * Resumable sessions shared by every instance through Redis: a session lives
 * in Redis (its token's SHA-256, its key, its window, a bounded queue), so a
 * client resumes on whichever instance it reaches, even after the one it was
 * on died. Each instance remembers only its own clients' token hashes, to
 * register their sessions again should Redis come back empty.
 *
 * @module
 */

import { getLogger } from "../../runtime/deps.ts";
import { errorText } from "../../runtime/safe_text.ts";
import { type ServerMessage, sessionMessage } from "../../protocol/messages.ts";
import { newResumeToken } from "../sessions/table.ts";
import type { Resumed, ResumeOptions, SessionService, WindowEnd } from "../service.ts";
import type { ScriptName } from "./scripts.ts";

const logger = getLogger(["switchboard", "server"]);

/** What the sessions need of the signaling that owns them. */
export interface SessionHost {
  /** This instance's id in Redis. */
  readonly instance: string;
  /** Whether Redis is reachable now. */
  available(): boolean;
  /** One script call. */
  call(name: ScriptName, args: readonly string[]): Promise<unknown[]>;
  /** Runs `op` after the client's calls under way, in order. */
  queue<T>(id: string, op: () => Promise<T>): Promise<T>;
  /** Redis failed: the signaling degrades. */
  lost(reason: string): void;
  /** `id` went away: the signaling forgets its local state. */
  away(id: string): void;
  /** A session arrived here: the signaling takes its pairing and turns what waited into messages. */
  arrived(
    id: string,
    partner: string,
    target: string,
    leftMs: number,
    queued: readonly string[],
  ): ServerMessage[];
}

/** SHA-256 of a token, hex: what Redis holds instead of the token. */
export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Sessions in Redis. `open` and `resume` answer after a round trip;
 * `lost` answers at once from what this instance knows, and records the
 * window in Redis behind the client's other calls.
 */
export class RedisSessions implements SessionService {
  readonly #options: ResumeOptions | undefined;
  readonly #host: SessionHost;
  // This instance's clients with a session: the SHA-256 of their current token.
  readonly #local = new Map<string, string>();
  // Clients that went away from this instance lately, and when: events for them still arriving
  // here were published before Redis knew, and are sent on to wherever they are now.
  readonly #departed = new Map<string, number>();
  /** Clients away in the cluster, as of this instance's last heartbeat. */
  awayCount = 0;

  /** @param options The window and the queue's bounds; `undefined` turns sessions off. */
  constructor(options: ResumeOptions | undefined, host: SessionHost) {
    this.#options = options;
    this.#host = host;
  }

  /** Opens a session in Redis; `undefined` when off or when Redis did not answer. */
  async open(id: string, _tenant: string | undefined): Promise<ServerMessage | undefined> {
    const options = this.#options;
    if (options === undefined || !this.#host.available()) return undefined;
    const token = newResumeToken();
    const hash = await tokenHash(token);
    return await this.#host.queue(id, async () => {
      try {
        const reply = await this.#host.call("open", [
          this.#host.instance,
          id,
          hash,
          String(options.graceS * 1000),
          String(options.maxQueued),
          String(options.maxQueuedBytes),
        ]);
        if (reply[0] !== "ok") return undefined;
      } catch (error) {
        this.#host.lost(errorText(error));
        return undefined;
      }
      this.#local.set(id, hash);
      return sessionMessage(token, options.graceS);
    });
  }

  /** Resumes a session from any instance; `unavailable` while Redis is out of reach. */
  async resume(token: string, tenant: string | undefined): Promise<Resumed> {
    const options = this.#options;
    if (options === undefined) return { ok: false };
    if (!this.#host.available()) return { ok: false, unavailable: true };
    const next = newResumeToken();
    const [hash, nextHash] = await Promise.all([tokenHash(token), tokenHash(next)]);
    let reply: unknown[];
    try {
      reply = await this.#host.call("resume", [this.#host.instance, hash, tenant ?? "", nextHash]);
    } catch (error) {
      this.#host.lost(errorText(error));
      return { ok: false, unavailable: true };
    }
    if (reply[0] !== "ok") {
      options.metrics.resumed("failed");
      return { ok: false };
    }
    const [, id, wasAway, partner, target, left, ...queued] = reply.map(String);
    options.metrics.resumed("resumed");
    this.#local.set(id!, nextHash);
    const messages = this.#host.arrived(id!, partner!, target!, Number(left), queued);
    return {
      ok: true,
      id: id!,
      session: sessionMessage(next, options.graceS),
      queued: messages,
      wasAway: wasAway === "1",
    };
  }

  /**
   * Starts `id`'s window in Redis, behind its calls under way, when it has a
   * session; its partner hears `peer_reconnecting` from there.
   */
  lost(id: string): boolean {
    const hash = this.#local.get(id);
    if (hash === undefined || !this.#host.available()) return false;
    this.#local.delete(id);
    this.#departed.set(id, performance.now());
    this.#host.away(id);
    // Nothing of it stays here: any instance may resume it.
    this.#options?.released(id);
    this.#host.queue(id, async () => {
      try {
        // With the token it had: a resume that came first has changed it, and wins.
        const reply = await this.#host.call("away", [this.#host.instance, id, hash]);
        if (reply[0] === "ok") {
          logger.debug("Session of client {clientId} waits in the shared registry.", {
            clientId: id,
          });
        }
      } catch (error) {
        this.#host.lost(errorText(error));
      }
    });
    return true;
  }

  /** Whether `id` went away from this instance within the last `withinMs`. */
  departed(id: string, now: number, withinMs: number): boolean {
    const at = this.#departed.get(id);
    if (at === undefined) return false;
    if (now - at < withinMs) return true;
    this.#departed.delete(id);
    return false;
  }

  /** Forgets departures older than `withinMs`. */
  sweepDeparted(now: number, withinMs: number): void {
    for (const [id, at] of this.#departed) {
      if (now - at >= withinMs) this.#departed.delete(id);
    }
  }

  /** `id` left for good: its session goes with it when the signaling removes it from Redis. */
  ended(id: string): void {
    this.#local.delete(id);
  }

  /** Forgets `id` here (it left, or resumed elsewhere). */
  forget(id: string): void {
    this.#local.delete(id);
  }

  /**
   * What the rejoin script needs of `id`'s session: its token's SHA-256 (or
   * `""` without one), the grace in ms and the queue's bounds.
   */
  rejoining(id: string): [string, string, string, string] {
    const hash = this.#local.get(id);
    const options = this.#options;
    if (hash === undefined || options === undefined) return ["", "0", "0", "0"];
    return [
      hash,
      String(options.graceS * 1000),
      String(options.maxQueued),
      String(options.maxQueuedBytes),
    ];
  }

  /** Counts a window that ended without a resume. */
  counted(outcome: WindowEnd): void {
    this.#options?.metrics.resumed(outcome);
  }

  /** Forgets every local session (Redis keeps the shared ones); for shutdown. */
  close(): void {
    this.#local.clear();
    this.#departed.clear();
  }
}
