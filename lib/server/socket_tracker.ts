/**
 * Every WebSocket the runtime holds a descriptor for, from the upgrade to the
 * close event: handshakes under way, clients, sockets closing, and the ones
 * the runtime never lets go. It counts them per client address (for
 * `--max-clients-per-ip`) and notices the two ways a socket gets stuck:
 *
 * - a handshake whose TCP connection was reset before the 101 was written
 *   never opens, never closes, and its descriptor stays held for good (a
 *   defect of the runtime that the application cannot undo);
 * - a socket the server closed stays open until the peer answers the close
 *   frame, which a hostile peer never does.
 *
 * Both are counted in `/metrics`, and both keep counting against their
 * address, so one address cannot pile them up past its cap.
 *
 * @module
 */

import type { Metrics } from "../metrics.ts";

/** What the tracker needs of a socket: its open and close events. */
export type TrackedSocket = Pick<EventTarget, "addEventListener" | "removeEventListener">;

/** A socket that got stuck, for the caller to log. */
export interface StuckSocket {
  /** The client's address as the logs show it. */
  readonly address: string;
  /** `"unopened"`: the handshake never opened; `"unclosed"`: the peer never answered a close. */
  readonly kind: "unopened" | "unclosed";
}

/** The tracker's settings. */
export interface SocketTrackerOptions {
  /** Sockets one address may hold at once; `0` for no limit. */
  readonly maxPerAddress: number;
  /** Milliseconds after the upgrade by which a socket should have opened. */
  readonly openDeadlineMs: number;
  /** Milliseconds after the server's close by which the peer should have answered. */
  readonly closeDeadlineMs: number;
  /** Told about each socket that got stuck. */
  readonly onStuck?: (socket: StuckSocket) => void;
}

/**
 * Tracks WebSockets from upgrade to close, per client address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "../metrics.ts";
 * import { SocketTracker } from "./socket_tracker.ts";
 * const tracker = new SocketTracker(new Metrics(), {
 *   maxPerAddress: 1,
 *   openDeadlineMs: 10_000,
 *   closeDeadlineMs: 5_000,
 * });
 * const socket = new EventTarget();
 * assert.equal(tracker.admits("203.0.113.7"), true);
 * tracker.track(socket, "203.0.113.7", "203.0.113.7:5000");
 * assert.equal(tracker.admits("203.0.113.7"), false);
 * socket.dispatchEvent(new Event("open"));
 * socket.dispatchEvent(new Event("close"));
 * assert.equal(tracker.admits("203.0.113.7"), true);
 * ```
 */
export class SocketTracker {
  readonly #metrics: Metrics;
  readonly #options: SocketTrackerOptions;
  readonly #perAddress = new Map<string, number>();
  readonly #live = new Map<TrackedSocket, Tracked>();

  /**
   * @param metrics Where the counts go: `sockets`, `handshakesUnopened`, `closeTimeouts`.
   * @param options The cap and the deadlines.
   */
  constructor(metrics: Metrics, options: SocketTrackerOptions) {
    this.#metrics = metrics;
    this.#options = options;
  }

  /** Whether a new socket from `key` stays within the per-address cap. */
  admits(key: string): boolean {
    const max = this.#options.maxPerAddress;
    return max === 0 || (this.#perAddress.get(key) ?? 0) < max;
  }

  /** How many sockets `key` holds. */
  held(key: string): number {
    return this.#perAddress.get(key) ?? 0;
  }

  /** How many sockets are held in all, stuck ones included. */
  get size(): number {
    return this.#live.size;
  }

  /**
   * Starts tracking a socket just upgraded; it is released at its close
   * event, and only then.
   *
   * @param socket The server side of the WebSocket.
   * @param key The client's per-address key.
   * @param address The client's address for the logs.
   */
  track(socket: TrackedSocket, key: string, address: string): void {
    const tracked = new Tracked(this, socket, key, address);
    this.#live.set(socket, tracked);
    this.#perAddress.set(key, this.held(key) + 1);
    this.#metrics.sockets++;
    tracked.startOpenDeadline(this.#options.openDeadlineMs);
  }

  /** The server has closed `socket`: start waiting for the peer's answer. */
  closing(socket: TrackedSocket): void {
    this.#live.get(socket)?.startCloseDeadline(this.#options.closeDeadlineMs);
  }

  /** Stops every timer, for a server that is stopping; the counts stay. */
  stop(): void {
    for (const tracked of this.#live.values()) tracked.clearTimer();
  }

  /** @internal Called by a tracked socket at its close event. */
  release(tracked: Tracked): void {
    if (!this.#live.delete(tracked.socket)) return;
    const left = this.held(tracked.key) - 1;
    if (left > 0) this.#perAddress.set(tracked.key, left);
    else this.#perAddress.delete(tracked.key);
    this.#metrics.sockets--;
  }

  /** @internal Called by a tracked socket whose deadline passed. */
  stuck(tracked: Tracked, kind: StuckSocket["kind"]): void {
    if (kind === "unopened") this.#metrics.handshakesUnopened++;
    else this.#metrics.closeTimeouts++;
    this.#options.onStuck?.({ address: tracked.address, kind });
  }
}

/** One socket's timers and listeners, as one event-listener object. */
class Tracked {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #opened = false;

  constructor(
    readonly tracker: SocketTracker,
    readonly socket: TrackedSocket,
    readonly key: string,
    readonly address: string,
  ) {
    socket.addEventListener("open", this);
    socket.addEventListener("close", this);
  }

  handleEvent(event: Event): void {
    this.clearTimer();
    if (event.type === "open") {
      this.#opened = true;
      return;
    }
    this.socket.removeEventListener("open", this);
    this.socket.removeEventListener("close", this);
    this.tracker.release(this);
  }

  startOpenDeadline(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#opened) this.tracker.stuck(this, "unopened");
    }, ms);
  }

  startCloseDeadline(ms: number): void {
    // A handshake that never opened has been counted already.
    if (!this.#opened) return;
    this.clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.tracker.stuck(this, "unclosed");
    }, ms);
  }

  clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
