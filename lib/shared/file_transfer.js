// This module is browser compatible.
// @ts-check
/**
 * One file over one data channel, as `file_protocol.js` describes it: the
 * sending side and the receiving side, run by the page (with a `File` and a
 * Blob) and by the command-line peer (with files on disk) alike. Where the
 * bytes come from and go to is the caller's; flow control, the digest and
 * the order of messages are here, written once.
 *
 * @module
 */

import {
  ACK_EVERY_BYTES,
  CHUNK_BYTES,
  FileMessageType,
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
  MAX_INCOMING_FILES,
  parseFileMessage,
  TRANSFER_IDLE_MS,
  WINDOW_BYTES,
} from "./file_protocol.js";
import { listMessages, listText, SetList } from "./file_set.js";
import { Sha256 } from "./sha256.js";

/** @typedef {import("./rtc_types.js").FileChannelLike} FileChannelLike */

/**
 * @typedef {object} FileOffer What the sender offers.
 * @property {string} name The name as the sender gave it (not yet safe to use as a path).
 * @property {number} size In bytes.
 * @property {string} mime The media type.
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
 *   | { kind: "done", size: number, ms: number, sha256: string, failed?: FileOutcome[], files?: number }
 *   | { kind: "rejected", reason: string }
 *   | { kind: "stopped", reason: string, by: "you" | "peer" | "error" }} TransferEvent
 *   What a transfer reports. `offer` comes first on the receiving side only
 *   (a receiver turned away by a full inbox reports only `rejected`);
 *   `done`, `rejected` and `stopped` are final and come once. For a set,
 *   `progress` names the current file, `file` reports each file's end, and
 *   `done` counts the set's `files` and lists those that `failed` (its
 *   `sha256` is empty: each file has its own).
 */

/**
 * @typedef {object} FileSource Where the sender's bytes come from, in order.
 * @property {(max: number) => Promise<Uint8Array>} read The next bytes, at
 *   most `max`; empty at the end. The buffer may be reused by the next read:
 *   `send()` copies it (in the browser by the standard, in werift by its
 *   `Buffer.from`) and the digest reads it at once.
 * @property {() => void} close Called once, when the transfer ends.
 */

/**
 * @typedef {object} FileSink Where the receiver's bytes go, in order.
 * @property {(bytes: Uint8Array) => Promise<void>} write Stores the next bytes.
 * @property {() => Promise<void>} commit Called once every byte is stored
 *   and the digest matched: keep the file.
 * @property {() => Promise<void>} abort Called instead of `commit` when the
 *   transfer fails or is cancelled: keep nothing.
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
function errorText(error) {
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
const EMPTY_SHA256 = new Sha256().hex();

// Receivers given no inbox share this one: the page, like the terminal,
// talks to one partner at a time.
const sharedInbox = new FileInbox();

/** What both sides share: the channel, its listeners, the idle watch, the end. */
class Transfer {
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
      close: () => this.end({ kind: "stopped", reason: "the channel closed", by: "error" }),
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
   * Stops the transfer at this end: tells the partner why, keeps nothing.
   *
   * @param {string} [reason]
   */
  cancel(reason = "cancelled") {
    if (this.finished) return;
    this.tell({ type: FileMessageType.Cancel, reason });
    this.end({ kind: "stopped", reason, by: "you" });
  }

  /**
   * Ends the transfer without a word to the partner (the link is gone) and
   * closes its channel.
   *
   * @param {string} reason
   */
  abandon(reason) {
    this.end({ kind: "stopped", reason, by: "error" });
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
    this.#lastProgress = performance.now();
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
      this.tell({ type: FileMessageType.Cancel, reason });
      // The partner may be the one that stalled: the channel is closed from here.
      this.end({ kind: "stopped", reason, by: "error" }, true);
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
    const released = this.released(event.kind === "done");
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
   * @returns {Promise<void> | void} Settles when it has let go.
   */
  released(_kept) {}

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
      this.end({ kind: "stopped", reason: message.reason, by: "peer" }, true);
      return;
    }
    this.control(message);
  }
}

/**
 * @typedef {object} FileSenderOptions
 * @property {FileChannelLike} channel A new channel labelled `file:<id>`.
 * @property {FileOffer} offer The file's name, size and media type; for a
 *   set, also its `files` (and `folders`), `size` being their total.
 * @property {FileSource} [source] The file's bytes (one file).
 * @property {FileSetSource} [sources] The set's files' bytes (a set).
 * @property {(event: TransferEvent) => void} onEvent
 * @property {() => number} [now] The clock in milliseconds.
 * @property {number} [idleMs] Once accepted, cancel when the receiver
 *   acknowledges nothing for this long (`TRANSFER_IDLE_MS` by default).
 */

/**
 * Offers a file, or a set of files, on its channel and, once accepted,
 * sends it with flow control (never more than `HIGH_WATER_BYTES` in the
 * channel's buffer, nor more than `WINDOW_BYTES` beyond what the receiver
 * has stored), then each file's SHA-256; it is done when the receiver has
 * answered every file. Once accepted, a receiver that lets `idleMs` pass
 * without taking anything ends it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileSender } from "./file_transfer.js";
 * const sent: unknown[] = [];
 * const channel = Object.assign(new EventTarget(), {
 *   label: "file:1", readyState: "open", bufferedAmount: 0, bufferedAmountLowThreshold: 0,
 *   send: (data: unknown) => sent.push(data), close() {},
 * });
 * const sender = new FileSender({
 *   channel,
 *   offer: { name: "a.txt", size: 3, mime: "text/plain" },
 *   source: { read: () => Promise.resolve(new Uint8Array(0)), close() {} },
 *   onEvent: () => {},
 * });
 * assert.deepEqual(sent, ['{"type":"file_offer","name":"a.txt","size":3,"mime":"text/plain"}']);
 * assert.equal(sender.state, "offered");
 * ```
 */
export class FileSender extends Transfer {
  /** @type {FileSenderOptions} */
  #options;
  /** @type {SetFile[]} */
  #files;
  #set;
  #sent = 0;
  #acked = 0;
  // Where the set stands, in bytes of its total: files skipped count whole.
  #position = 0;
  /** Digests of the files ended and not yet answered, in order (`undefined`: skipped). @type {{ index: number, sha256: string | undefined }[]} */
  #unanswered = [];
  /** @type {FileOutcome[]} */
  #failed = [];
  #answered = 0;
  /** @type {(() => void) | undefined} */
  #waiting;

  /** @param {FileSenderOptions} options */
  constructor(options) {
    super(options.channel, "offered", options.onEvent, options.now, options.idleMs);
    this.#options = options;
    this.#set = options.offer.files !== undefined;
    this.#files = options.offer.files ?? [{ path: options.offer.name, size: options.offer.size }];
    options.channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    if (options.channel.readyState === "open") this.opened();
  }

  /** @returns {FileOffer} What is being sent. */
  get offer() {
    return this.#options.offer;
  }

  /** Bytes sent so far. */
  get bytes() {
    return this.#sent;
  }

  /** @override */
  opened() {
    if (this.state !== "offered") return;
    const { name, size, mime, files, folders } = this.#options.offer;
    if (files === undefined) {
      this.tell({ type: FileMessageType.Offer, name, size, mime });
      return;
    }
    const empty = folders ?? [];
    this.tell({
      type: FileMessageType.Offer,
      name,
      size,
      mime,
      files: files.length,
      folders: empty.length,
    });
    for (const message of listMessages(files, empty)) this.#say(listText(message));
  }

  /** @param {string} text */
  #say(text) {
    if (this.channel.readyState !== "open") return;
    try {
      this.channel.send(text);
    } catch {
      // The channel is going; its close event ends the transfer.
    }
  }

  /** @override */
  wake() {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  /**
   * @override
   * @param {import("./file_protocol.js").FileMessage} message
   */
  control(message) {
    switch (message.type) {
      case FileMessageType.Accept:
        if (this.state !== "offered") return this.protocolError("a second accept");
        this.state = "sending";
        this.startedAt = this.now();
        this.watch();
        this.emit({ kind: "accepted" });
        if (this.#files.length === 0) {
          // Empty folders only: the receiver confirms once it has made them.
          this.state = "verifying";
          this.#unanswered.push({ index: -1, sha256: EMPTY_SHA256 });
          return;
        }
        this.#pump().catch((error) => {
          const reason = `cannot send the file: ${errorText(error)}`;
          this.tell({ type: FileMessageType.Cancel, reason });
          this.end({ kind: "stopped", reason, by: "error" });
        });
        return;
      case FileMessageType.Reject:
        if (this.state !== "offered") return this.protocolError("a reject after accepting");
        this.end({ kind: "rejected", reason: message.reason }, true);
        return;
      case FileMessageType.Ack:
        if (message.bytes > this.#sent) return this.protocolError("an ack for bytes not sent");
        if (message.bytes > this.#acked) this.progressed();
        this.#acked = Math.max(this.#acked, message.bytes);
        this.wake();
        return;
      case FileMessageType.Done:
      case FileMessageType.Failed:
        this.#answer(message);
        return;
      default:
        this.protocolError(`${message.type} from the receiver`);
    }
  }

  /** @param {import("./file_protocol.js").FileMessage & { type: "file_done" | "file_failed" }} message */
  #answer(message) {
    const ended = this.#unanswered[0];
    // A file that failed may be answered so; empty folders only (index -1) are made or not at all.
    const matches = message.type === FileMessageType.Done
      ? ended?.sha256 !== undefined && message.sha256 === ended.sha256
      : this.#set && ended !== undefined && ended.index >= 0;
    if (ended === undefined || !matches) {
      return this.protocolError("a confirmation that does not match");
    }
    this.#unanswered.shift();
    this.progressed();
    const path = this.#files[ended.index]?.path ?? "";
    /** @type {FileOutcome} */
    const outcome = message.type === FileMessageType.Done
      ? { index: ended.index, path, ok: true }
      : { index: ended.index, path, ok: false, reason: message.reason };
    if (!outcome.ok) this.#failed.push(outcome);
    if (this.#set && ended.index >= 0) this.emit({ kind: "file", outcome });
    if (++this.#answered < this.#files.length) return;
    this.end({
      kind: "done",
      size: this.#sent,
      ms: this.now() - this.startedAt,
      sha256: this.#set ? "" : ended.sha256 ?? "",
      ...(this.#set ? { files: this.#files.length, failed: this.#failed } : {}),
    }, true);
  }

  /** @override */
  data() {
    this.protocolError("bytes from the receiver");
  }

  /**
   * @override
   * @param {boolean} _kept
   */
  released(_kept) {
    this.#options.source?.close();
    this.#current?.close();
  }

  /** The set's file being read. @type {FileSource | undefined} */
  #current;

  async #pump() {
    for (let index = 0; index < this.#files.length; index++) {
      if (this.finished) return;
      const sent = await this.#sendFile(index);
      if (sent === "stopped" || this.finished) return;
      // Before the last end goes: its answer may come at once.
      if (index === this.#files.length - 1) this.state = "verifying";
      if (sent.sha256 === undefined) {
        this.tell({ type: FileMessageType.Skip, reason: sent.reason });
      } else {
        this.tell({ type: FileMessageType.End, sha256: sent.sha256 });
      }
      this.#unanswered.push({ index, sha256: sent.sha256 });
    }
  }

  /**
   * Sends one file's bytes.
   *
   * @param {number} index
   * @returns {Promise<{ sha256: string } | { sha256: undefined, reason: string } | "stopped">}
   */
  async #sendFile(index) {
    const file = /** @type {SetFile} */ (this.#files[index]);
    const start = this.#position;
    const skip = (/** @type {string} */ reason) => {
      this.#current?.close();
      this.#current = undefined;
      this.#position = start + file.size;
      return /** @type {const} */ ({ sha256: undefined, reason });
    };
    /** @type {FileSource} */
    let source;
    if (!this.#set) source = /** @type {FileSource} */ (this.#options.source);
    else {
      try {
        source = await /** @type {FileSetSource} */ (this.#options.sources).open(file, index);
      } catch (error) {
        return skip(`cannot read it: ${errorText(error)}`);
      }
      if (this.finished) {
        source.close();
        return "stopped";
      }
      this.#current = source;
    }
    const hash = new Sha256();
    const channel = this.channel;
    let sent = 0;
    while (sent < file.size) {
      if (this.finished) return "stopped";
      if (channel.bufferedAmount > HIGH_WATER_BYTES || this.#sent - this.#acked >= WINDOW_BYTES) {
        await new Promise((resolve) => this.#waiting = () => resolve(undefined));
        continue;
      }
      /** @type {Uint8Array} */
      let chunk;
      try {
        chunk = await source.read(Math.min(CHUNK_BYTES, file.size - sent));
      } catch (error) {
        if (!this.#set) throw error;
        return skip(`cannot read it: ${errorText(error)}`);
      }
      if (this.finished) return "stopped";
      if (chunk.length === 0) {
        const reason = "the file is shorter than offered (it changed while being sent)";
        if (this.#set) return skip(reason);
        this.cancel(reason);
        return "stopped";
      }
      hash.update(chunk);
      channel.send(chunk);
      sent += chunk.length;
      this.#sent += chunk.length;
      this.#position = start + sent;
      this.progressed();
      this.emit({
        kind: "progress",
        bytes: this.#position,
        size: this.#options.offer.size,
        ...(this.#set ? { file: { index, path: file.path } } : {}),
      });
    }
    if (this.#set) {
      source.close();
      this.#current = undefined;
    }
    return { sha256: hash.hex() };
  }
}

/**
 * @typedef {object} FileReceiverOptions
 * @property {FileChannelLike} channel A channel the partner opened, labelled `file:<id>`.
 * @property {(event: TransferEvent) => void} onEvent Hears `offer` first;
 *   or only `rejected`, when the inbox is full.
 * @property {() => number} [now] The clock in milliseconds.
 * @property {FileInbox} [inbox] The places for this partner's files; one
 *   shared by every receiver given none.
 * @property {number} [idleMs] Cancel when the offer, or once accepted the
 *   next bytes, take longer than this (`TRANSFER_IDLE_MS` by default).
 */

/**
 * One file of the set being received.
 *
 * @typedef {object} Arriving
 * @property {number} index
 * @property {number} bytes Received so far.
 * @property {Sha256} hash
 * @property {FileSink | undefined} sink Once opened.
 * @property {string | undefined} failed Why it will not be kept.
 */

/**
 * Waits for the offer on a channel the partner opened, then takes the file
 * (or each file of a set) into a sink once accepted: hashes the bytes as
 * they come, acknowledges them as they are stored, and commits each sink
 * only when every byte is there and the digest matches the sender's. A
 * channel that finds its inbox full is answered with `file_reject` at once,
 * its offer never shown; one whose offer or bytes stop coming for `idleMs`
 * is cancelled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileReceiver } from "./file_transfer.js";
 * const channel = Object.assign(new EventTarget(), {
 *   label: "file:1", readyState: "open", bufferedAmount: 0, bufferedAmountLowThreshold: 0,
 *   send() {}, close() {},
 * });
 * const events: string[] = [];
 * const receiver = new FileReceiver({ channel, onEvent: (event) => events.push(event.kind) });
 * channel.dispatchEvent(Object.assign(new Event("message"), {
 *   data: '{"type":"file_offer","name":"a.txt","size":3,"mime":"text/plain"}',
 * }));
 * assert.deepEqual(events, ["offer"]);
 * assert.equal(receiver.offer?.size, 3);
 * ```
 */
export class FileReceiver extends Transfer {
  /** @type {FileOffer | undefined} */
  offer;
  /** @type {SetList | undefined} */
  #list;
  /** @type {SetFile[]} */
  #files = [];
  /** @type {FileSetTarget | undefined} */
  #target;
  /** @type {Arriving | undefined} */
  #arriving;
  #received = 0;
  #position = 0;
  #stored = 0;
  #acked = 0;
  #answered = 0;
  #kept = 0;
  /** @type {FileOutcome[]} */
  #failed = [];
  /** @type {Promise<void>} */
  #writing = Promise.resolve();
  /** Files whose sink is open and neither committed nor aborted yet. @type {Set<Arriving>} */
  #unsettled = new Set();
  /** @type {FileInbox} */
  #inbox;
  /** @type {string | undefined} */
  #refusal;

  /** @param {FileReceiverOptions} options */
  constructor(options) {
    super(options.channel, "offered", options.onEvent, options.now, options.idleMs);
    this.#inbox = options.inbox ?? sharedInbox;
    // Until the offer comes (or the refusal goes), the partner is keeping us waiting.
    this.watch();
    if (this.#inbox.admit(this)) return;
    this.#refusal = `too many files at once (the receiver takes ${this.#inbox.max} at a time)`;
    // Not from inside the constructor: the caller does not hold its receiver yet.
    if (options.channel.readyState === "open") queueMicrotask(() => this.opened());
  }

  /**
   * Turns the channel away once it is open, when the inbox was full.
   *
   * @override
   */
  opened() {
    const reason = this.#refusal;
    if (reason === undefined || this.finished) return;
    this.tell({ type: FileMessageType.Reject, reason });
    this.end({ kind: "rejected", reason });
  }

  /** Bytes received so far. */
  get bytes() {
    return this.#received;
  }

  /** How many files of the set are kept so far, verified. */
  get kept() {
    return this.#kept;
  }

  /** Whether the offer is a set (several files, a folder). */
  get isSet() {
    return this.offer?.files !== undefined;
  }

  /**
   * Takes the offered file into `sink`, or the offered set into `target`.
   *
   * @param {FileSink | FileSetTarget} into
   */
  accept(into) {
    if (this.state !== "offered" || this.offer === undefined) {
      if ("abort" in into) void into.abort();
      return;
    }
    /** @type {FileSetTarget} */
    const target = this.isSet ? /** @type {FileSetTarget} */ (into) : {
      open: () => Promise.resolve(/** @type {FileSink} */ (into)),
      folders: () => Promise.resolve(),
    };
    this.#target = target;
    if (!this.isSet) {
      // The sink exists already: it is the file's from now on, aborted if the transfer fails.
      const file = /** @type {Arriving} */ (this.#file());
      file.sink = /** @type {FileSink} */ (into);
      this.#unsettled.add(file);
    }
    this.state = "receiving";
    this.startedAt = this.now();
    this.watch();
    const folders = this.offer.folders ?? [];
    if (folders.length > 0) {
      this.#writing = this.#writing.then(() => target.folders(folders));
      this.#writing.catch((error) => this.#fail(`cannot make the folders: ${errorText(error)}`));
    }
    this.tell({ type: FileMessageType.Accept });
    this.emit({ kind: "accepted" });
    // A set of empty folders only is whole once they are made.
    if (this.#files.length === 0) {
      this.unwatch();
      this.state = "verifying";
      void this.#writing.then(() => this.#settled(), () => {});
    }
  }

  /**
   * Declines the offer, with a reason the sender sees.
   *
   * @param {string} reason
   */
  reject(reason) {
    if (this.state !== "offered") return;
    this.tell({ type: FileMessageType.Reject, reason });
    this.end({ kind: "rejected", reason });
  }

  /**
   * @override
   * @param {import("./file_protocol.js").FileMessage} message
   */
  control(message) {
    if (this.#refusal !== undefined) return this.opened();
    switch (message.type) {
      case FileMessageType.Offer: {
        if (this.offer !== undefined || this.#list !== undefined) {
          return this.protocolError("a second offer");
        }
        const { name, size, mime, files, folders } = message;
        if (files === undefined) {
          this.#files = [{ path: name, size }];
          this.#offered({ name, size, mime });
          return;
        }
        this.#list = new SetList({ size, files, folders: folders ?? 0 });
        this.#pendingOffer = { name, size, mime };
        return;
      }
      case FileMessageType.List: {
        const list = this.#list;
        if (list === undefined || this.offer !== undefined) {
          return this.protocolError("a list without a set's offer");
        }
        this.progressed();
        const added = list.add(message.entries);
        if (added === "more") return;
        if (added !== "complete") return this.protocolError(added);
        this.#files = list.files;
        this.#offered({ ...this.#pendingOffer, files: list.files, folders: list.folders });
        return;
      }
      case FileMessageType.End:
      case FileMessageType.Skip:
        this.#fileEnd(message);
        return;
      default:
        this.protocolError(`${message.type} from the sender`);
    }
  }

  /** The set's offer until its list is whole. */
  #pendingOffer = { name: "", size: 0, mime: "" };

  /** @param {FileOffer} offer */
  #offered(offer) {
    this.offer = offer;
    // The user's turn: an offer may wait for an answer as long as it takes.
    this.unwatch();
    this.emit({ kind: "offer", offer });
  }

  /** The file under way, begun if it is the next. @returns {Arriving | undefined} */
  #file() {
    if (this.#arriving !== undefined) return this.#arriving;
    const index = this.#answeredOrEnded;
    if (index >= this.#files.length) return undefined;
    this.#arriving = { index, bytes: 0, hash: new Sha256(), sink: undefined, failed: undefined };
    return this.#arriving;
  }

  /** How many files have ended (their end or skip has come). */
  #answeredOrEnded = 0;

  /**
   * @override
   * @param {Uint8Array} bytes
   */
  data(bytes) {
    if (this.#refusal !== undefined) return this.opened();
    if (this.state !== "receiving") {
      return this.protocolError(
        this.state === "offered" ? "bytes before an accept" : "more bytes than offered",
      );
    }
    const file = this.#file();
    const size = file === undefined ? 0 : this.#files[file.index]?.size ?? 0;
    if (file === undefined || file.bytes + bytes.length > size) {
      return this.protocolError("more bytes than offered");
    }
    file.bytes += bytes.length;
    this.#received += bytes.length;
    this.#position += bytes.length;
    this.progressed();
    file.hash.update(bytes);
    // Both stacks hand each message over in a buffer of its own: no copy needed.
    const copy = bytes;
    const total = this.offer?.size ?? 0;
    this.#writing = this.#writing.then(async () => {
      if (this.finished) return;
      await this.#write(file, copy);
      this.#stored += copy.length;
      this.progressed();
      if (this.#stored - this.#acked >= ACK_EVERY_BYTES || this.#stored === total) {
        this.#acked = this.#stored;
        this.tell({ type: FileMessageType.Ack, bytes: this.#stored });
      }
    });
    this.#writing.catch((error) => this.#fail(`cannot write the file: ${errorText(error)}`));
    const path = this.#files[file.index]?.path ?? "";
    this.emit({
      kind: "progress",
      bytes: this.#position,
      size: total,
      ...(this.isSet ? { file: { index: file.index, path } } : {}),
    });
  }

  /**
   * Writes into the file's sink, opening it first; in a set, a file that
   * cannot be opened or written is not kept and its bytes go nowhere.
   *
   * @param {Arriving} file
   * @param {Uint8Array} bytes
   */
  async #write(file, bytes) {
    if (file.failed !== undefined) return;
    try {
      const sink = file.sink ?? await this.#open(file);
      await sink.write(bytes);
    } catch (error) {
      if (!this.isSet) throw error;
      file.failed = `cannot write it: ${errorText(error)}`;
      await this.#abort(file);
    }
  }

  /**
   * @param {Arriving} file
   * @returns {Promise<FileSink>}
   */
  async #open(file) {
    const target = /** @type {FileSetTarget} */ (this.#target);
    file.sink = await target.open(/** @type {SetFile} */ (this.#files[file.index]), file.index);
    this.#unsettled.add(file);
    return file.sink;
  }

  /** @param {Arriving} file */
  async #abort(file) {
    const sink = file.sink;
    file.sink = undefined;
    this.#unsettled.delete(file);
    await sink?.abort().catch(() => {});
  }

  /**
   * The sender's end of the file under way: its digest, or a skip.
   *
   * @param {import("./file_protocol.js").FileMessage & { type: "file_end" | "file_skip" }} message
   */
  #fileEnd(message) {
    if (this.state !== "receiving") return this.protocolError("an end before an accept");
    if (message.type === FileMessageType.Skip && !this.isSet) {
      return this.protocolError("a skip outside a set");
    }
    const file = this.#file();
    if (file === undefined) return this.protocolError("an end after the last file");
    this.#arriving = undefined;
    this.#answeredOrEnded++;
    this.progressed();
    const size = this.#files[file.index]?.size ?? 0;
    this.#position += size - file.bytes;
    const last = this.#answeredOrEnded === this.#files.length;
    // What is left after the last end (the last writes, the digest, the commit) is this side's own.
    if (last) {
      this.unwatch();
      this.state = "verifying";
    }
    const digest = file.hash.hex();
    if (message.type === FileMessageType.Skip) file.failed ??= `not sent: ${message.reason}`;
    else if (file.bytes !== size) file.failed ??= `${size - file.bytes} bytes short`;
    else if (digest !== message.sha256) {
      file.failed ??= "SHA-256 mismatch: the file was damaged on the way";
    }
    this.#writing = this.#writing.then(() => this.#finishFile(file, digest));
    this.#writing.catch((error) => this.#fail(`cannot save the file: ${errorText(error)}`));
  }

  /**
   * Keeps one file (commits its sink) or lets it go, and answers for it.
   *
   * @param {Arriving} file
   * @param {string} digest
   */
  async #finishFile(file, digest) {
    if (this.finished) return;
    const path = this.#files[file.index]?.path ?? "";
    if (file.failed === undefined) {
      try {
        const sink = file.sink ?? await this.#open(file);
        // Behind the writes, so an abort that comes during the commit comes after it.
        await sink.commit();
      } catch (error) {
        if (!this.isSet) throw error;
        file.failed = `cannot save it: ${errorText(error)}`;
      }
    }
    // Cancelled meanwhile: the release aborts what is still unsettled.
    if (this.finished) return;
    if (file.failed !== undefined) {
      await this.#abort(file);
      if (!this.isSet) {
        this.#fail(file.failed);
        return;
      }
      this.#failed.push({ index: file.index, path, ok: false, reason: file.failed });
      this.tell({ type: FileMessageType.Failed, reason: file.failed });
      this.emit({
        kind: "file",
        outcome: { index: file.index, path, ok: false, reason: file.failed },
      });
    } else {
      this.#kept++;
      this.tell({ type: FileMessageType.Done, sha256: digest });
      if (this.isSet) this.emit({ kind: "file", outcome: { index: file.index, path, ok: true } });
    }
    file.sink = undefined;
    this.#unsettled.delete(file);
    this.#answered++;
    if (this.#answered === this.#files.length) this.#settled(digest);
  }

  /** @param {string} [digest] The single file's. */
  #settled(digest = "") {
    if (this.finished) return;
    // A set of empty folders only: one confirmation for its nothing.
    if (this.#files.length === 0) this.tell({ type: FileMessageType.Done, sha256: EMPTY_SHA256 });
    const size = this.offer?.size ?? 0;
    this.end({
      kind: "done",
      size,
      ms: this.now() - this.startedAt,
      sha256: this.isSet ? "" : digest,
      ...(this.isSet ? { files: this.#files.length, failed: this.#failed } : {}),
    });
  }

  /**
   * @override
   * @param {boolean} kept
   */
  released(kept) {
    this.#inbox.release(this);
    if (kept || this.#target === undefined) return;
    this.#arriving = undefined;
    return this.#writing.catch(() => {}).then(() =>
      Promise.all([...this.#unsettled].map((file) => this.#abort(file)))
    ).then(() => {}, () => {});
  }

  /** @param {string} reason */
  #fail(reason) {
    if (this.finished) return;
    this.tell({ type: FileMessageType.Cancel, reason });
    this.end({ kind: "stopped", reason, by: "error" });
  }
}
