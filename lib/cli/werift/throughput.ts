/**
 * Makes a data channel of the WebRTC library (werift 0.25.2) carry more per
 * second of CPU: where a file transfer's time went, measured, and what each
 * patch takes away.
 *
 * - `udp_reads.ts`: Deno's node:dgram allocated a zeroed 64 KiB buffer for
 *   every datagram read; werift's sockets now read into 16 KiB.
 * - `sctp_sacks.ts`: werift acknowledged every SCTP packet at once; now
 *   every second one, as RFC 9260 asks.
 * - `sctp_rto.ts`: a loss that fast retransmit did not recover stalled the
 *   channel for at least a second; now 400 ms, as Chromium's SCTP has it.
 *
 * Each goes through `patch.ts`, which checks werift's source before changing
 * it.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import { applyPatches, type WeriftPatch } from "./patch.ts";
import { shorterRtoPatch } from "./sctp_rto.ts";
import { delayedSacksPatch } from "./sctp_sacks.ts";
import { udpReadsPatch } from "./udp_reads.ts";

/** The part of werift the throughput patches read. */
export type ThroughputModule = Pick<Werift, "RTCSctpTransport" | "UdpTransport">;

/** Every throughput patch, in the order they are applied. */
export const THROUGHPUT: readonly WeriftPatch<ThroughputModule>[] = [
  udpReadsPatch,
  delayedSacksPatch,
  shorterRtoPatch,
];

/**
 * Applies every throughput patch; idempotent. Call it once at start-up,
 * before the first connection. All are checked before any is applied.
 *
 * @throws {WeriftMismatch} When werift's code is not what a patch expects.
 *
 * @example Applying twice is harmless
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWerift } from "../../runtime/deps.ts";
 * import { speedUpTransfers, THROUGHPUT } from "./throughput.ts";
 *
 * const werift = await loadWerift();
 * speedUpTransfers(werift);
 * speedUpTransfers(werift);
 * assert.ok(THROUGHPUT.every((patch) => patch.isApplied(werift)));
 * ```
 */
export function speedUpTransfers(werift: ThroughputModule): void {
  applyPatches(werift, THROUGHPUT);
}
