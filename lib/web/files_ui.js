/**
 * The page's file transfers: choose or drop a file to send, Accept or
 * Reject what the partner offers, a progress bar for each, a download link
 * once the SHA-256 matched, and the verification code of the channel.
 *
 * For tests: `#transfers li` has `data-direction` (`send`, `receive`),
 * `data-state` (`offered`, `sending`, `receiving`, `done`, `rejected`,
 * `stopped`) and `data-name`; `#verify-code` holds the code.
 *
 * @module
 */

import { FILE_CHANNEL_PREFIX, formatBytes, newFileId, safeFileName } from "./file_protocol.js";
import { FileReceiver, FileSender } from "./file_transfer.js";
import { verificationCode } from "./verification.js";

/**
 * @typedef {import("./file_transfer.js").FileChannelLike} FileChannelLike
 * @typedef {import("./file_transfer.js").TransferEvent} TransferEvent
 * @typedef {import("./peer_link.js").PeerConnectionLike} PeerConnectionLike
 */

/** @param {string} id */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found;
}

/** How much of a file the page reads at once. */
const READ_BYTES = 1024 * 1024;

/** Progress bars are redrawn at most this often. */
const REDRAW_MS = 100;

/** The files section of the page, for one partner at a time. */
export class FilesPanel {
  #section = element("files");
  #input = /** @type {HTMLInputElement} */ (element("file-input"));
  #list = element("transfers");
  #code = element("verify-code");
  /** @type {PeerConnectionLike | undefined} */
  #connection;
  /** @type {Set<FileSender | FileReceiver>} */
  #transfers = new Set();

  constructor() {
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
   * The channel is open: files may go, and the code is shown.
   *
   * @param {PeerConnectionLike | undefined} connection
   */
  opened(connection) {
    this.#connection = connection;
    this.#input.disabled = connection === undefined;
    const code = verificationCode(
      connection?.localDescription?.sdp ?? "",
      connection?.remoteDescription?.sdp ?? "",
    );
    this.#code.textContent = code ?? "";
    this.#code.title = code
      ? "Verification code: the same on both screens means no one is in between"
      : "";
  }

  /**
   * The channel is gone: every transfer stops.
   *
   * @param {string} reason
   */
  closed(reason) {
    this.#connection = undefined;
    this.#input.disabled = true;
    this.#code.textContent = "";
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
    row.addButton("Cancel", () => sender.cancel("cancelled by the sender"));
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
          row = makeRow(this.#list, "receive", event.offer.name, event.offer.size);
          row.setState("offered", `${event.offer.mime}: accept it?`);
          row.addButton("Accept", () =>
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
            }));
          row.addButton("Reject", () => receiver.reject("declined"));
          return;
        }
        if (row) this.#update(receiver, row, event);
        else if (event.kind !== "progress") this.#transfers.delete(receiver);
      },
    });
    this.#transfers.add(receiver);
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
  title.textContent = `${direction === "send" ? "↑" : "↓"} ${name} (${formatBytes(size)})`;
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
      status.textContent = text;
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
     */
    addButton(label, onClick) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
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
      link.textContent = `Save ${fileName}`;
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
