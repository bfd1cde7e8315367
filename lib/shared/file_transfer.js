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
import { Sha256 } from "./sha256.js";

/** @typedef {import("./rtc_types.js").FileChannelLike} FileChannelLike */

/**
 * @typedef {object} FileOffer What the sender offers.
 * @property {string} name The name as the sender gave it (not yet safe to use as a path).
 * @property {number} size In bytes.
 * @property {string} mime The media type.
 */

/**
 * @typedef {{ kind: "offer", offer: FileOffer }
 *   | { kind: "accepted" }
 *   | { kind: "progress", bytes: number, size: number }
 *   | { kind: "done", size: number, ms: number, sha256: string }
 *   | { kind: "rejected", reason: string }
 *   | { kind: "stopped", reason: string, by: "you" | "peer" | "error" }} TransferEvent
 *   What a transfer reports. `offer` comes first on the receiving side only
 *   (a receiver turned away by a full inbox reports only `rejected`);
 *   `done`, `rejected` and `stopped` are final and come once.
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
 * @property {FileOffer} offer The file's name, size and media type.
 * @property {FileSource} source Its bytes.
 * @property {(event: TransferEvent) => void} onEvent
 * @property {() => number} [now] The clock in milliseconds.
 * @property {number} [idleMs] Once accepted, cancel when the receiver
 *   acknowledges nothing for this long (`TRANSFER_IDLE_MS` by default).
 */

/**
 * Offers a file on its channel and, once accepted, sends it with flow
 * control (never more than `HIGH_WATER_BYTES` in the channel's buffer, nor
 * more than `WINDOW_BYTES` beyond what the receiver has stored), then its
 * SHA-256; it is done when the receiver confirms the digest. Once accepted,
 * a receiver that lets `idleMs` pass without taking anything ends it.
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
  #sent = 0;
  #acked = 0;
  #hash = new Sha256();
  /** @type {string | undefined} */
  #digest;
  /** @type {(() => void) | undefined} */
  #waiting;

  /** @param {FileSenderOptions} options */
  constructor(options) {
    super(options.channel, "offered", options.onEvent, options.now, options.idleMs);
    this.#options = options;
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
    const { name, size, mime } = this.#options.offer;
    this.tell({ type: FileMessageType.Offer, name, size, mime });
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
        if (this.state !== "verifying" || message.sha256 !== this.#digest) {
          return this.protocolError("a confirmation that does not match");
        }
        this.end({
          kind: "done",
          size: this.#sent,
          ms: this.now() - this.startedAt,
          sha256: message.sha256,
        }, true);
        return;
      default:
        this.protocolError(`${message.type} from the receiver`);
    }
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
    this.#options.source.close();
  }

  async #pump() {
    const { size } = this.#options.offer;
    const channel = this.channel;
    while (this.#sent < size) {
      if (this.finished) return;
      if (channel.bufferedAmount > HIGH_WATER_BYTES || this.#sent - this.#acked >= WINDOW_BYTES) {
        await new Promise((resolve) => this.#waiting = () => resolve(undefined));
        continue;
      }
      const chunk = await this.#options.source.read(Math.min(CHUNK_BYTES, size - this.#sent));
      if (this.finished) return;
      if (chunk.length === 0) {
        this.cancel("the file is shorter than offered (it changed while being sent)");
        return;
      }
      this.#hash.update(chunk);
      channel.send(chunk);
      this.#sent += chunk.length;
      this.progressed();
      this.emit({ kind: "progress", bytes: this.#sent, size });
    }
    this.#digest = this.#hash.hex();
    this.state = "verifying";
    this.tell({ type: FileMessageType.End, sha256: this.#digest });
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
 * Waits for the offer on a channel the partner opened, then takes the file
 * into a sink once accepted: hashes the bytes as they come, acknowledges
 * them as they are stored, and commits the sink only when every byte is
 * there and the digest matches the sender's. A channel that finds its inbox
 * full is answered with `file_reject` at once, its offer never shown; one
 * whose offer or bytes stop coming for `idleMs` is cancelled.
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
  /** @type {FileSink | undefined} */
  #sink;
  #received = 0;
  #stored = 0;
  #acked = 0;
  #hash = new Sha256();
  /** @type {Promise<void>} */
  #writing = Promise.resolve();
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

  /**
   * Takes the offered file into `sink`.
   *
   * @param {FileSink} sink
   */
  accept(sink) {
    if (this.state !== "offered" || this.offer === undefined) {
      void sink.abort();
      return;
    }
    this.#sink = sink;
    this.state = "receiving";
    this.startedAt = this.now();
    this.watch();
    this.tell({ type: FileMessageType.Accept });
    this.emit({ kind: "accepted" });
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
      case FileMessageType.Offer:
        if (this.offer !== undefined) return this.protocolError("a second offer");
        this.offer = { name: message.name, size: message.size, mime: message.mime };
        // The user's turn: an offer may wait for an answer as long as it takes.
        this.unwatch();
        this.emit({ kind: "offer", offer: this.offer });
        return;
      case FileMessageType.End:
        if (this.state !== "receiving") return this.protocolError("an end before an accept");
        // What is left (the last writes, the digest, the commit) is this side's own.
        this.unwatch();
        this.state = "verifying";
        this.#finish(message.sha256).catch((error) =>
          this.#fail(`cannot save the file: ${errorText(error)}`)
        );
        return;
      default:
        this.protocolError(`${message.type} from the sender`);
    }
  }

  /**
   * @override
   * @param {Uint8Array} bytes
   */
  data(bytes) {
    if (this.#refusal !== undefined) return this.opened();
    const sink = this.#sink;
    const size = this.offer?.size ?? 0;
    if (this.state !== "receiving" || sink === undefined) {
      return this.protocolError("bytes before an accept");
    }
    if (this.#received + bytes.length > size) {
      return this.protocolError("more bytes than offered");
    }
    this.#received += bytes.length;
    this.progressed();
    this.#hash.update(bytes);
    // Both stacks hand each message over in a buffer of its own: no copy needed.
    const copy = bytes;
    this.#writing = this.#writing.then(async () => {
      if (this.finished) return;
      await sink.write(copy);
      this.#stored += copy.length;
      this.progressed();
      if (this.#stored - this.#acked >= ACK_EVERY_BYTES || this.#stored === size) {
        this.#acked = this.#stored;
        this.tell({ type: FileMessageType.Ack, bytes: this.#stored });
      }
    });
    this.#writing.catch((error) => this.#fail(`cannot write the file: ${errorText(error)}`));
    this.emit({ kind: "progress", bytes: this.#received, size });
  }

  /**
   * @override
   * @param {boolean} kept
   */
  released(kept) {
    this.#inbox.release(this);
    if (kept || this.#sink === undefined) return;
    const sink = this.#sink;
    return this.#writing.catch(() => {}).then(() => sink.abort()).catch(() => {});
  }

  /** @param {string} sha256 */
  async #finish(sha256) {
    const size = this.offer?.size ?? 0;
    if (this.#received !== size) {
      this.#fail(`${size - this.#received} bytes short`);
      return;
    }
    await this.#writing;
    if (this.finished) return;
    const digest = this.#hash.hex();
    if (digest !== sha256) {
      this.#fail("SHA-256 mismatch: the file was damaged on the way");
      return;
    }
    // Behind the writes, so an abort that comes during the commit comes after it.
    const sink = this.#sink;
    this.#writing = this.#writing.then(() => sink?.commit());
    await this.#writing;
    if (this.finished) return;
    this.tell({ type: FileMessageType.Done, sha256: digest });
    this.end({ kind: "done", size, ms: this.now() - this.startedAt, sha256: digest });
  }

  /** @param {string} reason */
  #fail(reason) {
    if (this.finished) return;
    this.tell({ type: FileMessageType.Cancel, reason });
    this.end({ kind: "stopped", reason, by: "error" });
  }
}
