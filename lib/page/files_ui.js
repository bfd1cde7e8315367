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
import { FileReceiver, FileSender } from "../shared/file_transfer.js";
import { printable } from "../shared/printable.js";
import { element } from "./elements.js";
import { describeKind } from "./file_kinds.js";

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

/** How much of a file the page reads at once. */
const READ_BYTES = 1024 * 1024;

/** Progress bars are redrawn at most this often. */
const REDRAW_MS = 100;

/** The files section of the page, for one partner at a time. */
export class FilesPanel {
  #section = element("files");
  #input = /** @type {HTMLInputElement} */ (element("file-input"));
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
    this.#input.addEventListener("change", () => {
      for (const file of this.#input.files ?? []) this.send(file);
      this.#input.value = "";
    });
    this.#section.addEventListener("dragover", (event) => {
      if (this.#connection === undefined) return;
      event.preventDefault();
      this.#section.classList.add("dropping");
    });
    this.#section.addEventListener("dragleave", () => this.#section.classList.remove("dropping"));
    this.#section.addEventListener("drop", (event) => {
      event.preventDefault();
      this.#section.classList.remove("dropping");
      for (const file of event.dataTransfer?.files ?? []) this.send(file);
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
  }

  /**
   * The channel is gone: every transfer stops.
   *
   * @param {string} reason
   */
  closed(reason) {
    this.#connection = undefined;
    this.#input.disabled = true;
    for (const transfer of [...this.#transfers]) transfer.abandon(reason);
  }

  /**
   * Offers a file to the partner.
   *
   * @param {File} file
   */
  send(file) {
    const connection = this.#connection;
    if (connection === undefined) return;
    const channel = /** @type {FileChannelLike} */ (/** @type {unknown} */ (
      connection.createDataChannel(`${FILE_CHANNEL_PREFIX}${newFileId()}`, { ordered: true })
    ));
    const row = makeRow(this.#list, "send", file.name, file.size);
    // The file is read a megabyte at a time: each read of a Blob is a round
    // trip to the browser's own process.
    let offset = 0;
    let block = new Uint8Array(0);
    let used = 0;
    const sender = new FileSender({
      channel,
      offer: { name: file.name, size: file.size, mime: file.type || "application/octet-stream" },
      source: {
        read: async (max) => {
          if (used >= block.length) {
            block = new Uint8Array(await file.slice(offset, offset + READ_BYTES).arrayBuffer());
            offset += block.length;
            used = 0;
          }
          const part = block.subarray(used, used + max);
          used += part.length;
          return part;
        },
        close: () => {},
      },
      onEvent: (event) => this.#update(sender, row, event),
    });
    this.#transfers.add(sender);
    row.setState("offered", `Offered to your partner; waiting for an answer`);
    row.addButton("Cancel", () => sender.cancel("cancelled by the sender"), "secondary");
  }

  /**
   * A channel the partner opened: a file offer, if it is labelled as one.
   *
   * @param {FileChannelLike} channel
   */
  incoming(channel) {
    if (!channel.label.startsWith(FILE_CHANNEL_PREFIX)) {
      channel.close();
      return;
    }
    /** @type {Uint8Array[]} */
    let chunks = [];
    /** @type {Row | undefined} */
    let row;
    const receiver = new FileReceiver({
      channel,
      onEvent: (event) => {
        if (event.kind === "offer") {
          this.#refusing = undefined;
          const { name, size, mime } = event.offer;
          const kind = describeKind(name, mime);
          row = makeRow(this.#list, "receive", name, size);
          row.setState("offered", `${kind}: accept it?`);
          const accept = () =>
            receiver.accept({
              write: (bytes) => {
                chunks.push(bytes);
                return Promise.resolve();
              },
              commit: () => {
                const blob = new Blob(/** @type {BlobPart[]} */ (chunks), {
                  type: "application/octet-stream",
                });
                chunks = [];
                row?.download(blob, safeFileName(event.offer.name));
                return Promise.resolve();
              },
              abort: () => {
                chunks = [];
                return Promise.resolve();
              },
            });
          const reject = () => receiver.reject("declined");
          row.addButton("Accept", accept);
          row.addButton("Reject", reject, "secondary");
          const announced = this.#onOffer?.({
            description: `${name} (${formatBytes(size)}, ${kind})`,
            accept,
            reject,
          });
          if (announced) this.#announced.set(receiver, announced);
          return;
        }
        if (event.kind !== "progress") this.#settle(receiver, event);
        if (row) this.#update(receiver, row, event);
        else if (event.kind !== "progress") {
          this.#transfers.delete(receiver);
          // Turned away by the inbox before its offer was read: one line per
          // flood, not one per file, and nothing to answer.
          if (event.kind === "rejected" && this.#refusing === undefined) {
            this.#refusing = document.createElement("li");
            this.#refusing.className = "notice";
            this.#refusing.textContent =
              `Your partner is sending more than ${MAX_INCOMING_FILES} ` +
              "files at once; the rest are declined until these are done.";
            this.#list.append(this.#refusing);
          }
        }
      },
    });
    this.#transfers.add(receiver);
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
        row.progress(event.bytes, event.size, performance.now() - transfer.startedAt);
        return;
      case "done":
        this.#transfers.delete(transfer);
        row.clearButtons();
        row.progress(event.size, event.size, event.ms);
        row.setState(
          "done",
          `${formatBytes(event.size)} in ${(event.ms / 1000).toFixed(1)} s, ${
            rate(event.size, event.ms)
          }, SHA-256 verified`,
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
          event.by === "you"
            ? "Cancelled"
            : event.by === "peer"
            ? `Cancelled by your partner: ${event.reason}`
            : `Failed: ${event.reason}`,
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
 */
function makeRow(list, direction, name, size) {
  const item = document.createElement("li");
  item.dataset.direction = direction;
  item.dataset.name = name;
  const title = document.createElement("span");
  title.className = "file-name";
  title.textContent = `${direction === "send" ? "↑" : "↓"} ${printable(name)} (${
    formatBytes(size)
  })`;
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
     */
    progress(bytes, total, ms) {
      const now = performance.now();
      if (bytes < total && now - drawn < REDRAW_MS) return;
      drawn = now;
      bar.value = bytes;
      status.textContent = `${formatBytes(bytes)} / ${formatBytes(total)}, ${rate(bytes, ms)}`;
    },
    /**
     * @param {string} label
     * @param {() => void} onClick
     * @param {string} [className] `secondary` for the choice that is not the main one.
     */
    addButton(label, onClick, className) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      if (className) button.className = className;
      button.addEventListener("click", onClick);
      buttons.append(button);
    },
    clearButtons() {
      buttons.replaceChildren();
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

/**
 * @param {number} bytes
 * @param {number} ms
 */
function rate(bytes, ms) {
  return ms > 0 ? `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s` : "– MB/s";
}
