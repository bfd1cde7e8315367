/**
 * Resumable sessions: which client holds which resume token, who is away
 * within a grace window, and what waits for them. Pure: no sockets, no
 * logging, no timers. The caller passes the time as `now` (ms) and sweeps
 * with {@linkcode SessionTable.expire} from one timer for the whole server.
 * Its I/O shell, with that timer, the log and the metrics, is `sessions_io.ts`.
 *
 * Invariants: each session has exactly one live token, and a token names
 * exactly one session; a token works once; only an away session holds
 * messages, at most `maxQueued` of them and `maxQueuedBytes` in all.
 *
 * @module
 */

/** Random bytes in a resume token: 192 bits, well past guessing. */
export const TOKEN_BYTES = 24;

/**
 * A fresh resume token: {@linkcode TOKEN_BYTES} random bytes, base64url
 * without padding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newResumeToken } from "./table.ts";
 * const token = newResumeToken();
 * assert.match(token, /^[A-Za-z0-9_-]{32}$/);
 * assert.notEqual(newResumeToken(), token);
 * ```
 */
export function newResumeToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Options for {@linkcode SessionTable}. */
export interface SessionTableOptions {
  /** How long an away session waits for its client, in milliseconds; positive. */
  graceMs: number;
  /** The most messages held for an away client. */
  maxQueued: number;
  /** The most bytes held for an away client, in all. */
  maxQueuedBytes: number;
  /** Makes tokens; {@linkcode newResumeToken} by default. */
  newToken?: () => string;
}

/** The outcome of {@linkcode SessionTable.resume}. */
export type ResumeResult<M> =
  | {
    ok: true;
    /** The session's id: the one the token was issued for. */
    id: string;
    /** The next token; the one presented no longer works. */
    token: string;
    /** Messages held while the client was away, oldest first. */
    queued: M[];
    /** Whether the client was away (its partner was told); else its old socket still looked open. */
    wasAway: boolean;
  }
  | { ok: false };

/**
 * The outcome of {@linkcode SessionTable.hold}: `held`; `overflow` (the
 * session is ended, to be reported as the client leaving); `absent` (no away
 * session with that id).
 */
export type HoldResult = "held" | "overflow" | "absent";

interface Session<M> {
  readonly id: string;
  token: string;
  // When the window ends; Infinity while connected.
  deadline: number;
  queue: M[];
  bytes: number;
}

/**
 * Sessions of resumable clients, by id and by token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionTable } from "./table.ts";
 * let n = 0;
 * const table = new SessionTable<string>({
 *   graceMs: 1_000,
 *   maxQueued: 8,
 *   maxQueuedBytes: 1024,
 *   newToken: () => `token-${++n}`,
 * });
 * assert.equal(table.open("alice"), "token-1");
 * assert.equal(table.suspend("alice", 0), true);
 * assert.equal(table.hold("alice", "hello", 5), "held");
 * assert.deepEqual(table.resume("token-1", 500), {
 *   ok: true,
 *   id: "alice",
 *   token: "token-2",
 *   queued: ["hello"],
 *   wasAway: true,
 * });
 * assert.deepEqual(table.resume("token-1", 600), { ok: false }); // used
 * ```
 */
export class SessionTable<M> {
  readonly #options: Required<SessionTableOptions>;
  readonly #byId = new Map<string, Session<M>>();
  readonly #byToken = new Map<string, Session<M>>();
  // Away sessions in window order: all windows are equally long, so
  // insertion order is expiry order (as long as `now` does not go backwards).
  readonly #away = new Set<Session<M>>();

  /** @throws {RangeError} When `graceMs` is not positive or a bound is below 1. */
  constructor(options: SessionTableOptions) {
    if (!(options.graceMs > 0)) throw new RangeError(`Grace must be positive: ${options.graceMs}`);
    if (!(options.maxQueued >= 1) || !(options.maxQueuedBytes >= 1)) {
      throw new RangeError("Queue bounds must be at least 1");
    }
    this.#options = { newToken: newResumeToken, ...options };
  }

  /** How long a window lasts, in milliseconds. */
  get graceMs(): number {
    return this.#options.graceMs;
  }

  /** How many sessions there are, away or not. */
  get size(): number {
    return this.#byId.size;
  }

  /** How many sessions are away. */
  get awayCount(): number {
    return this.#away.size;
  }

  /**
   * Starts a session for a client that has just connected, and returns its
   * token; a session `id` already had ends first.
   */
  open(id: string): string {
    this.end(id);
    const session: Session<M> = { id, token: "", deadline: Infinity, queue: [], bytes: 0 };
    this.#issue(session);
    this.#byId.set(id, session);
    return session.token;
  }

  /** Whether `id` has a session, away or not. */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Whether `id`'s client is away within its window (an expired one counts until swept). */
  isAway(id: string): boolean {
    const session = this.#byId.get(id);
    return session !== undefined && this.#away.has(session);
  }

  /**
   * `id`'s client lost its connection: its window starts now.
   *
   * @returns Whether a window started (`false` without a session, or when already away).
   */
  suspend(id: string, now: number): boolean {
    const session = this.#byId.get(id);
    if (session === undefined || this.#away.has(session)) return false;
    session.deadline = now + this.#options.graceMs;
    this.#away.add(session);
    return true;
  }

  /**
   * Resumes the session `token` belongs to, if it is live: its window has not
   * ended, or it is not away at all (the old connection still looks open and
   * is to be superseded). On success the token is spent and a new one issued.
   *
   * @param owns Whether the one presenting the token may have the session
   *   with that id (its API key's tenant); when not, the token fails exactly
   *   like an unknown one and the session is left as it was: still waiting for
   *   its owner, its window running, its token still good. Anyone by default.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionTable } from "./table.ts";
   * const table = new SessionTable<string>({ graceMs: 1_000, maxQueued: 8, maxQueuedBytes: 1024 });
   * const token = table.open("alice");
   * table.suspend("alice", 0);
   * assert.deepEqual(table.resume(token, 100, () => false), { ok: false });
   * assert.ok(table.isAway("alice"), "still waiting for its owner");
   * assert.equal(table.resume(token, 200).ok, true);
   * ```
   */
  resume(token: string, now: number, owns: (id: string) => boolean = () => true): ResumeResult<M> {
    const session = this.#byToken.get(token);
    if (session === undefined || session.deadline <= now) return { ok: false };
    // Checked before anything changes: a refusal must not spend the token,
    // take the session out of its window or drop what waits for it.
    if (!owns(session.id)) return { ok: false };
    const wasAway = this.#away.delete(session);
    const queued = session.queue;
    session.queue = [];
    session.bytes = 0;
    session.deadline = Infinity;
    this.#byToken.delete(token);
    this.#issue(session);
    return { ok: true, id: session.id, token: session.token, queued, wasAway };
  }

  /**
   * Holds a message for an away client, to deliver on resume. Past either
   * bound the session ends: a client that far behind is better told to
   * start again than handed a conversation with a hole in it.
   *
   * @param bytes The message's size as it will be sent.
   */
  hold(id: string, message: M, bytes: number): HoldResult {
    const session = this.#byId.get(id);
    if (session === undefined || !this.#away.has(session)) return "absent";
    if (
      session.queue.length >= this.#options.maxQueued ||
      session.bytes + bytes > this.#options.maxQueuedBytes
    ) {
      this.end(id);
      return "overflow";
    }
    session.queue.push(message);
    session.bytes += bytes;
    return "held";
  }

  /**
   * Ends `id`'s session: its token stops working and what it held is dropped.
   *
   * @returns Whether there was one.
   */
  end(id: string): boolean {
    const session = this.#byId.get(id);
    if (session === undefined) return false;
    this.#byId.delete(id);
    this.#byToken.delete(session.token);
    this.#away.delete(session);
    return true;
  }

  /** Ends and returns the ids of away sessions whose window ended by `now`, oldest first. */
  expire(now: number): string[] {
    const expired: string[] = [];
    for (const session of this.#away) {
      if (session.deadline > now) break;
      this.end(session.id);
      expired.push(session.id);
    }
    return expired;
  }

  /**
   * Ends the away sessions whose id `matches`, whatever is left of their
   * windows, and returns their ids, oldest window first. Sessions whose
   * client is connected are left alone: the caller closes those.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionTable } from "./table.ts";
   * const table = new SessionTable<string>({ graceMs: 1_000, maxQueued: 8, maxQueuedBytes: 1024 });
   * for (const id of ["a1", "a2", "b1"]) table.open(id);
   * table.suspend("a1", 0);
   * table.suspend("b1", 0);
   * assert.deepEqual(table.endAway((id) => id.startsWith("a")), ["a1"]);
   * assert.ok(table.has("a2") && table.isAway("b1"));
   * ```
   */
  endAway(matches: (id: string) => boolean): string[] {
    const ended: string[] = [];
    for (const session of this.#away) {
      if (!matches(session.id)) continue;
      this.end(session.id);
      ended.push(session.id);
    }
    return ended;
  }

  /** When the oldest window ends, for the caller's one timer; `undefined` when none. */
  get nextDeadline(): number | undefined {
    return this.#away.values().next().value?.deadline;
  }

  /** Ends every session. */
  clear(): void {
    this.#byId.clear();
    this.#byToken.clear();
    this.#away.clear();
  }

  #issue(session: Session<M>): void {
    let token = this.#options.newToken();
    // Never two sessions on one token, even with a poor token source.
    while (this.#byToken.has(token)) token = this.#options.newToken();
    session.token = token;
    this.#byToken.set(token, session);
  }
}
