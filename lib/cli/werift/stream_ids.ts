/**
 * A new data channel gets a stream id whose last close has finished.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  collapsedSource,
  markPatched,
  methodPatch,
  prototypeOf,
  WeriftMismatch,
} from "./patch.ts";
import {
  ESTABLISHED,
  sctpAssociationClass,
  type SctpTransportInternals,
} from "./sctp_association.ts";

/** The part of werift {@link earlyStreamReusePatch} reads. */
type Module = Pick<Werift, "RTCSctpTransport">;

// How werift 0.25.2 picks a new channel's stream id, white space collapsed:
// in RTCSctpTransport.dataChannelFlush(), once the association is
// established, the lowest id of its parity that has no channel.
const STREAM_ID_CODE = [
  "if (this.sctp.associationState != 4 /* ESTABLISHED */) return;",
  "let streamId = channel.id; if (streamId === void 0) { streamId = this.dataChannelId; while " +
  "(Object.keys(this.dataChannels).includes(streamId.toString())) { streamId += 2; } " +
  "this.dataChannels[streamId] = channel; channel.setId(streamId); }",
];
// ... and how its association keeps track of stream resets.
const RESET_CODE = [
  "this.reconfigQueue.push(streamId);",
  "this.reconfigRequest = param;",
  "delete this.outboundStreamSeq[streamId];",
  "delete this.inboundStreams[streamId];",
];

/**
 * Gives a new data channel a stream id whose last close has finished in both
 * directions. werift took the lowest id with no channel, also one whose reset
 * (RFC 8831 §6.7) was still under way, and the reset that came after then
 * closed the new channel on one side or both: a file offered right after
 * another was refused vanished, or the acknowledgement of its opening found
 * no channel. An id is free once it has no channel, no reset of ours is
 * queued or unanswered for it, and nothing of the partner's on it waits to be
 * reset (RFC 8832 §6: a new channel takes an id whose incoming and outgoing
 * streams are both unused).
 */
export const earlyStreamReusePatch = methodPatch<Module>({
  replaces: [["RTCSctpTransport", "dataChannelFlush"]],
  check(werift) {
    const flush = prototypeOf(werift, "RTCSctpTransport").dataChannelFlush;
    if (typeof flush !== "function") {
      throw new WeriftMismatch("RTCSctpTransport.dataChannelFlush", "is missing");
    }
    const flushCode = collapsedSource(flush);
    const associationCode = collapsedSource(sctpAssociationClass(werift));
    if (
      !STREAM_ID_CODE.every((fragment) => flushCode.includes(fragment)) ||
      !RESET_CODE.every((fragment) => associationCode.includes(fragment))
    ) {
      throw new WeriftMismatch(
        "RTCSctpTransport",
        "no longer picks stream ids for data channels as expected",
      );
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "RTCSctpTransport");
    const flush = proto.dataChannelFlush as (this: SctpTransportInternals) => unknown;
    proto.dataChannelFlush = markPatched(function (this: SctpTransportInternals) {
      // Ids are given here, before werift's own loop, which then keeps them.
      giveStreamIds(this);
      return flush.call(this);
    });
  },
});

/**
 * Applies {@link earlyStreamReusePatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift no longer picks stream ids or resets
 *   streams as expected.
 */
export function withoutEarlyStreamReuse(werift: Module): void {
  applyPatches(werift, [earlyStreamReusePatch]);
}

/**
 * Gives every channel waiting in `transport`'s queue a free stream id (see
 * {@link earlyStreamReusePatch}), once the association is up. Anything that
 * takes channels off the queue without going through the patched
 * `dataChannelFlush` calls it first.
 */
export function giveStreamIds(transport: SctpTransportInternals): void {
  if (transport.sctp.associationState !== ESTABLISHED || transport.dataChannelId === undefined) {
    return;
  }
  for (const [channel] of transport.dataChannelQueue) {
    if (channel.id !== undefined) continue;
    const id = freeStreamId(transport, transport.dataChannelId);
    transport.dataChannels[id] = channel;
    channel.setId(id);
  }
}

function freeStreamId(transport: SctpTransportInternals, first: number): number {
  const { sctp } = transport;
  const resetting = new Set([...sctp.reconfigQueue, ...(sctp.reconfigRequest?.streams ?? [])]);
  let id = first;
  while (
    id in transport.dataChannels || resetting.has(id) || id in sctp.outboundStreamSeq ||
    id in sctp.inboundStreams
  ) id += 2;
  return id;
}
