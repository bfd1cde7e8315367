/**
 * Pairing by code and meetings of remembered devices on a cluster: the
 * nameplates and rendezvous live in Redis (`codeclaim`, `codeuse`, `meet`
 * in `scripts.ts`), and this instance keeps, for its own clients, what each
 * holds and a timer to tell it when that expires.
 *
 * @module
 */

import {
  ErrorCode,
  type ErrorCode as ErrorCodeValue,
  MessageType,
  type ServerMessage,
} from "../../protocol/messages.ts";
import { Narration } from "../narration.ts";
import { getLogger } from "../../runtime/deps.ts";
import { isNameplate, isRendezvous, nameplateCandidates, nameplateMetrics } from "../nameplates.ts";
import {
  acceptWhilePaired,
  badRendezvous,
  selfCode,
  sharedStateUnreachable as unreachable,
  unknownNameplate,
} from "../refusals.ts";
import type { Refused } from "../service.ts";
import type { ScriptName } from "./scripts.ts";

const narrate = new Narration(getLogger(["switchboard", "signaling"]));

// How many nameplates a claim tries, shortest first (8 of two digits, 8 of three, …).
const CLAIM_CANDIDATES = 32;

/** What {@linkcode RedisCodes} needs from the signaling around it. */
export interface RedisCodesHooks {
  /** Whether Redis is reachable. */
  available(): boolean;
  /** One script call; `undefined` when it failed. */
  call(name: ScriptName, args: string[]): Promise<unknown[] | undefined>;
  /** Runs `op` after `id`'s calls under way. */
  queue(id: string, op: () => Promise<void>): void;
  /** Sends a message to one of this instance's clients. */
  send(id: string, message: ServerMessage): void;
  /** Redis forgot this instance: the refusal to answer with. */
  gone(code: ErrorCodeValue): Refused;
  /** Logs what a script told whom, from `from` on in its reply. */
  logTold(reply: readonly unknown[], from: number, op: ScriptName): void;
}

/** The codes and meetings of this instance's clients. */
export class RedisCodes {
  readonly #hooks: RedisCodesHooks;
  readonly #ttlMs: number;
  // This instance's clients holding a nameplate or waiting under a rendezvous → it, and its timer.
  readonly #held = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>();
  #paired = 0;
  #expired = 0;

  /**
   * @param hooks How to reach Redis and the clients.
   * @param ttlMs How long a nameplate, or a wait to meet, lasts.
   */
  constructor(hooks: RedisCodesHooks, ttlMs: number) {
    this.#hooks = hooks;
    this.#ttlMs = ttlMs;
  }

  /** Gives `me` a nameplate free across the cluster, and tells it the number. */
  async claim(me: string): Promise<Refused | undefined> {
    if (!this.#hooks.available()) return unreachable(ErrorCode.TooManyCodes);
    const candidates = [...nameplateCandidates()].slice(0, CLAIM_CANDIDATES);
    const reply = await this.#hooks.call("codeclaim", [me, String(this.#ttlMs), ...candidates]);
    if (!reply) return unreachable(ErrorCode.TooManyCodes);
    switch (String(reply[0])) {
      case "ok":
        break;
      case "gone":
        return this.#hooks.gone(ErrorCode.TooManyCodes);
      case ErrorCode.AlreadyPaired:
        return acceptWhilePaired();
      default:
        return { code: ErrorCode.TooManyCodes, reason: "no nameplate is free; try again" };
    }
    const nameplate = String(reply[1]);
    // Redis forgets the nameplate on its own at the end of its life; the holder is told here.
    this.#hold(me, nameplate, () => this.#nameplateExpired(me, nameplate));
    narrate.claimed(me, nameplate);
    this.#hooks.send(me, {
      type: MessageType.Nameplate,
      nameplate,
      expires_s: this.#ttlMs / 1000,
    });
    return undefined;
  }

  /** Gives up what `me` holds, here and in Redis. */
  async release(me: string): Promise<Refused | undefined> {
    this.forget(me);
    if (this.#hooks.available()) await this.#hooks.call("coderelease", [me, ""]);
    return undefined;
  }

  /** Pairs `me` with the holder of `nameplate`, wherever it is connected. */
  async use(me: string, nameplate: string): Promise<Refused | undefined> {
    if (!isNameplate(nameplate)) return unknownNameplate(nameplate);
    if (!this.#hooks.available()) return unreachable(ErrorCode.UnknownNameplate);
    const reply = await this.#hooks.call("codeuse", [me, nameplate]);
    if (!reply) return unreachable(ErrorCode.UnknownNameplate);
    switch (String(reply[0])) {
      case "ok":
        break;
      case "gone":
        return this.#hooks.gone(ErrorCode.UnknownNameplate);
      case ErrorCode.AlreadyPaired:
        return acceptWhilePaired();
      case ErrorCode.SelfPair:
        return selfCode();
      default:
        return unknownNameplate(nameplate);
    }
    this.#paired++;
    narrate.codeUsed(me, String(reply[1]), nameplate);
    this.#hooks.logTold(reply, 2, "codeuse");
    return undefined;
  }

  /** Pairs `me` with the remembered device waiting under `rendezvous`, or has it wait. */
  async meet(me: string, rendezvous: string): Promise<Refused | undefined> {
    if (!isRendezvous(rendezvous)) return badRendezvous();
    if (!this.#hooks.available()) return unreachable(ErrorCode.UnknownNameplate);
    const reply = await this.#hooks.call("meet", [me, String(this.#ttlMs), rendezvous]);
    if (!reply) return unreachable(ErrorCode.UnknownNameplate);
    switch (String(reply[0])) {
      case "ok":
        break;
      case "gone":
        return this.#hooks.gone(ErrorCode.UnknownNameplate);
      default:
        return acceptWhilePaired();
    }
    if (reply[1] === "paired") {
      this.#hooks.logTold(reply, 2, "meet");
      return undefined;
    }
    this.#hold(me, rendezvous, () => {
      if (this.#held.get(me)?.name !== rendezvous) return;
      this.#held.delete(me);
      this.#hooks.send(me, { type: MessageType.MeetExpired });
    });
    this.#hooks.send(me, { type: MessageType.MeetWaiting, expires_s: this.#ttlMs / 1000 });
    return undefined;
  }

  /** This instance forgets what `id` held: it paired, left, or claimed again. */
  forget(id: string): void {
    const held = this.#held.get(id);
    if (held === undefined) return;
    clearTimeout(held.timer);
    this.#held.delete(id);
  }

  /** Forgets everything, for shutdown. */
  close(): void {
    for (const id of [...this.#held.keys()]) this.forget(id);
  }

  /** The code families of `/metrics`, for this instance's clients. */
  metricsText(): string {
    return nameplateMetrics(
      // Remembered devices waiting under a rendezvous are kept alike, but are no codes.
      [...this.#held.values()].filter((held) => isNameplate(held.name)).length,
      this.#paired,
      this.#expired,
    );
  }

  #hold(id: string, name: string, expired: () => void): void {
    this.forget(id);
    this.#held.set(id, { name, timer: setTimeout(expired, this.#ttlMs) });
  }

  /** The nameplate's life is over: released in Redis if it still is `id`'s, and `id` told. */
  #nameplateExpired(id: string, nameplate: string): void {
    if (this.#held.get(id)?.name !== nameplate) return;
    this.#held.delete(id);
    this.#expired++;
    narrate.nameplateExpired(id, nameplate);
    this.#hooks.send(id, { type: MessageType.NameplateExpired, nameplate });
    if (this.#hooks.available()) {
      this.#hooks.queue(id, async () => {
        await this.#hooks.call("coderelease", [id, nameplate]);
      });
    }
  }
}
