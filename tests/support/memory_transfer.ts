/**
 * File transfers over in-memory channel pairs: a channel that delivers on a
 * later task and counts what it buffers, sinks and sources in memory, and
 * recorders of what each side reports.
 *
 * @module
 */

import { FileReceiver } from "../../lib/shared/file_receiver.js";
import { FileSender } from "../../lib/shared/file_sender.js";
import type { FileSink, TransferEvent } from "../../lib/shared/file_transfer.js";
import { within } from "./helpers.ts";

/**
 * One end of an in-memory channel pair: messages reach the other end on a
 * later task, and `bufferedAmount` counts what is on its way, as a data
 * channel's does.
 */
export class MemoryChannel extends EventTarget {
  label = "file:test";
  readyState = "open";
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = "blob";
  peer: MemoryChannel | undefined;
  /** The most ever buffered. */
  peakBuffered = 0;
  sentText: string[] = [];

  send(data: string | Uint8Array): void {
    if (this.readyState !== "open") throw new Error("closed");
    const size = typeof data === "string" ? data.length : data.length;
    const copy = typeof data === "string" ? data : data.slice();
    if (typeof data === "string") this.sentText.push(data);
    this.bufferedAmount += size;
    this.peakBuffered = Math.max(this.peakBuffered, this.bufferedAmount);
    setTimeout(() => {
      // Delivered first, as a real channel's bytes are ahead of a close
      // that follows its buffer draining.
      if (this.peer?.readyState === "open") {
        this.peer.dispatchEvent(Object.assign(new Event("message"), { data: copy }));
      }
      const before = this.bufferedAmount;
      this.bufferedAmount -= size;
      if (
        before > this.bufferedAmountLowThreshold &&
        this.bufferedAmount <= this.bufferedAmountLowThreshold
      ) {
        this.dispatchEvent(new Event("bufferedamountlow"));
      }
    }, 0);
  }

  close(): void {
    for (const end of [this, this.peer]) {
      if (end === undefined || end.readyState === "closed") continue;
      end.readyState = "closed";
      setTimeout(() => end.dispatchEvent(new Event("close")), 0);
    }
  }
}

export function channelPair(): [MemoryChannel, MemoryChannel] {
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A sink in memory that records what happened to it. */
export function memorySink(fail = false) {
  const chunks: Uint8Array[] = [];
  const sink: FileSink & { chunks: Uint8Array[]; committed: boolean; aborted: boolean } = {
    chunks,
    committed: false,
    aborted: false,
    write(bytes) {
      if (fail) return Promise.reject(new Error("disk full"));
      chunks.push(bytes.slice());
      return Promise.resolve();
    },
    commit() {
      sink.committed = true;
      return Promise.resolve();
    },
    abort() {
      sink.aborted = true;
      return Promise.resolve();
    },
  };
  return sink;
}

export function source(data: Uint8Array) {
  let offset = 0;
  let closed = 0;
  return {
    get closed() {
      return closed;
    },
    read(max: number) {
      const part = data.subarray(offset, offset + max);
      offset += part.length;
      return Promise.resolve(part);
    },
    close() {
      closed++;
    },
  };
}

/** Events of one side, with a way to wait for the final one. */
export function recorder() {
  const events: TransferEvent[] = [];
  let resolve: (event: TransferEvent) => void = () => {};
  const final = new Promise<TransferEvent>((r) => resolve = r);
  return {
    events,
    final,
    onEvent(event: TransferEvent) {
      events.push(event);
      if (event.kind === "done" || event.kind === "rejected" || event.kind === "stopped") {
        resolve(event);
      }
    },
    kinds: () => events.map((e) => e.kind).filter((k) => k !== "progress"),
  };
}

export function randomBytes(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  return data;
}

/** Waits until `probe` holds, checking on every turn of the event loop. */
export function until(probe: () => boolean, what: string, ms = 2000): Promise<void> {
  return within(
    (async () => {
      while (!probe()) await new Promise((r) => setTimeout(r, 0));
    })(),
    ms,
    what,
  );
}

export async function offered(receiverEvents: ReturnType<typeof recorder>): Promise<void> {
  await within(
    (async () => {
      while (!receiverEvents.events.some((e) => e.kind === "offer")) {
        await new Promise((r) => setTimeout(r, 0));
      }
    })(),
    5000,
    "the offer",
  );
}

/** A sender of `data` and a receiver on a channel pair, once the receiver has seen the offer. */
export async function offeredTransfer(data: Uint8Array, src = source(data)) {
  const [a, b] = channelPair();
  const s = recorder();
  const r = recorder();
  const sender = new FileSender({
    channel: a,
    offer: { name: "x", size: data.length, mime: "a/b" },
    source: src,
    onEvent: s.onEvent,
  });
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
  await offered(r);
  return { a, s, r, sender, receiver };
}
