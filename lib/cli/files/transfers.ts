/**
 * The command-line peer's file transfers: `sendfile`, offers and their
 * answers, `cancel`, `verify`, each file on a data channel of its own next
 * to the chat channel, streamed from and to disk, with progress on stderr
 * and one line on stdout for each thing that happens.
 *
 * @module
 */

import { missingFlags, type Needed } from "../../runtime/permissions.ts";
import { printable } from "../../runtime/safe_text.ts";
import { FILE_CHANNEL_PREFIX, formatBytes, newFileId } from "../../shared/file_protocol.js";
import { FileReceiver } from "../../shared/file_receiver.js";
import { FILES_NOT_GRANTED } from "../../shared/protocol.js";
import { FileSender, type FileSenderOptions } from "../../shared/file_sender.js";
import { type FileChannelLike, FileInbox, type TransferEvent } from "../../shared/file_transfer.js";
import type { DataChannelLike, PeerConnectionLike } from "../../shared/rtc_types.js";
import { verificationCode } from "../../shared/verification.js";
import { offerSummary, plural, setEntries, setName } from "../../shared/file_set.js";
import { collect, setSources } from "./collect.ts";
import { openSource, type PartFile } from "./disk.ts";
import { KeptPartials } from "./kept_partials.ts";
import { type Partial, recordedBytes } from "./partials.ts";
import { SetFolder } from "./set_folder.ts";
import { type Direction, ProgressDisplay, progressLine } from "./progress.ts";
import {
  compared,
  partnerHasLine,
  receivedLine,
  resumedLine,
  sentLine,
  stoppedLine,
} from "./transfer_lines.ts";

/** How long quitting waits for partial files to be removed: a disk that hangs must not hang the exit. */
export const STOP_TIMEOUT_MS = 5000;

/** How file transfers behave. */
export interface FileTransfersOptions {
  /** Where received files go. */
  downloadDir: string;
  /** Accept every offer at once (for scripts). */
  acceptFiles: boolean;
  /** Refuse offers larger than this many bytes. */
  maxFileBytes: number | undefined;
  /** End a transfer that makes no progress for this long, in milliseconds (30 s by default). */
  idleMs?: number;
  /** Keep an interrupted file's partial this long to resume it; 0 keeps none (a week by default). */
  keepPartialsMs?: number;
  /** Prints one line on stdout. */
  print(line: string): void;
  /** Where progress goes; none when omitted. */
  progress?: ProgressDisplay;
  /** The clock in milliseconds. */
  now?: () => number;
}

/**
 * The permissions receiving into `dir` needs: write for the `.part` file and
 * the rename, read to see which names are taken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { receivePermissions } from "./transfers.ts";
 * assert.deepEqual(receivePermissions("dl").map((p) => p.flag), [
 *   "--allow-read=dl",
 *   "--allow-write=dl",
 * ]);
 * ```
 */
export function receivePermissions(dir: string): Needed[] {
  return [
    { descriptor: { name: "read", path: dir }, flag: `--allow-read=${dir}` },
    { descriptor: { name: "write", path: dir }, flag: `--allow-write=${dir}` },
  ];
}

interface Entry {
  number: number;
  direction: Direction;
  transfer: FileSender | FileReceiver;
  /** The name as shown: escaped for the terminal. */
  name: string;
  sink?: PartFile;
  /** Where a received set goes. */
  folder?: SetFolder;
  /** How many files a set has; undefined for one file. */
  files?: number;
  /** The file sent, to offer it again after an interruption. */
  path?: string;
  /** A kept partial of the offered file, to resume. */
  partial?: Partial;
  /** How many bytes were already there when it resumed. */
  held?: number;
}

/** How many interrupted files are offered again, at most, when the link is back. */
const MAX_RESENT = 16;

/** How many entries of a set an offer line lists, and how many failures a result line names. */
const LISTED = 10;

/** Every transfer with the current partner, and the verification code. */
export class FileTransfers {
  readonly #options: FileTransfersOptions;
  #peer = "";
  #connection: PeerConnectionLike | undefined;
  #code: string | undefined;
  #next = 1;
  readonly #entries = new Map<number, Entry>();
  // Offers waiting for an answer, oldest first; a bare accept-file takes the newest.
  readonly #pending: number[] = [];
  // One partner at a time, so one inbox: it caps what the partner may send at once.
  readonly #inbox = new FileInbox();
  // Whether the partner has been told about files turned away since the last one taken.
  #refusing = false;
  // Set when this client's access token does not let it receive files: every offer is turned away.
  #refuseAll: string | undefined;
  // accept-file between its answer and the sink: stop() waits for these too.
  readonly #accepting = new Set<Promise<void>>();
  // Files sent to the partner and interrupted: offered again when the link is back.
  #resend: { peer: string; path: string }[] = [];
  // What interrupted files left in the download folder, and which are in use.
  readonly #kept: KeptPartials;

  /** @param options Where files go and how to report. */
  // Whether the open channel was proven by a pairing code.
  #byCode = false;

  constructor(options: FileTransfersOptions) {
    this.#options = options;
    this.#kept = new KeptPartials(options.downloadDir, options.keepPartialsMs);
  }

  /**
   * The channel to `peer` is open: files may go; prints the verification
   * code (paired by code, as already checked).
   */
  opened(peer: string, connection: PeerConnectionLike | undefined, byCode = false): void {
    this.#peer = peer;
    this.#byCode = byCode;
    this.#connection = connection;
    this.#code = verificationCode(
      connection?.localDescription?.sdp ?? "",
      connection?.remoteDescription?.sdp ?? "",
    );
    this.verify();
    this.#linkMayReturn = false;
    const resend = this.#resend.filter((file) => file.peer === peer);
    this.#resend = [];
    for (const { path } of resend) {
      this.#print(`*** The link is back: offering ${printable(path)} again to resume it ***`);
      void this.send([path]);
    }
  }

  /**
   * Whether this client may receive files, as the server said in `your_id`
   * (its access token's `grants.files`); when not, every offer is turned
   * away with the reason.
   */
  mayReceive(allowed: boolean): void {
    this.#refuseAll = allowed ? undefined : FILES_NOT_GRANTED;
  }

  /** A channel the partner opened: a file offer, if it is labelled as one. */
  channel(peer: string, channel: DataChannelLike): void {
    if (!channel.label.startsWith(FILE_CHANNEL_PREFIX)) {
      channel.close();
      return;
    }
    this.#peer = peer;
    const number = this.#next++;
    const receiver = new FileReceiver({
      channel: channel as unknown as FileChannelLike,
      onEvent: (event) => this.#received(number, event),
      inbox: this.#inbox,
      ...this.#timing(),
      ...(this.#refuseAll === undefined ? {} : { refuse: this.#refuseAll }),
    });
    this.#entries.set(number, { number, direction: "receive", transfer: receiver, name: "" });
  }

  /**
   * The channel is gone (the pairing ended, or peer-to-peer failed and may
   * be negotiated again): every transfer stops; files interrupted on a link
   * that may come back go on when it does.
   */
  closed(reason: string, pairingEnded = true): void {
    this.#connection = undefined;
    this.#code = undefined;
    // Only the same partner, back on a new link, is offered interrupted files again.
    this.#linkMayReturn = !pairingEnded;
    if (!this.#linkMayReturn) this.#resend = [];
    // Their ends are reported as they are abandoned: only these wait for the link.
    this.#abandoning = true;
    try {
      for (const entry of [...this.#entries.values()]) entry.transfer.abandon(reason);
    } finally {
      this.#abandoning = false;
    }
  }

  // Whether the link closed with the pairing still on (it may be negotiated again).
  #linkMayReturn = false;
  // Whether closed() is abandoning the transfers on the link, right now.
  #abandoning = false;

  /**
   * Stops every transfer because this side is going (`quit`, Ctrl+C): tells
   * the partner, and settles once every partial file is removed, or after
   * `STOP_TIMEOUT_MS` if the disk does not answer.
   */
  async stop(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, STOP_TIMEOUT_MS));
    try {
      await Promise.race([this.#stopAll(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #stopAll(): Promise<void> {
    await Promise.all(this.#accepting);
    const ending = [...this.#entries.values()].map((entry) => {
      const { transfer } = entry;
      const reason = `the ${entry.direction === "send" ? "sender" : "receiver"} quit`;
      if (transfer instanceof FileReceiver && transfer.state === "offered") {
        transfer.reject(reason);
      } else {
        // Going away is not giving up: what arrived is kept to resume.
        transfer.cancel(reason, { resumable: true });
      }
      return transfer.settled;
    });
    await Promise.all(ending);
  }

  /** `verify`: prints the verification code again. */
  verify(): void {
    if (this.#code === undefined) {
      this.#print("*** No verification code: there is no open data channel ***");
      return;
    }
    this.#print(
      this.#byCode
        ? `*** Verification code with ${this.#peer}: ${this.#code} (no need to compare: the pairing proved no one is in between) ***`
        : `*** Verification code with ${this.#peer}: ${this.#code} (the same on both screens means no one is in between) ***`,
    );
  }

  /**
   * `sendfile <path>…`: offers one file, or several files and folders as one
   * set, to the partner. `raw`, the command's text as typed, is taken as one
   * path when the words are not paths but it is (`sendfile my report.pdf`).
   */
  async send(paths: readonly string[], raw?: string): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined) {
      this.#print("*** Files go over the data channel, and none is open ***");
      return;
    }
    if (paths.length > 1 && raw !== undefined && await isPath(raw)) paths = [raw];
    const missing = await missingFlags(
      paths.map((path) => ({ descriptor: { name: "read", path }, flag: `--allow-read=${path}` })),
    );
    if (missing.length > 0) {
      this.#print(`*** sendfile ${paths.join(" ")} needs ${missing.join(" ")} ***`);
      return;
    }
    let offered: Pick<
      FileSenderOptions,
      "offer" | "source" | "sources"
    >;
    let skipped: { path: string; reason: string }[] = [];
    try {
      if (paths.length === 1 && (await Deno.stat(paths[0]!)).isFile) {
        offered = await openSource(paths[0]!);
      } else {
        const set = await collect(paths);
        skipped = set.skipped;
        if (set.files.length + set.folders.length === 0) throw new Error("nothing to send in it");
        const files = set.files.map(({ path, size }) => ({ path, size }));
        offered = {
          offer: {
            name: setName(files, set.folders),
            size: files.reduce((sum, file) => sum + file.size, 0),
            mime: "application/octet-stream",
            files,
            folders: set.folders,
          },
          sources: setSources(set.files),
        };
      }
    } catch (error) {
      const what = paths.length === 1 ? paths[0] : paths.join(" ");
      this.#print(`*** Cannot send ${what}: ${error instanceof Error ? error.message : error} ***`);
      return;
    }
    for (const { path, reason } of skipped.slice(0, LISTED)) {
      this.#print(`*** Leaving out ${printable(path)}: ${reason} ***`);
    }
    if (skipped.length > LISTED) {
      this.#print(`*** … and ${skipped.length - LISTED} more left out ***`);
    }
    if (this.#connection !== connection) {
      offered.source?.close();
      this.#print("*** The data channel closed; nothing was offered ***");
      return;
    }
    const number = this.#next++;
    const channel = connection.createDataChannel(`${FILE_CHANNEL_PREFIX}${newFileId()}`, {
      ordered: true,
    }) as unknown as FileChannelLike;
    const { offer } = offered;
    const entry: Entry = {
      number,
      direction: "send",
      name: printable(offer.name),
      transfer: undefined!,
      ...(offer.files ? { files: offer.files.length } : { path: paths[0]! }),
    };
    this.#entries.set(number, entry);
    entry.transfer = new FileSender({
      ...offered,
      channel,
      onEvent: (event) => this.#sent(number, event),
      ...this.#timing(),
    });
    this.#print(
      `*** Offered ${entry.name} (${
        offerSummary(offer)
      }, file ${number}) to ${this.#peer}; waiting for an answer ***`,
    );
  }

  /** `accept-file [n]`: takes an offered file, the newest without a number. */
  async accept(number: number | undefined): Promise<void> {
    const entry = this.#offer(number);
    if (entry === undefined) return;
    const accepting = this.#take(entry);
    this.#accepting.add(accepting);
    try {
      await accepting;
    } finally {
      this.#accepting.delete(accepting);
    }
  }

  async #take(entry: Entry): Promise<void> {
    const receiver = entry.transfer as FileReceiver;
    const dir = this.#options.downloadDir;
    const missing = await missingFlags(receivePermissions(dir));
    if (missing.length > 0) {
      this.#print(`*** Receiving files into ${dir} needs ${missing.join(" ")} ***`);
      receiver.reject("the receiver cannot save files");
      return;
    }
    if (receiver.isSet) {
      entry.folder = new SetFolder(dir);
      receiver.accept(entry.folder);
      return;
    }
    if (entry.partial !== undefined) {
      const resumed = await this.#resume(entry, receiver);
      if (resumed !== "fresh") return;
    }
    try {
      entry.sink = await this.#kept.create(receiver.offer ?? { name: "", size: 0, mime: "" });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#print(`*** Cannot receive ${entry.name}: ${reason} ***`);
      receiver.reject("the receiver cannot save the file");
      return;
    }
    if (receiver.state !== "offered") {
      this.#release(entry);
      await entry.sink.abort();
      return;
    }
    receiver.accept(entry.sink);
  }

  /**
   * Takes an offer into the partial kept for it: checks what it holds on
   * disk and claims what still matches. `"fresh"` when nothing does (the
   * file comes whole).
   */
  async #resume(entry: Entry, receiver: FileReceiver): Promise<"resumed" | "fresh" | "gone"> {
    const partial = entry.partial!;
    let claimed;
    try {
      claimed = await this.#kept.claim(partial, receiver.offer?.size ?? 0);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#print(`*** Cannot resume ${entry.name}: ${printable(reason)}; it comes whole ***`);
      claimed = "fresh" as const;
    }
    if (claimed === "fresh") {
      delete entry.partial;
      return "fresh";
    }
    entry.sink = claimed.sink;
    if (receiver.state !== "offered") {
      this.#release(entry);
      await claimed.sink.suspend();
      return "gone";
    }
    receiver.accept(claimed.sink, claimed.checked);
    return "resumed";
  }

  /** `reject-file [n]`: declines an offered file, the newest without a number. */
  reject(number: number | undefined): void {
    const entry = this.#offer(number);
    if (entry === undefined) return;
    (entry.transfer as FileReceiver).reject("declined");
  }

  /** `cancel [n]`: stops a transfer; the only one without a number. */
  cancel(number: number | undefined): void {
    if (number === undefined && this.#entries.size > 1) {
      this.#print(
        `*** Several transfers: cancel ${[...this.#entries.keys()].join(" | ")} ***`,
      );
      return;
    }
    const entry = number === undefined
      ? this.#entries.values().next().value
      : this.#entries.get(number);
    if (entry === undefined) {
      this.#print(
        number === undefined ? "*** No transfer to cancel ***" : `*** No file ${number} ***`,
      );
      return;
    }
    if (entry.transfer.state === "offered" && entry.transfer instanceof FileReceiver) {
      entry.transfer.reject("declined");
    } else {
      entry.transfer.cancel(
        `cancelled by the ${entry.direction === "send" ? "sender" : "receiver"}`,
      );
    }
  }

  #offer(number: number | undefined): Entry | undefined {
    const chosen = number ?? this.#pending.at(-1);
    const entry = chosen === undefined ? undefined : this.#entries.get(chosen);
    if (
      entry === undefined || entry.direction !== "receive" || entry.transfer.state !== "offered"
    ) {
      this.#print(
        number === undefined
          ? "*** No file offer to answer ***"
          : `*** No offer of file ${number} ***`,
      );
      return undefined;
    }
    this.#pending.splice(this.#pending.indexOf(entry.number), 1);
    return entry;
  }

  #received(number: number, event: TransferEvent): void {
    const entry = this.#entries.get(number);
    if (entry === undefined) return;
    const receiver = entry.transfer as FileReceiver;
    const label = () => `${entry.name} (file ${number})`;
    switch (event.kind) {
      case "offer": {
        this.#refusing = false;
        entry.name = printable(event.offer.name);
        if (event.offer.files) entry.files = event.offer.files.length;
        const size = offerSummary(event.offer);
        const max = this.#options.maxFileBytes;
        if (max !== undefined && event.offer.size > max) {
          const [over, limit] = compared(event.offer.size, max);
          this.#print(
            `*** ${this.#peer} offered ${entry.name} (${over}): declined, larger than --max-file-bytes ${limit} ***`,
          );
          receiver.reject(`larger than the receiver's limit of ${limit}`);
          return;
        }
        const partial = this.#kept.find(event.offer);
        if (partial !== undefined) entry.partial = partial;
        const consented = this.#kept.consented(this.#peer, event.offer) && partial !== undefined;
        const answer = this.#options.acceptFiles
          ? "accepting (--accept-files)"
          : consented
          ? "accepting: you took it before it was interrupted"
          : "accept-file / reject-file";
        const held = partial === undefined
          ? ""
          : `; resuming: ${formatBytes(recordedBytes(partial, event.offer.size))} already here`;
        this.#print(
          `*** ${this.#peer} offers ${entry.name} (${size}, file ${number})${held}: ${answer} ***`,
        );
        this.#listSet(event.offer);
        this.#pending.push(number);
        if (this.#options.acceptFiles || consented) void this.accept(number);
        return;
      }
      case "accepted":
        this.#print(`*** Receiving ${label()} into ${this.#options.downloadDir} ***`);
        return;
      case "resumed":
        entry.held = event.held;
        this.#print(resumedLine(label(), event.held, event.size));
        return;
      case "progress":
        this.#progress(entry, event.bytes, event.size, event.file);
        return;
      case "file":
        if (!event.outcome.ok) this.#fileFailed(entry, event.outcome);
        return;
      case "done":
        this.#forget(number);
        this.#release(entry);
        this.#print(receivedLine(label(), event, {
          ...(entry.folder ? { tops: entry.folder.tops } : {}),
          ...(entry.sink?.savedAs === undefined ? {} : { savedAs: entry.sink.savedAs }),
          ...(entry.held === undefined ? {} : { held: entry.held }),
        }));
        return;
      case "rejected":
        this.#forget(number);
        if (entry.name === "") {
          // Turned away by the inbox before its offer was read: one line per flood, not per file.
          if (this.#refusing) return;
          this.#refusing = true;
          this.#print(
            this.#refuseAll !== undefined
              ? `*** ${this.#peer} offered a file: declined, ${this.#refuseAll} ***`
              : `*** ${this.#peer} is sending more than ${this.#inbox.max} files at once: declining the rest until these are done ***`,
          );
          return;
        }
        this.#print(`*** Declined ${label()} ***`);
        return;
      case "stopped":
        this.#forget(number);
        this.#release(entry);
        // A channel that closed before its offer came was never shown.
        if (entry.name === "") return;
        if (event.interrupted && entry.sink?.resumable && this.#kept.keeps) {
          const offer = receiver.offer;
          if (offer !== undefined) this.#kept.consent(this.#peer, offer);
          this.#kept.clean();
          this.#print(
            stoppedLine(this.#peer, label(), event) +
              `; what arrived is kept to resume (offer it again; --keep-partials) ***`,
          );
          return;
        }
        // Folders made for a set that kept nothing go too: nothing of it is left.
        if (receiver.kept === 0) entry.folder?.removeEmpty();
        if (receiver.kept > 0) {
          this.#print(
            stoppedLine(this.#peer, label(), event) +
              `; ${plural(receiver.kept, "file")} verified before it stopped ${
                receiver.kept === 1 ? "is" : "are"
              } kept ***`,
          );
          return;
        }
        this.#print(stoppedLine(this.#peer, label(), event) + "; nothing was kept ***");
        return;
    }
  }

  #sent(number: number, event: TransferEvent): void {
    const entry = this.#entries.get(number);
    if (entry === undefined) return;
    const label = `${entry.name} (file ${number})`;
    switch (event.kind) {
      case "accepted":
        this.#print(`*** ${this.#peer} accepted ${label}; sending ***`);
        return;
      case "resumed":
        entry.held = event.held;
        this.#print(partnerHasLine(this.#peer, label, event.held, event.size));
        return;
      case "progress":
        this.#progress(entry, event.bytes, event.size, event.file);
        return;
      case "file":
        if (!event.outcome.ok) this.#fileFailed(entry, event.outcome);
        return;
      case "done":
        this.#forget(number);
        this.#print(sentLine(this.#peer, label, event, entry.held));
        return;
      case "rejected":
        this.#forget(number);
        // A plain "declined" says nothing the line does not say already.
        this.#print(printable(
          `*** ${this.#peer} declined ${label}${
            event.reason === "declined" ? "" : `: ${event.reason}`
          } ***`,
        ));
        return;
      case "stopped":
        this.#forget(number);
        if (event.interrupted && entry.path !== undefined && event.by !== "you") {
          if (this.#abandoning && this.#linkMayReturn) {
            this.#resend = [...this.#resend, { peer: this.#peer, path: entry.path }].slice(
              -MAX_RESENT,
            );
            this.#print(
              stoppedLine(this.#peer, label, event) +
                "; it goes on if the link comes back, or sendfile it again ***",
            );
            return;
          }
          this.#print(stoppedLine(this.#peer, label, event) + "; sendfile it again to resume ***");
          return;
        }
        this.#print(stoppedLine(this.#peer, label, event) + " ***");
        return;
    }
  }

  /** A received file's partial is no longer in use. */
  #release(entry: Entry): void {
    if (entry.partial !== undefined) this.#kept.release(entry.partial.part);
    if (entry.sink !== undefined) this.#kept.release(entry.sink.partPath);
  }

  #timing(): { now?: () => number; idleMs?: number } {
    const { now, idleMs } = this.#options;
    return { ...(now ? { now } : {}), ...(idleMs === undefined ? {} : { idleMs }) };
  }

  #progress(
    entry: Entry,
    bytes: number,
    size: number,
    file?: { index: number; path: string },
  ): void {
    const progress = this.#options.progress;
    if (progress === undefined) return;
    const now = (this.#options.now ?? (() => performance.now()))();
    const line = progressLine(
      entry.name,
      entry.direction,
      bytes,
      size,
      now - entry.transfer.startedAt,
    );
    progress.update(
      String(entry.number),
      file === undefined || entry.files === undefined
        ? line
        : `${line} · ${file.index + 1}/${entry.files} ${printable(file.path)}`,
    );
  }

  /** The files of a set's offer, a few of them: the user answers for all. */
  #listSet(offer: import("../../shared/file_transfer.js").FileOffer): void {
    if (offer.files === undefined) return;
    const entries = setEntries(offer);
    for (const line of entries.slice(0, LISTED)) this.#print(`***   ${printable(line)} ***`);
    if (entries.length > LISTED) this.#print(`***   … and ${entries.length - LISTED} more ***`);
  }

  #fileFailed(entry: Entry, outcome: import("../../shared/file_transfer.js").FileOutcome): void {
    this.#print(
      `*** ${entry.name} (file ${entry.number}): ${printable(outcome.path)} failed: ${
        printable(outcome.reason ?? "")
      } ***`,
    );
  }

  #forget(number: number): void {
    this.#entries.delete(number);
    const index = this.#pending.indexOf(number);
    if (index >= 0) this.#pending.splice(index, 1);
    this.#options.progress?.remove(String(number));
  }

  #print(line: string): void {
    this.#options.progress?.clear();
    this.#options.print(line);
  }
}

/** Whether `path` names something on disk (and may be read). */
async function isPath(path: string): Promise<boolean> {
  const readable = await missingFlags([{ descriptor: { name: "read", path }, flag: "" }]);
  if (readable.length > 0) return false;
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
