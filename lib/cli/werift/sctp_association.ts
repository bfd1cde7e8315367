/**
 * werift's SCTP internals as the data channel fixes read them, and the
 * association class werift does not export.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import { WeriftMismatch } from "./patch.ts";

/** werift's SCTP association state ESTABLISHED. */
export const ESTABLISHED = 4;

/** A data channel, as far as the fixes read it. */
export interface ChannelInternals {
  /** Its SCTP stream id, once it has one. */
  id?: number;
  /** `connecting`, `open`, `closing` or `closed`. */
  readyState: string;
  /** Gives it a stream id. */
  setId(id: number): void;
}

/** How werift's transport takes what arrives on a stream. */
export type Receive = (streamId: number, ppId: number, data: Uint8Array) => Promise<void>;

/** werift's SCTP association, as far as the fixes read it. */
export interface SctpAssociation {
  /** {@link ESTABLISHED} once the association is up. */
  associationState: number;
  /** Streams of ours waiting to be reset. */
  reconfigQueue: number[];
  /** The reset of ours under way. */
  reconfigRequest?: { streams: number[] };
  /** Outgoing streams in use. */
  outboundStreamSeq: Record<number, number>;
  /** Incoming streams in use. */
  inboundStreams: Record<number, unknown>;
}

/** werift's `RTCSctpTransport`, as far as the fixes read it. */
export interface SctpTransportInternals {
  /** Its association. */
  sctp: SctpAssociation;
  /** Its channels by stream id. */
  dataChannels: Record<number, ChannelInternals | undefined>;
  /** The first stream id of this side's parity. */
  dataChannelId?: number;
  /** Channels waiting to be opened. */
  dataChannelQueue: [ChannelInternals, number, Uint8Array][];
  /** What it hands arriving messages to. */
  datachannelReceive: Receive;
}

/**
 * werift's SCTP association class, which it does not export: the class of
 * the association a throw-away transport makes for a stand-in DTLS transport.
 *
 * @throws {WeriftMismatch} When the transport no longer makes one that way.
 */
export function sctpAssociationClass(
  werift: Pick<Werift, "RTCSctpTransport">,
): { prototype: unknown } {
  try {
    const probe = new werift.RTCSctpTransport() as unknown as {
      setDtlsTransport(dtls: unknown): void;
      sctp: { constructor: { prototype: unknown } };
    };
    probe.setDtlsTransport({
      id: "switchboard probe",
      onStateChange: { subscribe: () => ({ unSubscribe() {} }) },
    });
    return probe.sctp.constructor;
  } catch (error) {
    throw new WeriftMismatch(
      "RTCSctpTransport",
      `no longer makes its SCTP association as expected (${String(error)})`,
    );
  }
}
