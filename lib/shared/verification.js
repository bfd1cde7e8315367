// This module is browser compatible.
// @ts-check
/**
 * The short code two peers compare to know that no one sits between them.
 *
 * The signaling server carries the SDP, so a hostile server could swap each
 * side's DTLS certificate fingerprint for its own and relay everything. Each
 * peer then sees a different pair of fingerprints: its own real one and the
 * intruder's. The code is a digest of the two fingerprints of the session
 * (the local and the remote description's `a=fingerprint`), sorted so both
 * sides compute the same thing; equal codes on both screens mean both saw
 * the same two certificates, so the channel is end to end.
 *
 * @module
 */

import { Sha256 } from "./sha256.js";

/**
 * The `a=fingerprint` values of an SDP, normalised (`sha-256 AB:CD:…`), in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sdpFingerprints } from "./verification.js";
 * assert.deepEqual(
 *   sdpFingerprints("v=0\r\na=fingerprint:SHA-256 ab:cd\r\nm=application 9\r\n"),
 *   ["sha-256 AB:CD"],
 * );
 * ```
 *
 * @param {string} sdp
 * @returns {string[]}
 */
export function sdpFingerprints(sdp) {
  /** @type {string[]} */
  const found = [];
  for (const line of sdp.split(/\r?\n/)) {
    const match = /^a=fingerprint:(\S+)\s+([0-9A-Fa-f:]+)\s*$/.exec(line);
    if (!match) continue;
    const value = `${(match[1] ?? "").toLowerCase()} ${(match[2] ?? "").toUpperCase()}`;
    if (!found.includes(value)) found.push(value);
  }
  return found;
}

/**
 * The verification code of a session, from its local and remote SDP: six
 * digits shown as `123 456`, or `undefined` when either side has no
 * fingerprint. Both peers get the same code; a changed fingerprint gives
 * another (one chance in a million of the same).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verificationCode } from "./verification.js";
 * const a = "a=fingerprint:sha-256 AA:01\r\n";
 * const b = "a=fingerprint:sha-256 BB:02\r\n";
 * assert.equal(verificationCode(a, b), verificationCode(b, a));
 * assert.match(verificationCode(a, b) ?? "", /^\d{3} \d{3}$/);
 * assert.notEqual(verificationCode(a, b), verificationCode(a, "a=fingerprint:sha-256 BB:03\r\n"));
 * assert.equal(verificationCode(a, "v=0\r\n"), undefined);
 * ```
 *
 * @param {string} localSdp
 * @param {string} remoteSdp
 * @returns {string | undefined}
 */
export function verificationCode(localSdp, remoteSdp) {
  const local = sdpFingerprints(localSdp);
  const remote = sdpFingerprints(remoteSdp);
  if (local.length === 0 || remote.length === 0) return undefined;
  const sides = [local.join(","), remote.join(",")].sort();
  const digest = new Sha256()
    .update(new TextEncoder().encode(`switchboard verification\n${sides.join("\n")}`))
    .digest();
  const number = new DataView(digest.buffer).getUint32(0) % 1_000_000;
  const digits = String(number).padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}
