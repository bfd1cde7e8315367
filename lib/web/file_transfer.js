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
  parseFileMessage,
  WINDOW_BYTES,
} from "./file_protocol.js";
import { Sha256 } from "./sha256.js";

/**
 * @typedef {object} FileChannelLike The part of `RTCDataChannel` a transfer
 *   uses; the browser's and werift's both fit.
 * @property {string} label
 * @property {string} readyState
 * @property {number} bufferedAmount
 * @property {number} bufferedAmountLowThreshold
 * @property {string} [binaryType]
 * @property {(data: string | Uint8Array) => void} send
 * @property {() => void} close
 * @property {(type: string, listener: (event: any) => void) => void} addEventListener
 * @property {(type: string, listener: (event: any) => void) => void} removeEventListener
 */

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
 *   What a transfer reports. `offer` comes first on the receiving side only;
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

/** What both sides share: the channel, its listeners, the end. */
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

  /**
   * @param {FileChannelLike} channel
   * @param {TransferState} state
   * @param {(event: TransferEvent) => void} onEvent
   * @param {(() => number) | undefined} now
   */
  constructor(channel, state, onEvent, now) {
    this.channel = channel;
    this.state = state;
    this.#onEvent = onEvent;
    this.now = now ?? (() => performance.now());
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
    for (const [type, listener] of Object.entries(this.#listeners)) {
      this.channel.removeEventListener(type, listener);
    }
    const released = this.released(event.kind === "done");
    this.wake();
    if (closeChannel) this.#close();
    // The end is reported once nothing is left behind.
    if (released) void released.then(() => this.emit(event));
    else this.emit(event);
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
 */

/**
 * Offers a file on its channel and, once accepted, sends it with flow
 * control (never more than `HIGH_WATER_BYTES` in the channel's buffer, nor
 * more than `WINDOW_BYTES` beyond what the receiver has stored), then its
 * SHA-256; it is done when the receiver confirms the digest.
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
    super(options.channel, "offered", options.onEvent, options.now);
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
 * @property {(event: TransferEvent) => void} onEvent Hears `offer` first.
 * @property {() => number} [now] The clock in milliseconds.
 */

/**
 * Waits for the offer on a channel the partner opened, then takes the file
 * into a sink once accepted: hashes the bytes as they come, acknowledges
 * them as they are stored, and commits the sink only when every byte is
 * there and the digest matches the sender's.
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

  /** @param {FileReceiverOptions} options */
  constructor(options) {
    super(options.channel, "offered", options.onEvent, options.now);
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
    switch (message.type) {
      case FileMessageType.Offer:
        if (this.offer !== undefined) return this.protocolError("a second offer");
        this.offer = { name: message.name, size: message.size, mime: message.mime };
        this.emit({ kind: "offer", offer: this.offer });
        return;
      case FileMessageType.End:
        if (this.state !== "receiving") return this.protocolError("an end before an accept");
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
    const sink = this.#sink;
    const size = this.offer?.size ?? 0;
    if (this.state !== "receiving" || sink === undefined) {
      return this.protocolError("bytes before an accept");
    }
    if (this.#received + bytes.length > size) {
      return this.protocolError("more bytes than offered");
    }
    this.#received += bytes.length;
    this.#hash.update(bytes);
    // Both stacks hand each message over in a buffer of its own: no copy needed.
    const copy = bytes;
    this.#writing = this.#writing.then(async () => {
      if (this.finished) return;
      await sink.write(copy);
      this.#stored += copy.length;
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
