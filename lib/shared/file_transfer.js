// This module is browser compatible.
// @ts-check
/**
 * One transfer over one data channel, as `file_protocol.js` describes it:
 * what both sides share (the channel's listeners, the idle watch, the end,
 * the inbox that bounds how many files a partner sends at once) and the
 * shapes of what they take and report. The sending side is
 * `file_sender.js`, the receiving side `file_receiver.js`; the page (with a
 * `File` and a Blob) and the command-line peer (with files on disk) run
 * both alike. Where the bytes come from and go to is the caller's; flow
 * control, the digest and the order of messages are written once.
 *
 * @module
 */

import {
  FileMessageType,
  MAX_INCOMING_FILES,
  parseFileMessage,
  TRANSFER_IDLE_MS,
} from "./file_protocol.js";
import { Sha256 } from "./sha256.js";

/** @typedef {import("./rtc_types.js").FileChannelLike} FileChannelLike */

/**
 * @typedef {object} FileOffer What the sender offers.
 * @property {string} name The name as the sender gave it (not yet safe to use as a path).
 * @property {number} size In bytes.
 * @property {string} mime The media type.
 * @property {number} [modified] When the file last changed, in milliseconds
 *   since 1970 (one file only): with it, an interrupted transfer of the same
 *   file can be resumed.
 * @property {SetFile[]} [files] For a set: its files in order, with their
 *   relative paths (on the receiving side already made safe); `name` is
 *   then what to call the set and `size` the total.
 * @property {string[]} [folders] For a set: its empty folders.
 */

/** @typedef {import("./file_set.js").SetFile} SetFile */

/**
 * @typedef {object} FileOutcome How one file of a set ended.
 * @property {number} index Its place in the set's list.
 * @property {string} path Its relative path.
 * @property {boolean} ok Whether it arrived with its SHA-256 verified.
 * @property {string} [reason] Why not.
 */

/**
 * @typedef {{ kind: "offer", offer: FileOffer }
 *   | { kind: "accepted" }
 *   | { kind: "progress", bytes: number, size: number, file?: { index: number, path: string } }
 *   | { kind: "file", outcome: FileOutcome }
 *   | { kind: "resumed", held: number, size: number }
 *   | { kind: "done", size: number, ms: number, sha256: string, failed?: FileOutcome[], files?: number }
 *   | { kind: "rejected", reason: string }
 *   | { kind: "stopped", reason: string, by: "you" | "peer" | "error", interrupted?: boolean }} TransferEvent
 *   What a transfer reports. `offer` comes first on the receiving side only
 *   (a receiver turned away by a full inbox reports only `rejected`);
 *   `done`, `rejected` and `stopped` are final and come once. For a set,
 *   `progress` names the current file, `file` reports each file's end, and
 *   `done` counts the set's `files` and lists those that `failed` (its
 *   `sha256` is empty: each file has its own). `resumed` says how many of
 *   the file's bytes were already there (on the receiving side, those it
 *   claims; on the sending side, those that matched). A `stopped` transfer
 *   was `interrupted` when the link, the partner or this side went away
 *   (not a cancel, a refusal or a damaged file): a resumable sink keeps
 *   what it holds.
 */

/**
 * @typedef {object} FileSource Where the sender's bytes come from, in order.
 * @property {(max: number) => Promise<Uint8Array>} read The next bytes, at
 *   most `max`; empty at the end. The buffer may be reused by the next read:
 *   `send()` copies it (in the browser by the standard, in werift by its
 *   `Buffer.from`) and the digest reads it at once.
 * @property {() => void} close Called once, when the transfer ends.
 * @property {(offset: number) => Promise<void>} [seek] Moves to `offset`:
 *   a source that can seek lets a transfer resume where it stopped.
 */

/**
 * @typedef {object} FileSink Where the receiver's bytes go, in order.
 * @property {(bytes: Uint8Array) => Promise<void>} write Stores the next bytes.
 * @property {() => Promise<void>} commit Called once every byte is stored
 *   and the digest matched: keep the file.
 * @property {() => Promise<void>} abort Called instead of `commit` when the
 *   transfer fails or is cancelled: keep nothing.
 * @property {(offset: number) => Promise<void>} [seek] A resumable sink:
 *   the next bytes go from `offset`, a piece boundary.
 * @property {() => Promise<string>} [digest] A resumable sink: the SHA-256
 *   of every byte it holds, read back, when they did not arrive in order.
 * @property {() => Promise<void>} [suspend] A resumable sink: called instead
 *   of `abort` when the transfer was interrupted: keep what is there, and
 *   what it takes to resume.
 */

/**
 * @typedef {object} FileSetTarget Where a received set goes.
 * @property {(file: SetFile, index: number) => Promise<FileSink>} open A sink
 *   for the set's next file, asked for in order when its first byte (or,
 *   for an empty file, its end) arrives. A file it throws for is not kept;
 *   the set goes on.
 * @property {(paths: readonly string[]) => Promise<void>} folders Makes the
 *   set's empty folders, before any file.
 */

/**
 * @typedef {object} FileSetSource Where a sent set's bytes come from.
 * @property {(file: SetFile, index: number) => Promise<FileSource>} open The
 *   source of the set's next file, opened in order as its turn comes. A file
 *   it throws for is skipped; the set goes on.
 */

/** @typedef {"offered" | "sending" | "receiving" | "verifying" | "done" | "stopped"} TransferState */

/**
 * The bytes of a channel message, or `undefined` for text.
 *
 * @param {unknown} data
 * @returns {Uint8Array | undefined}
 */
function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return undefined;
}

/**
 * @param {unknown} error
 * @returns {string}
 */
export function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `ms` as a reason says it: `30 s`, `0.5 s`.
 *
 * @param {number} ms
 * @returns {string}
 */
function secondsText(ms) {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * The files one partner is sending at once, up to a limit: a receiver takes
 * a place when its channel arrives and gives it back when it ends. Give
 * every receiver from one partner the same inbox.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileInbox } from "./file_transfer.js";
 * const inbox = new FileInbox(1);
 * const a = {}, b = {};
 * assert.equal(inbox.admit(a), true);
 * assert.equal(inbox.admit(b), false);
 * inbox.release(a);
 * assert.equal(inbox.admit(b), true);
 * ```
 */
export class FileInbox {
  /** @type {Set<object>} */
  #active = new Set();

  /** @param {number} [max] How many at once; `MAX_INCOMING_FILES` by default. */
  constructor(max = MAX_INCOMING_FILES) {
    /** How many files it takes at once. */
    this.max = max;
  }

  /** How many places are taken. */
  get size() {
    return this.#active.size;
  }

  /**
   * Takes a place for `transfer`.
   *
   * @param {object} transfer
   * @returns {boolean} `false` when every place is taken.
   */
  admit(transfer) {
    if (this.#active.size >= this.max) return false;
    this.#active.add(transfer);
    return true;
  }

  /**
   * Gives the place of `transfer` back; nothing if it had none.
   *
   * @param {object} transfer
   */
  release(transfer) {
    this.#active.delete(transfer);
  }
}

/** The SHA-256 of no bytes: what a set of empty folders only is confirmed with. */
export const EMPTY_SHA256 = new Sha256().hex();

// Receivers given no inbox share this one: the page, like the terminal,
// talks to one partner at a time.
export const sharedInbox = new FileInbox();

/** What both sides share: the channel, its listeners, the idle watch, the end. */
export class Transfer {
  /** @type {FileChannelLike} */
  channel;
  /** @type {TransferState} */
  state;
  /** @type {(event: TransferEvent) => void} */
  #onEvent;
  /** @type {() => number} */
  now;
  /** @type {Record<string, (event: any) => void>} */
  #listeners;
  startedAt = 0;
  /** @type {number} */
  #idleMs;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #idleTimer;
  #watching = false;
  #lastProgress = 0;
  /** @type {() => void} */
  #settle = () => {};
  /**
   * Settles once the transfer has ended and its final event is out: the
   * source is closed, or the sink committed or aborted (nothing left behind).
   *
   * @type {Promise<void>}
   */
  settled;

  /**
   * @param {FileChannelLike} channel
   * @param {TransferState} state
   * @param {(event: TransferEvent) => void} onEvent
   * @param {(() => number) | undefined} now
   * @param {number | undefined} idleMs
   */
  constructor(channel, state, onEvent, now, idleMs) {
    this.channel = channel;
    this.state = state;
    this.#onEvent = onEvent;
    this.now = now ?? (() => performance.now());
    this.#idleMs = idleMs ?? TRANSFER_IDLE_MS;
    this.settled = new Promise((resolve) => this.#settle = () => resolve(undefined));
    channel.binaryType = "arraybuffer";
    this.#listeners = {
      open: () => this.opened(),
      message: (/** @type {{ data: unknown }} */ event) => this.#message(event.data),
      close: () =>
        this.end({ kind: "stopped", reason: "the channel closed", by: "error", interrupted: true }),
      bufferedamountlow: () => this.wake(),
    };
    for (const [type, listener] of Object.entries(this.#listeners)) {
      channel.addEventListener(type, listener);
    }
  }

  /** Whether the transfer has ended. */
  get finished() {
    return this.state === "done" || this.state === "stopped";
  }

  /**
   * Stops the transfer at this end: tells the partner why, keeps nothing;
   * or, when `resumable` (this side is going away, not giving up), lets both
   * sides keep what it takes to resume.
   *
   * @param {string} [reason]
   * @param {{ resumable?: boolean }} [options]
   */
  cancel(reason = "cancelled", options = {}) {
    if (this.finished) return;
    const resumable = options.resumable === true;
    this.tell({ type: FileMessageType.Cancel, reason, ...(resumable ? { resumable } : {}) });
    this.end({ kind: "stopped", reason, by: "you", ...(resumable ? { interrupted: true } : {}) });
  }

  /**
   * Ends the transfer without a word to the partner (the link is gone) and
   * closes its channel.
   *
   * @param {string} reason
   */
  abandon(reason) {
    this.end({ kind: "stopped", reason, by: "error", interrupted: true });
    try {
      this.channel.close();
    } catch {
      // Already closed.
    }
  }

  /** The channel opened. */
  opened() {}

  /**
   * From now on, waiting on the partner: no progress for `idleMs` cancels
   * the transfer on both sides.
   */
  watch() {
    this.#watching = true;
    this.progressed();
    if (this.#idleTimer === undefined) this.#checkIdleIn(this.#idleMs);
  }

  /** No longer waiting on the partner (the user, or this side's own disk, is next). */
  unwatch() {
    this.#watching = false;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Something moved: bytes, an acknowledgement, a message. */
  progressed() {
    // Never earlier than an allowance given with allow().
    this.#lastProgress = Math.max(this.#lastProgress, performance.now());
  }

  /**
   * The partner may be quiet for `ms` more than `idleMs` from now: it is
   * reading and hashing what was already there (a resume), which takes
   * time in proportion to its size and sends nothing.
   *
   * @param {number} ms
   */
  allow(ms) {
    this.#lastProgress = Math.max(this.#lastProgress, performance.now() + ms);
  }

  /** @param {number} ms */
  #checkIdleIn(ms) {
    // One timer per transfer, moved on lazily: not one per chunk.
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (!this.#watching || this.finished) return;
      const quiet = performance.now() - this.#lastProgress;
      if (quiet < this.#idleMs) {
        this.#checkIdleIn(this.#idleMs - quiet);
        return;
      }
      const reason = `no progress for ${secondsText(this.#idleMs)}`;
      // A stall is an interruption (a laptop closed, a link gone quiet): both sides may resume.
      this.tell({ type: FileMessageType.Cancel, reason, resumable: true });
      // The partner may be the one that stalled: the channel is closed from here.
      this.end({ kind: "stopped", reason, by: "error", interrupted: true }, true);
    }, ms);
  }

  /** A reason to look at the flow again: the buffer drained, an ack came, or the end. */
  wake() {}

  /**
   * @param {import("./file_protocol.js").FileMessage} _message
   */
  control(_message) {}

  /** @param {Uint8Array} _bytes */
  data(_bytes) {}

  /**
   * Reports a final event once and stops listening; a final event from the
   * partner also closes the channel.
   *
   * @param {TransferEvent & { kind: "done" | "rejected" | "stopped" }} event
   * @param {boolean} [closeChannel]
   */
  end(event, closeChannel = false) {
    if (this.finished) return;
    this.state = event.kind === "done" ? "done" : "stopped";
    this.unwatch();
    for (const [type, listener] of Object.entries(this.#listeners)) {
      this.channel.removeEventListener(type, listener);
    }
    const released = this.released(
      event.kind === "done",
      event.kind === "stopped" && event.interrupted === true,
    );
    this.wake();
    if (closeChannel) this.#close();
    else this.#closeIfKept();
    // The end is reported once nothing is left behind.
    if (released) void released.then(() => this.emit(event)).finally(this.#settle);
    else {
      try {
        this.emit(event);
      } finally {
        this.#settle();
      }
    }
  }

  /**
   * Lets go of the source or sink.
   *
   * @param {boolean} _kept Whether the transfer succeeded.
   * @param {boolean} _interrupted Whether it was interrupted (see `TransferEvent`).
   * @returns {Promise<void> | void} Settles when it has let go.
   */
  released(_kept, _interrupted) {}

  /** @param {TransferEvent} event */
  emit(event) {
    this.#onEvent(event);
  }

  /** @param {import("./file_protocol.js").FileMessage} message */
  tell(message) {
    if (this.channel.readyState !== "open") return;
    try {
      this.channel.send(JSON.stringify(message));
    } catch {
      // The channel is going; its close event ends the transfer.
    }
  }

  /** @param {string} text */
  protocolError(text) {
    this.tell({ type: FileMessageType.Cancel, reason: `protocol error: ${text}` });
    this.end({ kind: "stopped", reason: `protocol error: ${text}`, by: "error" }, true);
  }

  /**
   * Closes the channel once what is buffered on it has gone: werift reuses a
   * closed channel's stream id for the next channel, and would send bytes
   * still queued for the old one on the new one.
   */
  #close() {
    const channel = this.channel;
    const close = () => {
      channel.removeEventListener("bufferedamountlow", close);
      channel.removeEventListener("close", close);
      try {
        channel.close();
      } catch {
        // Already closed.
      }
    };
    if (channel.readyState !== "open" || channel.bufferedAmount === 0) {
      close();
      return;
    }
    channel.bufferedAmountLowThreshold = 0;
    channel.addEventListener("bufferedamountlow", close);
    channel.addEventListener("close", close);
  }

  /**
   * Leaves closing the channel to the partner, as the protocol has it (the
   * side that hears the end closes), but closes it after `idleMs` if the
   * partner keeps it open. Closing at once instead could reset the stream
   * before werift has delivered its own open acknowledgement on it, which
   * werift on the other side throws on.
   */
  #closeIfKept() {
    const channel = this.channel;
    if (channel.readyState === "closed") return;
    const closed = () => {
      clearTimeout(timer);
      channel.removeEventListener("close", closed);
    };
    const timer = setTimeout(() => {
      closed();
      this.#close();
    }, this.#idleMs);
    channel.addEventListener("close", closed);
  }

  /** @param {unknown} data */
  #message(data) {
    if (this.finished) return;
    const bytes = bytesOf(data);
    if (bytes !== undefined) {
      this.data(bytes);
      return;
    }
    const message = parseFileMessage(String(data));
    if (message === undefined) {
      this.protocolError("a message that is not part of the file protocol");
      return;
    }
    if (message.type === FileMessageType.Cancel) {
      this.end({
        kind: "stopped",
        reason: message.reason,
        by: "peer",
        ...(message.resumable ? { interrupted: true } : {}),
      }, true);
      return;
    }
    this.control(message);
  }
}
