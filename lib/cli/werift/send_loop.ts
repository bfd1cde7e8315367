/**
 * One loop, not one per message, hands a werift transport's queued data
 * channel messages to SCTP.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  collapsedSource,
  markPatched,
  prototypeOf,
  WeriftMismatch,
  type WeriftPatch,
} from "./patch.ts";
import type { SctpTransportInternals } from "./sctp_association.ts";
import { giveStreamIds } from "./stream_ids.ts";

/** The part of werift this patch reads. */
type Module = Pick<Werift, "RTCSctpTransport">;

// How werift 0.25.2 sends, white space collapsed: every send(), and every
// SACK, starts RTCSctpTransport.dataChannelFlush() without waiting for the
// one under way, and each of those loops waits in SCTP's send() until the
// whole outbound queue has gone, subscribing to its `flush` event; each
// subscriber, once called, removes itself by filtering the list of all of
// them. With a thousand small messages queued (a set of small files) that is
// a thousand loops and a million steps per flush: the sender spent all its
// time there, and starved its own ICE checks until the connection failed.
const SEND_CODE = [
  "channel.addBufferedAmount(size); this.dataChannelQueue.push(",
  "this.dataChannelFlush(); return size;",
  "this.sctp.onSackReceived = async () => { await this.dataChannelFlush(); };",
];
const FLUSH_CODE = [
  "while (this.dataChannelQueue.length > 0) { const [channel, protocol, userData] = this.dataChannelQueue.shift();",
  "this.dataChannelQueue = [];",
];

/** Marks the function this patch installs (apart from other patches of the same method). */
const ONE_LOOP = Symbol("switchboard: one send loop");

/** A transport's loop under way, and whether it was asked to run again meanwhile. */
interface Loop {
  running: Promise<void> | undefined;
  again: boolean;
}

/**
 * Makes `dataChannelFlush` run one loop per transport: a call while one runs
 * returns at once, and the loop runs werift's again if messages came after
 * it had looked. Messages go in the same order, and the same way; only the
 * number of loops waiting on SCTP changes, from one per queued message to one.
 */
export const oneSendLoopPatch: WeriftPatch<Module> = {
  isApplied(werift) {
    try {
      const flush = prototypeOf(werift, "RTCSctpTransport").dataChannelFlush as
        | { [ONE_LOOP]?: boolean }
        | undefined;
      return flush?.[ONE_LOOP] === true;
    } catch {
      return false;
    }
  },
  check(werift) {
    const flush = prototypeOf(werift, "RTCSctpTransport").dataChannelFlush;
    if (typeof flush !== "function") {
      throw new WeriftMismatch("RTCSctpTransport.dataChannelFlush", "is missing");
    }
    const transport = collapsedSource(werift.RTCSctpTransport);
    if (
      !SEND_CODE.every((fragment) => transport.includes(fragment)) ||
      !FLUSH_CODE.every((fragment) => transport.includes(fragment))
    ) {
      throw new WeriftMismatch(
        "RTCSctpTransport",
        "no longer queues messages for SCTP as expected",
      );
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "RTCSctpTransport");
    // Whatever is there now (another patch's wrapper, or werift's own) runs inside.
    const flush = proto.dataChannelFlush as (this: SctpTransportInternals) => Promise<void>;
    const loops = new WeakMap<SctpTransportInternals, Loop>();
    const oneLoop = function (this: SctpTransportInternals): Promise<void> {
      let loop = loops.get(this);
      if (loop === undefined) loops.set(this, loop = { running: undefined, again: false });
      if (loop.running !== undefined) {
        // The running loop takes this call's channel off the queue without
        // coming back through the stream id patch: its id is given now.
        giveStreamIds(this);
        // Not the loop's promise: a SACK waits for this call before it lets
        // SCTP transmit again, and the loop waits for that transmission.
        loop.again = true;
        return Promise.resolve();
      }
      const state = loop;
      state.running = (async () => {
        try {
          do {
            state.again = false;
            await flush.call(this);
          } while (state.again && this.dataChannelQueue.length > 0);
        } finally {
          state.running = undefined;
        }
      })();
      return state.running;
    };
    Object.defineProperty(oneLoop, ONE_LOOP, { value: true });
    // Also marked as any patch's: the stream id patch, applied first, knows
    // itself applied by a patched function in this place.
    proto.dataChannelFlush = markPatched(oneLoop);
  },
};

/**
 * Applies {@link oneSendLoopPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift no longer queues messages as expected.
 */
export function withOneSendLoop(werift: Module): void {
  applyPatches(werift, [oneSendLoopPatch]);
}
