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
  PIECE_BYTES,
  RECHECK_BYTES_PER_S,
  WINDOW_BYTES,
} from "./file_protocol.js";
import { heldBytes, pieceDigest, rangeDigest, rangesFit } from "./file_pieces.js";
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
    const { name, size, mime, files, folders, modified } = this.#options.offer;
    if (files === undefined) {
      this.tell({
        type: FileMessageType.Offer,
        name,
        size,
        mime,
        ...(modified === undefined ? {} : { modified }),
      });
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
        if (message.have !== undefined) {
          if (this.#set || this.#options.offer.modified === undefined) {
            return this.protocolError("held ranges for a file that was not offered to resume");
          }
          if (!rangesFit(message.have, this.#options.offer.size)) {
            return this.protocolError("held ranges past the file's end");
          }
          this.#have = message.have;
        }
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

  /** What a resuming receiver holds, from its accept. @type {import("./file_protocol.js").HeldRange[] | undefined} */
  #have;

  async #pump() {
    for (let index = 0; index < this.#files.length; index++) {
      if (this.finished) return;
      const sent = this.#have === undefined ? await this.#sendFile(index) : await this.#resume();
      if (sent === "stopped" || this.finished) return;
      // A resuming receiver may read its whole file back to check the digest before it answers.
      if (this.#have !== undefined) {
        this.allow(this.#options.offer.size / RECHECK_BYTES_PER_S * 1000);
      }
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
    /** @type {"sent" | "short" | "stopped"} */
    let streamed;
    try {
      streamed = await this.#stream(source, file.size, hash, (sent) => {
        this.#position = start + sent;
        return this.#set ? { file: { index, path: file.path } } : {};
      });
    } catch (error) {
      if (!this.#set) throw error;
      return skip(`cannot read it: ${errorText(error)}`);
    }
    if (streamed === "stopped") return "stopped";
    if (streamed === "short") {
      const reason = "the file is shorter than offered (it changed while being sent)";
      if (this.#set) return skip(reason);
      this.cancel(reason);
      return "stopped";
    }
    if (this.#set) {
      source.close();
      this.#current = undefined;
    }
    return { sha256: hash.hex() };
  }

  /**
   * Sends the next `length` bytes of `source` with flow control, each into
   * `hash` when given; `where` learns how far this stretch has come and
   * names the set's file for the progress event.
   *
   * @param {FileSource} source
   * @param {number} length
   * @param {Sha256 | undefined} hash
   * @param {(sent: number) => { file?: { index: number, path: string } }} where
   * @returns {Promise<"sent" | "short" | "stopped">}
   */
  async #stream(source, length, hash, where) {
    const channel = this.channel;
    let sent = 0;
    while (sent < length) {
      if (this.finished) return "stopped";
      if (channel.bufferedAmount > HIGH_WATER_BYTES || this.#sent - this.#acked >= WINDOW_BYTES) {
        await new Promise((resolve) => this.#waiting = () => resolve(undefined));
        continue;
      }
      const chunk = await source.read(Math.min(CHUNK_BYTES, length - sent));
      if (this.finished) return "stopped";
      if (chunk.length === 0) return "short";
      hash?.update(chunk);
      channel.send(chunk);
      sent += chunk.length;
      this.#sent += chunk.length;
      this.progressed();
      const file = where(sent);
      this.emit({
        kind: "progress",
        bytes: this.#position,
        size: this.#options.offer.size,
        ...file,
      });
    }
    return "sent";
  }

  /**
   * Resumes the one file: checks each range the receiver holds against the
   * file (the digests of its pieces), then sends what is missing or did not
   * match, each stretch after a seek, hashing the whole file in order on
   * the way for its `file_end`. A source that cannot seek sends it all.
   *
   * @returns {Promise<{ sha256: string } | "stopped">}
   */
  async #resume() {
    const source = /** @type {FileSource} */ (this.#options.source);
    const size = this.#options.offer.size;
    const have = /** @type {import("./file_protocol.js").HeldRange[]} */ (this.#have);
    const whole = new Sha256();
    // The whole file's digest covers [0, hashed): bytes are added in order only.
    let hashed = 0;
    /** @type {[number, number][]} */
    const good = [];
    const seek = source.seek?.bind(source);
    const short = () => {
      this.cancel("the file is shorter than offered (it changed while being sent)");
      return /** @type {const} */ ("stopped");
    };
    if (seek !== undefined) {
      for (const [start, end, digest] of have) {
        await seek(start);
        /** @type {Uint8Array[]} */
        const digests = [];
        for (let at = start; at < end;) {
          const bytes = await readFully(source, Math.min(end, at + PIECE_BYTES) - at);
          if (this.finished) return "stopped";
          if (bytes.length < Math.min(end, at + PIECE_BYTES) - at) return short();
          if (hashed === at) {
            whole.update(bytes);
            hashed += bytes.length;
          }
          digests.push(await pieceDigest(bytes));
          at += bytes.length;
          // Reading what is already there counts as progress: a large file takes a while.
          this.progressed();
        }
        if (await rangeDigest(digests) === digest) good.push([start, end]);
      }
    }
    if (this.finished) return "stopped";
    const held = heldBytes(good.map(([start, end]) => [start, end, ""]));
    this.emit({ kind: "resumed", held, size });
    /**
     * Reads from `hashed` up to `to` into the whole file's digest, sending
     * nothing: held bytes after a hole, which the digest takes in order.
     *
     * @param {(offset: number) => Promise<void>} seekTo
     * @param {number} to
     * @returns {Promise<"read" | "short" | "stopped">}
     */
    const catchUp = async (seekTo, to) => {
      if (hashed >= to) return "read";
      await seekTo(hashed);
      while (hashed < to) {
        const bytes = await readFully(source, Math.min(PIECE_BYTES, to - hashed));
        if (this.finished) return "stopped";
        if (bytes.length === 0) return "short";
        whole.update(bytes);
        hashed += bytes.length;
        this.progressed();
      }
      return "read";
    };
    // The stretches to send: everything the good ranges leave out.
    /** @type {[number, number][]} */
    const stretches = [];
    let from = 0;
    for (const [start, end] of good) {
      if (start > from) stretches.push([from, start]);
      from = end;
    }
    if (from < size) stretches.push([from, size]);
    for (const [start, end] of stretches) {
      if (seek !== undefined) {
        // Bytes held before this stretch are read (not sent) to keep the digest in order.
        const caught = await catchUp(seek, start);
        if (caught !== "read") return caught === "short" ? short() : "stopped";
        await seek(start);
      }
      this.tell({ type: FileMessageType.Seek, at: start });
      const inOrder = hashed === start;
      this.#position = start;
      const streamed = await this.#stream(
        source,
        end - start,
        inOrder ? whole : undefined,
        (sent) => {
          this.#position = start + sent;
          return {};
        },
      );
      if (streamed === "stopped") return "stopped";
      if (streamed === "short") return short();
      if (inOrder) hashed = end;
    }
    if (seek !== undefined) {
      const caught = await catchUp(seek, size);
      if (caught !== "read") return caught === "short" ? short() : "stopped";
    }
    return { sha256: whole.hex() };
  }
}

/**
 * Reads `length` bytes from `source`, or fewer at its end, into a buffer of
 * their own.
 *
 * @param {FileSource} source
 * @param {number} length
 * @returns {Promise<Uint8Array>}
 */
async function readFully(source, length) {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const chunk = await source.read(length - filled);
    if (chunk.length === 0) break;
    buffer.set(chunk, filled);
    filled += chunk.length;
  }
  return buffer.subarray(0, filled);
}
