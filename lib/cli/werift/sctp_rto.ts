/**
 * werift's SCTP waits at least 400 ms, not a second, before it sends again
 * what a lost packet carried and nothing else has recovered.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  collapsedSource,
  isPatched,
  markPatched,
  WeriftMismatch,
  type WeriftPatch,
} from "./patch.ts";
import { sctpAssociationClass } from "./sctp_association.ts";

/** The part of werift {@link shorterRtoPatch} reads. */
type Module = Pick<Werift, "RTCSctpTransport">;

/**
 * The least retransmission timeout, in seconds: WebRTC's own SCTP stack
 * (dcsctp, in Chromium) takes 400 ms, above a peer's 200 ms delayed
 * acknowledgement. RFC 9260 suggests one second for the open Internet; a
 * data channel's congestion control is SCTP's all the same, and the timeout
 * still follows the measured round trip (`srtt + 4 × rttvar`) above it.
 */
export const RTO_MIN_SECONDS = 0.4;

// How werift 0.25.2's association sets its timeout from a round-trip sample,
// white space collapsed: clamped to SCTP_RTO_MIN, one second. On loopback,
// where the round trip is a millisecond, every loss that fast retransmit
// does not recover (a lost last packet, a lost retransmission) stalls the
// channel for that second: one such stall was a fifth of a 32 MiB transfer
// from the terminal to a page.
const UPDATE_RTO_CODE =
  "this.rto = Math.max( SCTP_RTO_MIN, Math.min(this.srtt + 4 * this.rttvar, SCTP_RTO_MAX) );";

interface Association {
  rto: number;
  srtt?: number;
  rttvar?: number;
}

/** Makes werift's SCTP retransmission timeout at least {@link RTO_MIN_SECONDS}, not 1 s. */
export const shorterRtoPatch: WeriftPatch<Module> = {
  isApplied(werift) {
    try {
      return isPatched(
        (sctpAssociationClass(werift).prototype as Record<string, unknown>).updateRto,
      );
    } catch {
      return false;
    }
  },
  check(werift) {
    const association = sctpAssociationClass(werift);
    const updateRto = (association.prototype as Record<string, unknown>).updateRto;
    if (typeof updateRto !== "function") {
      throw new WeriftMismatch("SCTP.updateRto", "is missing");
    }
    if (!collapsedSource(updateRto).includes(UPDATE_RTO_CODE)) {
      throw new WeriftMismatch("SCTP.updateRto", "no longer sets the timeout as expected");
    }
  },
  apply(werift) {
    const proto = sctpAssociationClass(werift).prototype as Record<string, unknown>;
    const updateRto = proto.updateRto as (this: Association, sample: number) => void;
    proto.updateRto = markPatched(function (this: Association, sample: number) {
      updateRto.call(this, sample);
      // werift's own clamp with the lower floor (its ceiling is in this.rto
      // already): srtt and rttvar are the ones the call above just set.
      const measured = (this.srtt ?? 0) + 4 * (this.rttvar ?? 0);
      this.rto = Math.max(RTO_MIN_SECONDS, Math.min(measured, this.rto));
    });
  },
};

/**
 * Applies {@link shorterRtoPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's SCTP association no longer sets its timeout as expected.
 */
export function withShorterRto(werift: Module): void {
  applyPatches(werift, [shorterRtoPatch]);
}
