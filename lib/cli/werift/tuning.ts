/**
 * Makes a data channel of the WebRTC library (werift 0.25.2) open in tens of
 * milliseconds instead of a quarter of a second.
 *
 * Where the time goes, unpatched: a fixed 100 ms sleep before the DTLS client
 * says hello (`dtls_start.ts` takes it out), a 20 ms pacing sleep in the ICE
 * check loop that also delays noticing that ICE is done (`ice_pacing.ts`), a
 * 50 ms certificate made on first use (`certificate.ts` makes it ahead of
 * time), and a cold JIT on the first handshake of a process (`warm_up.ts`
 * runs one throw-away connection). None of it is reachable through werift's
 * options; the two patches go through `patch.ts`, which checks werift's
 * source before changing it.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import { dtlsStartPatch } from "./dtls_start.ts";
import { icePacingPatch } from "./ice_pacing.ts";
import { applyPatches } from "./patch.ts";

/** The patches {@link tuneWerift} applies. */
const TUNING = [dtlsStartPatch, icePacingPatch];

/**
 * Applies every speed patch: the DTLS start and the ICE pacing. Call it once
 * at start-up, before the first connection; it changes werift's classes for
 * the whole process. Idempotent. Every patch is checked before any is
 * applied, so a mismatch leaves werift untouched.
 *
 * @param werift The module returned by `loadWerift()`.
 * @throws {WeriftMismatch} When werift's code is not the code these patches
 *   were written for; the message names the method and what did not match.
 *
 * @example Tuning twice is harmless
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWerift } from "../../runtime/deps.ts";
 * import { isWeriftTuned, tuneWerift } from "./tuning.ts";
 *
 * const werift = await loadWerift();
 * tuneWerift(werift);
 * tuneWerift(werift);
 * assert.equal(isWeriftTuned(werift), true);
 * ```
 */
export function tuneWerift(werift: Werift): void {
  applyPatches(werift, TUNING);
}

/**
 * Tells whether every patch of {@link tuneWerift} is in place.
 *
 * @param werift The module returned by `loadWerift()`.
 * @returns `true` once {@link tuneWerift} has run on this module.
 */
export function isWeriftTuned(werift: Werift): boolean {
  return TUNING.every((patch) => patch.isApplied(werift));
}
