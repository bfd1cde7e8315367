// This module is browser compatible.
// @ts-check
/**
 * The receiving side of a transfer: waits for the offer on a channel the
 * partner opened, then takes the file, or each file of a set, into sinks,
 * keeping each only once its SHA-256 matched.
 *
 * @module
 */

import {
  ACK_EVERY_BYTES,
  FileMessageType,
  PIECE_BYTES,
  RECHECK_BYTES_PER_S,
} from "./file_protocol.js";
import { heldBytes } from "./file_pieces.js";
import { SetList } from "./file_set.js";
import { EMPTY_SHA256, errorText, sharedInbox, Transfer } from "./file_transfer.js";
import { Sha256 } from "./sha256.js";

/**
 * @typedef {import("./file_transfer.js").FileChannelLike} FileChannelLike
 * @typedef {import("./file_transfer.js").FileInbox} FileInbox
 * @typedef {import("./file_transfer.js").FileOffer} FileOffer
 * @typedef {import("./file_transfer.js").FileOutcome} FileOutcome
 * @typedef {import("./file_transfer.js").FileSetTarget} FileSetTarget
 * @typedef {import("./file_transfer.js").FileSink} FileSink
 * @typedef {import("./file_transfer.js").SetFile} SetFile
 * @typedef {import("./file_transfer.js").TransferEvent} TransferEvent
 */

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
 * @property {string} [refuse] Turn the offer away with this reason as soon as
 *   the channel is open: this client may not receive files (its access
 *   token's `grants.files` is `false`).
 */

/**
 * @typedef {object} Resume What a resuming receiver holds of the offered
 *   file, checked against its disk.
 * @property {import("./file_protocol.js").HeldRange[]} have The ranges it claims.
 * @property {Sha256} hash The whole file's digest over its first `hashed` bytes.
 * @property {number} hashed How many bytes from the start `hash` covers.
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
 * import { FileReceiver } from "./file_receiver.js";
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
  /** A resumed file: what was claimed, and where the next bytes go once a seek came. @type {Resume | undefined} */
  #resume;
  /** @type {number | undefined} */
  #writeAt;
  /** A resumed file: the stretches held or written, to tell a whole file from a short one. @type {[number, number][]} */
  #covered = [];

  /** @param {FileReceiverOptions} options */
  constructor(options) {
    super(options.channel, "offered", options.onEvent, options.now, options.idleMs);
    this.#inbox = options.inbox ?? sharedInbox;
    // Until the offer comes (or the refusal goes), the partner is keeping us waiting.
    this.watch();
    if (options.refuse !== undefined) this.#refusal = options.refuse;
    else if (this.#inbox.admit(this)) return;
    else this.#refusal = `too many files at once (the receiver takes ${this.#inbox.max} at a time)`;
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
   * Takes the offered file into `sink`, or the offered set into `target`;
   * with `resume`, a resumable sink that holds part of the file already
   * (the sender then sends the rest).
   *
   * @param {FileSink | FileSetTarget} into
   * @param {Resume} [resume]
   */
  accept(into, resume) {
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
    if (resume !== undefined && !this.isSet && resume.have.length > 0) {
      this.#resume = resume;
      this.#covered = resume.have.map(([start, end]) => [start, end]);
      // The sender reads and hashes what is claimed before its first seek: it is quiet meanwhile.
      this.allow(heldBytes(resume.have) / RECHECK_BYTES_PER_S * 1000);
      this.tell({ type: FileMessageType.Accept, have: resume.have });
      this.emit({ kind: "accepted" });
      this.emit({ kind: "resumed", held: heldBytes(resume.have), size: this.offer.size });
      return;
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
        const { name, size, mime, files, folders, modified } = message;
        if (files === undefined) {
          this.#files = [{ path: name, size }];
          this.#offered({ name, size, mime, ...(modified === undefined ? {} : { modified }) });
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
      case FileMessageType.Seek:
        this.#seek(message.at);
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
    const index = this.#ended;
    if (index >= this.#files.length) return undefined;
    this.#arriving = { index, bytes: 0, hash: new Sha256(), sink: undefined, failed: undefined };
    return this.#arriving;
  }

  /** How many files have ended: their end or skip has come. */
  #ended = 0;

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
    if (this.#resume !== undefined) return this.#resumedData(bytes);
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
   * A resumed file: the next bytes go from `at`.
   *
   * @param {number} at
   */
  #seek(at) {
    const size = this.offer?.size ?? 0;
    if (this.#resume === undefined || this.state !== "receiving") {
      return this.protocolError("a seek in a file that is not resumed");
    }
    if (at >= size || at % PIECE_BYTES !== 0) return this.protocolError("a seek out of the file");
    if (this.#covered.length >= MAX_STRETCHES) return this.protocolError("too many seeks");
    this.#covered.push([at, at]);
    this.#writeAt = at;
    this.progressed();
    const file = /** @type {Arriving} */ (this.#file());
    this.#writing = this.#writing.then(() =>
      this.finished ? undefined : /** @type {FileSink} */ (file.sink).seek?.(at)
    );
    this.#writing.catch((error) => this.#fail(`cannot write the file: ${errorText(error)}`));
  }

  /**
   * Bytes of a resumed file, where the last seek says; the whole file's
   * digest takes them while they come in order after what was held.
   *
   * @param {Uint8Array} bytes
   */
  #resumedData(bytes) {
    const resume = /** @type {Resume} */ (this.#resume);
    const size = this.offer?.size ?? 0;
    const at = this.#writeAt;
    if (at === undefined) return this.protocolError("bytes before a seek");
    if (at + bytes.length > size) return this.protocolError("more bytes than offered");
    if (resume.hashed === at) {
      resume.hash.update(bytes);
      resume.hashed += bytes.length;
    } else if (at < resume.hashed) {
      // Bytes it had hashed are replaced (they did not match): the digest is read back at the end.
      resume.hashed = -1;
    }
    this.#writeAt = at + bytes.length;
    const stretch = /** @type {[number, number]} */ (this.#covered.at(-1));
    stretch[1] = this.#writeAt;
    this.#received += bytes.length;
    this.progressed();
    const file = /** @type {Arriving} */ (this.#file());
    this.#writing = this.#writing.then(async () => {
      if (this.finished) return;
      await /** @type {FileSink} */ (file.sink).write(bytes);
      this.#stored += bytes.length;
      this.progressed();
      if (this.#stored - this.#acked >= ACK_EVERY_BYTES) {
        this.#acked = this.#stored;
        this.tell({ type: FileMessageType.Ack, bytes: this.#stored });
      }
    });
    this.#writing.catch((error) => this.#fail(`cannot write the file: ${errorText(error)}`));
    this.emit({
      kind: "progress",
      bytes: Math.min(size, heldBytes(resume.have) + this.#received),
      size,
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
    this.#ended++;
    this.progressed();
    const size = this.#files[file.index]?.size ?? 0;
    this.#position += size - file.bytes;
    const last = this.#ended === this.#files.length;
    // What is left after the last end (the last writes, the digest, the commit) is this side's own.
    if (last) {
      this.unwatch();
      this.state = "verifying";
    }
    if (this.#resume !== undefined && message.type === FileMessageType.End) {
      const missing = size - coveredBytes(this.#covered, size);
      if (missing > 0) file.failed ??= `${missing} bytes short`;
      this.#writing = this.#writing.then(async () => {
        // A file known to be short is not read back: it fails as it is.
        const digest = file.failed === undefined ? await this.#resumedDigest(file, size) : "";
        if (digest !== message.sha256) {
          file.failed ??= "SHA-256 mismatch: the file was damaged on the way";
        }
        await this.#finishFile(file, digest);
      });
      this.#writing.catch((error) => this.#fail(`cannot save the file: ${errorText(error)}`));
      return;
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
   * The resumed file's digest: taken on the way when every byte after what
   * was held came in order, else read back from the sink.
   *
   * @param {Arriving} file
   * @param {number} size
   * @returns {Promise<string>}
   */
  async #resumedDigest(file, size) {
    const resume = /** @type {Resume} */ (this.#resume);
    if (resume.hashed === size) return resume.hash.hex();
    const digest = file.sink?.digest;
    if (digest === undefined) throw new Error("the file's bytes came out of order");
    return await digest.call(file.sink);
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
   * @param {boolean} interrupted
   */
  released(kept, interrupted) {
    this.#inbox.release(this);
    if (kept || this.#target === undefined) return;
    this.#arriving = undefined;
    return this.#writing.catch(() => {}).then(() =>
      Promise.all([...this.#unsettled].map((file) => {
        const suspend = file.sink?.suspend;
        if (!interrupted || this.isSet || suspend === undefined) return this.#abort(file);
        this.#unsettled.delete(file);
        return suspend.call(file.sink).catch(() => {});
      }))
    ).then(() => {}, () => {});
  }

  /** @param {string} reason */
  #fail(reason) {
    if (this.finished) return;
    this.tell({ type: FileMessageType.Cancel, reason });
    this.end({ kind: "stopped", reason, by: "error" });
  }
}

/** The most stretches a resumed file may arrive in: each seek starts one. */
const MAX_STRETCHES = 10_000;

/**
 * How many bytes of `[0, size)` the stretches cover, overlaps counted once.
 *
 * @param {readonly [number, number][]} stretches
 * @param {number} size
 * @returns {number}
 */
function coveredBytes(stretches, size) {
  let covered = 0;
  let reached = 0;
  for (const [start, end] of [...stretches].sort((a, b) => a[0] - b[0])) {
    const from = Math.max(start, reached);
    const to = Math.min(end, size);
    if (to > from) covered += to - from;
    reached = Math.max(reached, to);
  }
  return covered;
}
