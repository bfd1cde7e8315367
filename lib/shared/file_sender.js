// This module is browser compatible.
// @ts-check
/**
 * The sending side of a transfer: offers a file or a set, then sends its
 * bytes with flow control and each file's SHA-256, and is done when the
 * receiver has answered every file.
 *
 * @module
 */

import {
  CHUNK_BYTES,
  FileMessageType,
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
  WINDOW_BYTES,
} from "./file_protocol.js";
import { listMessages, listText } from "./file_set.js";
import { EMPTY_SHA256, errorText, Transfer } from "./file_transfer.js";
import { Sha256 } from "./sha256.js";

/**
 * @typedef {import("./file_transfer.js").FileChannelLike} FileChannelLike
 * @typedef {import("./file_transfer.js").FileOffer} FileOffer
 * @typedef {import("./file_transfer.js").FileOutcome} FileOutcome
 * @typedef {import("./file_transfer.js").FileSetSource} FileSetSource
 * @typedef {import("./file_transfer.js").FileSource} FileSource
 * @typedef {import("./file_transfer.js").SetFile} SetFile
 * @typedef {import("./file_transfer.js").TransferEvent} TransferEvent
 */

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
 * import { FileSender } from "./file_sender.js";
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
