/**
 * What the partner sends over SCTP that werift would throw out of an event
 * handler, ending the process: dropped and logged instead.
 *
 * @module
 */

import { getLogger, type Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  collapsedSource,
  isPatched,
  markPatched,
  methodPatch,
  prototypeOf,
  WeriftMismatch,
  type WeriftPatch,
} from "./patch.ts";
import {
  type Receive,
  sctpAssociationClass,
  type SctpTransportInternals,
} from "./sctp_association.ts";

const logger = getLogger(["switchboard", "webrtc"]);

/** The part of werift these patches read. */
type Module = Pick<Werift, "RTCSctpTransport">;

// SCTP payload protocol ids of data channels (RFC 8831 §8): DCEP (RFC 8832),
// and the four that carry a channel's messages (string, binary, and their
// empty forms).
const DCEP = 50;
const MESSAGE_PROTOCOLS = new Set([51, 53, 56, 57]);
const DCEP_ACK = 2;

// How werift 0.25.2 hands what arrives on a stream to its data channels,
// white space collapsed: RTCSctpTransport.datachannelReceive, a per-instance
// arrow function subscribed to the association when the DTLS transport is
// set, throws on an open acknowledgement for a stream with no channel and on
// a payload protocol it does not know; the association calls it without
// waiting, so the rejection is unhandled and ends the process.
const RECEIVE_CODE = [
  "this.sctp.onReceive.subscribe(this.datachannelReceive)",
  "datachannelReceive = async (streamId, ppId, data) => { if (ppId === WEBRTC_DCEP && data.length > 0) {",
  'case DATA_CHANNEL_ACK: { log29("DATA_CHANNEL_ACK", streamId, ppId); const channel = ' +
  'this.dataChannels[streamId]; if (!channel) { throw new Error("channel not found"); } ' +
  'channel.setReadyState("open"); }',
  "case WEBRTC_BINARY_EMPTY: return Buffer.from([]); default: throw new Error(); }",
];

/**
 * Makes werift ignore what the partner sends on a data channel's stream that
 * no channel can take, instead of throwing it out of an event handler, which
 * ends the process: an open acknowledgement (DCEP ACK) for a stream with no
 * channel (one refused and closed already, or never opened) or for a channel
 * no longer waiting for one (it would open a closing channel again), and a
 * message of a payload protocol that is not a data channel's. Each is logged
 * at debug level; anything else werift fails on while handling a message is
 * logged as a warning and dropped.
 */
export const strayChannelMessagesPatch = methodPatch<Module>({
  replaces: [["RTCSctpTransport", "setDtlsTransport"]],
  check(werift) {
    if (typeof prototypeOf(werift, "RTCSctpTransport").setDtlsTransport !== "function") {
      throw new WeriftMismatch("RTCSctpTransport.setDtlsTransport", "is missing");
    }
    const source = collapsedSource(werift.RTCSctpTransport);
    if (!RECEIVE_CODE.every((fragment) => source.includes(fragment))) {
      throw new WeriftMismatch(
        "RTCSctpTransport",
        "no longer hands messages to channels as expected",
      );
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "RTCSctpTransport");
    const setDtlsTransport = proto.setDtlsTransport as (
      this: SctpTransportInternals,
      ...args: unknown[]
    ) => unknown;
    proto.setDtlsTransport = markPatched(
      function (this: SctpTransportInternals, ...args: unknown[]) {
        // An instance field, subscribed by the call below: guarded before it.
        const receive = this.datachannelReceive;
        if (!isPatched(receive)) this.datachannelReceive = guardedReceive(this, receive);
        return setDtlsTransport.apply(this, args);
      },
    );
  },
});

/**
 * Applies {@link strayChannelMessagesPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's SCTP transport no longer looks as expected.
 */
export function withStrayChannelMessagesIgnored(werift: Module): void {
  applyPatches(werift, [strayChannelMessagesPatch]);
}

function guardedReceive(transport: SctpTransportInternals, receive: Receive): Receive {
  return markPatched(async (streamId: number, ppId: number, data: Uint8Array) => {
    const stray = strayMessage(transport, streamId, ppId, data);
    if (stray !== undefined) {
      logger.debug("Ignored {stray} on SCTP stream {streamId} from the partner.", {
        stray,
        streamId,
      });
      return;
    }
    try {
      await receive.call(transport, streamId, ppId, data);
    } catch (error) {
      warnDropped(
        "Dropped a message from the partner on SCTP stream {streamId} that werift failed on: {error}",
        { streamId, error: String(error) },
      );
    }
  });
}

// A hostile partner can send bad input as fast as the link carries it: the
// first few drops are warnings, the rest go to the debug log.
const DROP_WARNINGS = 3;
let dropsWarned = 0;

function warnDropped(message: string, properties: Record<string, unknown>): void {
  if (dropsWarned >= DROP_WARNINGS) {
    logger.debug(message, properties);
    return;
  }
  dropsWarned++;
  logger.warn(
    dropsWarned === DROP_WARNINGS
      ? `${message} (further drops are logged at debug level)`
      : message,
    properties,
  );
}

/** What is wrong with a message no channel can take, or undefined for one werift handles. */
function strayMessage(
  transport: SctpTransportInternals,
  streamId: number,
  ppId: number,
  data: Uint8Array,
): string | undefined {
  const channel = transport.dataChannels[streamId];
  if (ppId === DCEP && data.length > 0) {
    if (data[0] !== DCEP_ACK || channel?.readyState === "connecting") return undefined;
    return channel === undefined
      ? "an open acknowledgement for no channel"
      : `an open acknowledgement for a channel that is ${channel.readyState}`;
  }
  // werift drops a message for no channel by itself.
  if (channel === undefined || MESSAGE_PROTOCOLS.has(ppId)) return undefined;
  return `a message of payload protocol ${ppId}`;
}

// How werift 0.25.2's SCTP association takes packets, white space collapsed:
// each one DTLS hands over goes to handleData() without waiting, and
// handleData() throws on a packet it cannot read (a wrong checksum, an
// unknown chunk type, an INIT with other chunks).
const HANDLE_DATA_CODE = "this.transport.onData = (buf) => { this.handleData(buf); };";
const PARSE_CODE = "const [, , verificationTag, chunks] = parsePacket2(data);";

/**
 * Makes werift's SCTP association drop a packet from the partner that it
 * cannot read, logging a warning, instead of throwing out of an event
 * handler, which ends the process.
 */
export const unreadablePacketsPatch: WeriftPatch<Module> = {
  isApplied(werift) {
    try {
      return isPatched(
        (sctpAssociationClass(werift).prototype as Record<string, unknown>).handleData,
      );
    } catch {
      return false;
    }
  },
  check(werift) {
    const association = sctpAssociationClass(werift);
    const handleData = (association.prototype as Record<string, unknown>).handleData;
    if (typeof handleData !== "function") {
      throw new WeriftMismatch("SCTP.handleData", "is missing");
    }
    if (
      !collapsedSource(association).includes(HANDLE_DATA_CODE) ||
      !collapsedSource(handleData).includes(PARSE_CODE)
    ) {
      throw new WeriftMismatch("SCTP association", "no longer takes packets as expected");
    }
  },
  apply(werift) {
    const proto = sctpAssociationClass(werift).prototype as Record<string, unknown>;
    const handleData = proto.handleData as (this: unknown, packet: Uint8Array) => Promise<void>;
    proto.handleData = markPatched(async function (this: unknown, packet: Uint8Array) {
      try {
        await handleData.call(this, packet);
      } catch (error) {
        warnDropped("Dropped an SCTP packet from the partner that werift failed on: {error}", {
          error: String(error),
        });
      }
    });
  },
};

/**
 * Applies {@link unreadablePacketsPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's SCTP association no longer looks as expected.
 */
export function withUnreadablePacketsDropped(werift: Module): void {
  applyPatches(werift, [unreadablePacketsPatch]);
}
