/**
 * Fixes to werift 0.25.2 that its options cannot reach, applied together.
 * Each is a patch of its own module, made with `patch.ts`: it checks that
 * the code it changes still looks as expected and throws otherwise, so an
 * upgrade of the library cannot silently undo it.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import { duplicateFlightsPatch } from "./dtls_flights.ts";
import { hostSocketsPatch } from "./host_sockets.ts";
import { applyPatches, type WeriftPatch } from "./patch.ts";
import { strayChannelMessagesPatch, unreadablePacketsPatch } from "./sctp_input.ts";
import { oneSendLoopPatch } from "./send_loop.ts";
import { earlyStreamReusePatch } from "./stream_ids.ts";
import { defaultStunPatch } from "./stun_default.ts";

/** The part of werift the fixes read. */
export type FixedModule = Pick<
  Werift,
  "Connection" | "DtlsClient" | "RTCSctpTransport" | "StunProtocol" | "UdpTransport"
>;

/** Every fix, in the order they are applied. */
export const FIXES: readonly WeriftPatch<FixedModule>[] = [
  defaultStunPatch,
  duplicateFlightsPatch,
  hostSocketsPatch,
  strayChannelMessagesPatch,
  unreadablePacketsPatch,
  earlyStreamReusePatch,
  // After the stream ids: it wraps whatever sends queued messages.
  oneSendLoopPatch,
];

/**
 * Applies every fix; idempotent. All are checked before any is applied.
 *
 * @throws {WeriftMismatch} When werift's code is not what a fix expects.
 */
export function fixWerift(werift: FixedModule): void {
  applyPatches(werift, FIXES);
}
