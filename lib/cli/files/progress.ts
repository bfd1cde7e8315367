/**
 * Transfer progress for a person at a terminal: the wording (pure) and a
 * display on stderr that redraws one line in place on a terminal, at most a
 * few times a second, and writes plain lines, at most one a second per
 * transfer, anywhere else.
 *
 * @module
 */

import { formatBytes } from "../../shared/file_protocol.js";

/** Which way a file goes. */
export type Direction = "send" | "receive";

/**
 * `12.6 MB / 67.1 MB (18 %), 8.4 MB/s, ETA 7 s` for a transfer under way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./progress.ts";
 * assert.equal(
 *   progressLine("a.bin", "receive", 2_000_000, 8_000_000, 1000),
 *   "a.bin ↓ 2.0 MB / 8.0 MB (25 %), 2.0 MB/s, ETA 3 s",
 * );
 * ```
 */
export function progressLine(
  name: string,
  direction: Direction,
  bytes: number,
  size: number,
  elapsedMs: number,
): string {
  const percent = size === 0 ? 100 : Math.floor(bytes / size * 100);
  const perSecond = elapsedMs > 0 ? bytes / (elapsedMs / 1000) : 0;
  const eta = perSecond > 0 ? `ETA ${formatSeconds((size - bytes) / perSecond)}` : "ETA –";
  return `${name} ${direction === "send" ? "↑" : "↓"} ${formatBytes(bytes)} / ${
    formatBytes(size)
  } (${percent} %), ${formatRate(bytes, elapsedMs)}, ${eta}`;
}

/**
 * `67.1 MB in 7.9 s, 8.5 MB/s`: the size, time and rate of a finished transfer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeTimeRate } from "./progress.ts";
 * assert.equal(sizeTimeRate(8_000_000, 2000), "8.0 MB in 2.0 s, 4.0 MB/s");
 * ```
 */
export function sizeTimeRate(size: number, ms: number): string {
  return `${formatBytes(size)} in ${(ms / 1000).toFixed(1)} s, ${formatRate(size, ms)}`;
}

function formatRate(bytes: number, ms: number): string {
  return ms > 0 ? `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s` : "– MB/s";
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.ceil(seconds - minutes * 60)} s`;
}

/** How a progress display writes and tells time. */
export interface ProgressOutput {
  /** Writes text as it is (no newline added). */
  write(text: string): void;
  /** Whether the output is a terminal (redraw in place) or not (plain lines). */
  tty: boolean;
  /** The clock in milliseconds. */
  now?: () => number;
}

/** Redraws on a terminal at most this often. */
export const TTY_INTERVAL_MS = 250;

/** Writes a plain line per transfer at most this often elsewhere. */
export const LINE_INTERVAL_MS = 1000;

/**
 * The progress of every transfer under way on one output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressDisplay } from "./progress.ts";
 * let now = 0;
 * const out: string[] = [];
 * const display = new ProgressDisplay({ write: (t) => out.push(t), tty: false, now: () => now });
 * display.update("1", "first");
 * now = 500;
 * display.update("1", "too soon");
 * now = 1500;
 * display.update("1", "later");
 * assert.deepEqual(out, ["first\n", "later\n"]);
 * ```
 */
export class ProgressDisplay {
  readonly #output: ProgressOutput;
  readonly #lines = new Map<string, string>();
  readonly #lastWritten = new Map<string, number>();
  #lastDrawn = -Infinity;
  #shown = false;

  /** @param output Where to write. */
  constructor(output: ProgressOutput) {
    this.#output = output;
  }

  /** Sets a transfer's line; writes it if it is time to. */
  update(key: string, line: string): void {
    const now = this.#now();
    this.#lines.set(key, line);
    if (this.#output.tty) {
      if (now - this.#lastDrawn < TTY_INTERVAL_MS) return;
      this.#lastDrawn = now;
      this.#draw();
      return;
    }
    const last = this.#lastWritten.get(key) ?? -Infinity;
    if (now - last < LINE_INTERVAL_MS) return;
    this.#lastWritten.set(key, now);
    this.#output.write(`${line}\n`);
  }

  /** Forgets a transfer that ended. */
  remove(key: string): void {
    this.#lines.delete(key);
    this.#lastWritten.delete(key);
    if (this.#output.tty) this.#draw();
  }

  /** Clears the line on a terminal, before something else is printed there. */
  clear(): void {
    if (!this.#output.tty || !this.#shown) return;
    this.#output.write("\r\x1b[2K");
    this.#shown = false;
  }

  #draw(): void {
    const text = [...this.#lines.values()].join("  |  ");
    this.#output.write(`\r\x1b[2K${text}`);
    this.#shown = text !== "";
  }

  #now(): number {
    return (this.#output.now ?? (() => performance.now()))();
  }
}
