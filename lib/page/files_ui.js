/**
 * The page's file transfers: choose or drop a file to send, Accept or
 * Reject what the partner offers (with its size and what kind of file it
 * is), a progress bar for each, and a download link once the SHA-256
 * matched. An offer is also handed to the page, to announce where the user
 * looks. Names and reasons from the partner are shown through `printable()`.
 *
 * For tests: `#transfers li` has `data-direction` (`send`, `receive`),
 * `data-state` (`offered`, `sending`, `receiving`, `done`, `rejected`,
 * `stopped`) and `data-name` (the name as offered).
 *
 * @module
 */

import {
  FILE_CHANNEL_PREFIX,
  formatBytes,
  MAX_INCOMING_FILES,
  newFileId,
  safeFileName,
} from "../shared/file_protocol.js";
import { offerSummary, setEntries, setOutcome } from "../shared/file_set.js";
import { FileReceiver } from "../shared/file_receiver.js";
import { FileSender } from "../shared/file_sender.js";
import { droppedFiles, inputFiles, offerOf } from "./file_picking.js";
import { clearOldKept, discardKept, findKept, keepingSink } from "./kept_pieces.js";
import { printable } from "../shared/printable.js";
import { element } from "./elements.js";
import { describeKind } from "./file_kinds.js";
import {
  askForFolder,
  bestSaveKind,
  clearLeftFiles,
  folderSetTarget,
  MEMORY_LIMIT_BYTES,
  privateFileSink,
  saveSinkFor,
} from "./save_targets.js";

/**
 * @typedef {import("../shared/rtc_types.js").FileChannelLike} FileChannelLike
 * @typedef {import("../shared/file_transfer.js").TransferEvent} TransferEvent
 * @typedef {import("../shared/rtc_types.js").PeerConnectionLike} PeerConnectionLike
 */

/**
 * @typedef {object} OfferNotice A file the partner offers, for the page to announce.
 * @property {string} description Its name, size and kind: `report.pdf (2.1 MB, PDF document)`.
 * @property {() => void} accept Accepts it, as the Accept button does.
 * @property {() => void} reject Declines it, as the Reject button does.
 */

/**
 * @typedef {object} OfferAnnouncement What the page made of a notice.
 * @property {(outcome: string) => void} settle The offer is answered or gone:
 *   the choice gives way to `outcome`.
 */

/** How many entries of a set an offer shows, and how many failures its result names. */
const LISTED = 10;

/** Progress bars are redrawn at most this often. */
const REDRAW_MS = 100;

/** The files section of the page, for one partner at a time. */
export class FilesPanel {
  #section = element("files");
  #input = /** @type {HTMLInputElement} */ (element("file-input"));
  #folderInput = /** @type {HTMLInputElement} */ (element("folder-input"));
  #list = element("transfers");
  /** @type {PeerConnectionLike | undefined} */
  #connection;
  /** @type {Set<FileSender | FileReceiver>} */
  #transfers = new Set();
  /** @type {((notice: OfferNotice) => OfferAnnouncement) | undefined} */
  #onOffer;
  /** Offers announced and not yet answered. @type {Map<FileReceiver, OfferAnnouncement>} */
  #announced = new Map();
  /** The line that says offers are being turned away, shown once per flood. @type {HTMLElement | undefined} */
  #refusing;

  /**
   * @param {{ onOffer?: (notice: OfferNotice) => OfferAnnouncement }} [options]
   *   `onOffer` announces an incoming offer outside the Files card.
   */
  constructor(options = {}) {
    this.#onOffer = options.onOffer;
    void clearLeftFiles();
    void clearOldKept();
    // Several files picked, a folder picked or anything dropped go as one set.
    for (const input of [this.#input, this.#folderInput]) {
      input.addEventListener("change", () => {
        this.#offerPicked(() => offerOf(inputFiles(input.files ?? [])));
        input.value = "";
      });
    }
    this.#section.addEventListener("dragover", (event) => {
      if (this.#connection === undefined) return;
      event.preventDefault();
      this.#section.classList.add("dropping");
    });
    this.#section.addEventListener("dragleave", () => this.#section.classList.remove("dropping"));
    this.#section.addEventListener("drop", (event) => {
      event.preventDefault();
      this.#section.classList.remove("dropping");
      const dropped = event.dataTransfer;
      if (!dropped) return;
      droppedFiles(dropped).then(
        ({ files, folders }) => this.#offerPicked(() => offerOf(files, folders)),
        (error) => this.#notice(`Cannot read what was dropped: ${errorText(error)}`),
      );
    });
  }

  /**
   * The channel is open: files may go.
   *
   * @param {PeerConnectionLike | undefined} connection
   */
  opened(connection) {
    this.#connection = connection;
    this.#input.disabled = connection === undefined;
    this.#folderInput.disabled = connection === undefined;
  }

  /**
   * The channel is gone: every transfer stops.
   *
   * @param {string} reason
   */
  closed(reason) {
    this.#connection = undefined;
    this.#input.disabled = true;
    this.#folderInput.disabled = true;
    for (const transfer of [...this.#transfers]) transfer.abandon(reason);
  }

  /**
   * Offers a file to the partner.
   *
   * @param {File} file
   */
  send(file) {
    this.#offerPicked(() => offerOf([{ path: file.name, blob: file }]));
  }

  /**
   * Offers what was picked, or says why it cannot go.
   *
   * @param {() => import("./file_picking.js").Picked | undefined} pick
   */
  #offerPicked(pick) {
    try {
      this.#offer(pick());
    } catch (error) {
      this.#notice(`Not sent: ${errorText(error)}`);
    }
  }

  /**
   * Offers one file, or a set, to the partner.
   *
   * @param {import("./file_picking.js").Picked | undefined} picked
   */
  #offer(picked) {
    const connection = this.#connection;
    if (connection === undefined || picked === undefined) return;
    const channel = /** @type {FileChannelLike} */ (/** @type {unknown} */ (
      connection.createDataChannel(`${FILE_CHANNEL_PREFIX}${newFileId()}`, { ordered: true })
    ));
    const { offer } = picked;
    const row = makeRow(
      this.#list,
      "send",
      offer.name,
      offer.size,
      offerSummary(offer),
      offer.files?.length,
    );
    const sender = new FileSender({
      channel,
      ...picked,
      onEvent: (event) => this.#update(sender, row, event),
    });
    this.#transfers.add(sender);
    row.setState("offered", `Offered to your partner; waiting for an answer`);
    row.addButton("Cancel", () => sender.cancel("cancelled by the sender"), "secondary");
  }

  /** @param {string} text A line in the list of transfers. */
  #notice(text) {
    const item = document.createElement("li");
    item.className = "notice";
    item.textContent = printable(text);
    this.#list.append(item);
  }

  /**
   * A channel the partner opened: a file offer, if it is labelled as one.
   *
   * @param {FileChannelLike} channel
   * @param {string} [refuse] Why every offer is turned away, when this
   *   client may not receive files.
   */
  incoming(channel, refuse) {
    if (!channel.label.startsWith(FILE_CHANNEL_PREFIX)) {
      channel.close();
      return;
    }
    /** @type {Row | undefined} */
    let row;
    /** Where the bytes go, once accepted. @type {import("./save_targets.js").SaveSink | undefined} */
    let sink;
    const receiver = new FileReceiver({
      channel,
      ...(refuse === undefined ? {} : { refuse }),
      onEvent: (event) => {
        if (event.kind === "offer" && event.offer.files) {
          this.#refusing = undefined;
          row = this.#offeredSet(receiver, event.offer);
          return;
        }
        if (event.kind === "offer") {
          this.#refusing = undefined;
          const { name, size, mime } = event.offer;
          const kind = describeKind(name, mime);
          row = makeRow(this.#list, "receive", name, size);
          row.setState("offered", `${kind}: accept it?`);
          if (bestSaveKind() === "memory") {
            row.note(
              `This browser keeps received files in memory: up to ${
                formatBytes(MEMORY_LIMIT_BYTES)
              }`,
            );
          }
          // Pieces kept from an interrupted transfer of this file: only the rest will come.
          const offer = event.offer;
          let kept = findKept(offer);
          void kept.then((found) => {
            if (!found || receiver.finished || receiver.state !== "offered" || !row) return;
            const offered = row;
            offered.note(`Resuming: ${formatBytes(found.bytes)} already here`);
            // What was kept can be let go: the file then comes whole, if accepted.
            const discard = offered.addButton("Start over", () => {
              discard.remove();
              kept = Promise.resolve(undefined);
              void discardKept(found).then(() =>
                offered.note("What was kept is deleted: the file comes whole")
              );
            }, "secondary");
          });
          // Asked in the click itself: the save dialog needs it. The bytes
          // are written where the sink says as they arrive, never held whole.
          this.#choice(receiver, row, `${name} (${formatBytes(size)}, ${kind})`, () => {
            saveSinkFor({ name: safeFileName(name), size }).then(
              async (chosen) => {
                /** @type {import("./save_targets.js").SaveSink} */
                let into = chosen;
                /** @type {Parameters<FileReceiver["accept"]>[1]} */
                let resume;
                // A file that can be resumed keeps its pieces too, where there is a private storage.
                if (offer.modified !== undefined && chosen.kind !== "memory") {
                  try {
                    ({ sink: into, resume } = await keepingSink(offer, chosen, await kept));
                  } catch {
                    into = chosen;
                  }
                }
                sink = into;
                if (!receiver.finished) row?.note(into.where);
                receiver.accept(into, resume);
              },
              (error) => receiver.reject(`not saved: ${errorText(error)}`),
            );
          });
          return;
        }
        if (event.kind !== "progress") this.#settle(receiver, event);
        if (row) {
          this.#update(receiver, row, event);
          if (receiver.isSet) return;
          if (sink && (event.kind === "done" || event.kind === "stopped")) {
            const fileName = safeFileName(receiver.offer?.name ?? "");
            if (sink.download) row.download(sink.download, fileName);
            else row.note(sink.outcome);
          }
        } else if (event.kind !== "progress") {
          this.#transfers.delete(receiver);
          // Turned away by the inbox before its offer was read: one line per
          // flood, not one per file, and nothing to answer.
          if (event.kind === "rejected" && this.#refusing === undefined) {
            this.#refusing = document.createElement("li");
            this.#refusing.className = "notice";
            this.#refusing.textContent = refuse === undefined
              ? `Your partner is sending more than ${MAX_INCOMING_FILES} ` +
                "files at once; the rest are declined until these are done."
              : `Files from your partner are declined: ${refuse}.`;
            this.#list.append(this.#refusing);
          }
        }
      },
    });
    this.#transfers.add(receiver);
  }

  /**
   * A set the partner offers: its row, with a few of its files, and its
   * answer. Accepted, it goes into a folder the user chooses (a new folder
   * for each of the set's top folders), else into this browser's storage
   * with a Save link for each file once verified.
   *
   * @param {FileReceiver} receiver
   * @param {import("../shared/file_transfer.js").FileOffer} offer
   * @returns {Row}
   */
  #offeredSet(receiver, offer) {
    const summary = offerSummary(offer);
    const row = makeRow(
      this.#list,
      "receive",
      offer.name,
      offer.size,
      summary,
      offer.files?.length,
    );
    row.setState("offered", "Several files: accept them?");
    row.list(setEntries(offer));
    this.#choice(receiver, row, `${offer.name} (${summary})`, () => {
      // Asked in the click itself: the folder dialog needs it.
      askForFolder().then((folder) => {
        if (folder) {
          const target = folderSetTarget(folder);
          row.note(`Writing into ${folder.name}`);
          receiver.accept(target);
          void receiver.settled.then(() => {
            const tops = target.tops();
            if (receiver.kept > 0 && tops.length > 0) {
              row.note(`Saved in ${tops.join(", ")} in ${folder.name}`);
            }
          });
          return;
        }
        row.note(
          "No folder chosen: writing to this browser's storage; a Save link for each file follows once verified",
        );
        receiver.accept(this.#privateSet(row));
      }).catch((error) => receiver.reject(`not saved: ${errorText(error)}`));
    });
    return row;
  }

  /**
   * An offer's Accept and Reject, in its row and where the page announces
   * it; the first click of either answers, the rest do nothing (a second
   * Accept would open a second dialog).
   *
   * @param {FileReceiver} receiver
   * @param {Row} row
   * @param {string} description What the announcement says of it.
   * @param {() => void} accept Takes it.
   */
  #choice(receiver, row, description, accept) {
    let answered = false;
    /** @param {() => void} answer */
    const once = (answer) => () => {
      if (answered) return;
      answered = true;
      answer();
    };
    const onAccept = once(accept);
    const onReject = once(() => receiver.reject("declined"));
    row.addButton("Accept", onAccept);
    row.addButton("Reject", onReject, "secondary");
    const announced = this.#onOffer?.({ description, accept: onAccept, reject: onReject });
    if (announced) this.#announced.set(receiver, announced);
  }

  /**
   * A set's files in this browser's storage, each offered as a download
   * once verified, under its path with \`/\` made \`_\` (a download is one name).
   *
   * @param {Row} row
   * @returns {import("../shared/file_transfer.js").FileSetTarget}
   */
  #privateSet(row) {
    return {
      open: async (file) => {
        const sink = await privateFileSink();
        return {
          write: (bytes) => sink.write(bytes),
          abort: () => sink.abort(),
          commit: async () => {
            await sink.commit();
            if (sink.download) row.addDownload(sink.download, file.path.replaceAll("/", "_"));
          },
        };
      },
      // A download cannot make a folder: empty folders are named in the list only.
      folders: () => Promise.resolve(),
    };
  }

  /**
   * An announced offer is answered or gone: the announcement says how.
   *
   * @param {FileReceiver} receiver
   * @param {TransferEvent} event
   */
  #settle(receiver, event) {
    const announced = this.#announced.get(receiver);
    if (announced === undefined) return;
    this.#announced.delete(receiver);
    announced.settle(
      event.kind === "accepted"
        ? "accepted: see Files"
        : event.kind === "rejected"
        ? "declined"
        : event.kind === "stopped"
        ? event.by === "peer" ? `withdrawn: ${event.reason}` : `ended: ${event.reason}`
        : "",
    );
  }

  /**
   * @param {FileSender | FileReceiver} transfer
   * @param {Row} row
   * @param {TransferEvent} event
   */
  #update(transfer, row, event) {
    const sending = transfer instanceof FileSender;
    switch (event.kind) {
      case "accepted":
        row.setState(sending ? "sending" : "receiving", sending ? "Sending…" : "Receiving…");
        row.clearButtons();
        row.addButton(
          "Cancel",
          () => transfer.cancel(`cancelled by the ${sending ? "sender" : "receiver"}`),
          "secondary",
        );
        return;
      case "progress":
        row.progress(event.bytes, event.size, performance.now() - transfer.startedAt, event.file);
        return;
      case "file":
        return;
      case "resumed":
        // A receiver that kept part of this file from an interrupted transfer: only the rest goes.
        if (event.held > 0) {
          row.setState(
            sending ? "sending" : "receiving",
            `Resuming: ${formatBytes(event.held)} already there`,
          );
        }
        return;
      case "done":
        this.#transfers.delete(transfer);
        row.clearButtons();
        row.progress(event.size, event.size, event.ms);
        row.setState(
          "done",
          `${formatBytes(event.size)} in ${(event.ms / 1000).toFixed(1)} s, ${
            rate(event.size, event.ms)
          }, ${
            event.files === undefined
              ? "SHA-256 verified"
              : setOutcome(event.files, event.failed ?? [], LISTED)
          }`,
        );
        return;
      case "rejected":
        this.#transfers.delete(transfer);
        row.clearButtons();
        row.setState("rejected", sending ? `Declined: ${event.reason}` : "Declined");
        return;
      case "stopped":
        this.#transfers.delete(transfer);
        row.clearButtons();
        row.setState(
          "stopped",
          (event.by === "you"
            ? "Cancelled"
            : event.by === "peer"
            ? `Cancelled by your partner: ${event.reason}`
            : `Failed: ${event.reason}`) +
            (transfer instanceof FileReceiver && transfer.isSet && transfer.kept > 0
              ? `; ${transfer.kept} verified before it stopped ${
                transfer.kept === 1 ? "is" : "are"
              } kept`
              : ""),
        );
        return;
    }
  }
}

/**
 * A line in the list of transfers.
 *
 * @param {HTMLElement} list
 * @param {"send" | "receive"} direction
 * @param {string} name
 * @param {number} size
 * @param {string} [summary] What the title says of it; its size by default.
 * @param {number} [files] How many files a set holds.
 */
function makeRow(list, direction, name, size, summary = formatBytes(size), files = 0) {
  const item = document.createElement("li");
  item.dataset.direction = direction;
  item.dataset.name = name;
  const title = document.createElement("span");
  title.className = "file-name";
  title.textContent = `${direction === "send" ? "↑" : "↓"} ${printable(name)} (${summary})`;
  const bar = document.createElement("progress");
  bar.max = Math.max(size, 1);
  bar.value = 0;
  const status = document.createElement("span");
  status.className = "file-status";
  const buttons = document.createElement("span");
  buttons.className = "file-buttons";
  // The download link lives apart from the buttons, which the end clears.
  const saved = document.createElement("span");
  saved.className = "file-saved";
  item.append(title, bar, status, buttons, saved);
  let drawn = -Infinity;
  list.append(item);
  return {
    /**
     * @param {string} state
     * @param {string} text
     */
    setState(state, text) {
      item.dataset.state = state;
      status.textContent = printable(text);
    },
    /**
     * @param {number} bytes
     * @param {number} total
     * @param {number} ms
     * @param {{ index: number, path: string }} [file] A set's file under way.
     */
    progress(bytes, total, ms, file) {
      const now = performance.now();
      if (bytes < total && now - drawn < REDRAW_MS) return;
      drawn = now;
      bar.value = bytes;
      status.textContent = `${formatBytes(bytes)} / ${formatBytes(total)}, ${rate(bytes, ms)}` +
        (file ? ` · file ${file.index + 1} of ${files}: ${printable(file.path)}` : "");
    },
    /** @param {string[]} entries A set's entries, a few shown under the title. */
    list(entries) {
      const details = document.createElement("details");
      details.className = "file-list";
      const more = entries.length > LISTED ? `, the first ${LISTED}` : "";
      const heading = document.createElement("summary");
      heading.textContent = `What is in it${more}`;
      const items = document.createElement("ul");
      for (const entry of entries.slice(0, LISTED)) {
        const item = document.createElement("li");
        item.textContent = printable(entry);
        items.append(item);
      }
      details.append(heading, items);
      title.after(details);
    },
    /**
     * A Save link for one file of a set, kept beside the others.
     *
     * @param {Blob} blob
     * @param {string} fileName
     */
    addDownload(blob, fileName) {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = fileName;
      link.textContent = `Save ${printable(fileName)}`;
      if (!saved.querySelector("a")) saved.replaceChildren();
      saved.append(link, " ");
    },
    /**
     * @param {string} label
     * @param {() => void} onClick
     * @param {string} [className] `secondary` for the choice that is not the main one.
     * @returns {HTMLButtonElement}
     */
    addButton(label, onClick, className) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      if (className) button.className = className;
      button.addEventListener("click", onClick);
      buttons.append(button);
      return button;
    },
    clearButtons() {
      buttons.replaceChildren();
    },
    /** @param {string} text Where the file goes, or what became of it. */
    note(text) {
      saved.textContent = printable(text);
    },
    /**
     * @param {Blob} blob
     * @param {string} fileName
     */
    download(blob, fileName) {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = fileName;
      link.textContent = `Save ${printable(fileName)}`;
      saved.replaceChildren(link);
    },
  };
}

/** @typedef {ReturnType<typeof makeRow>} Row */

/** @param {unknown} error */
function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {number} bytes
 * @param {number} ms
 */
function rate(bytes, ms) {
  return ms > 0 ? `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s` : "– MB/s";
}
