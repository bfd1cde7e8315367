// This module is browser compatible.
// @ts-check
/**
 * SPAKE2 (RFC 9382), ciphersuite SPAKE2-P256-SHA256-HKDF-HMAC, for pairing
 * two peers by a short code.
 *
 * Two peers that only share a short code (read from one screen, typed on the
 * other) meet through the signaling server, which we do not trust: it could
 * read, drop or rewrite every message. Hashing the code and sending the hash
 * would let anyone who sees it try every code offline, and a short code falls
 * in seconds. SPAKE2 turns the code into a strong shared key instead: each
 * side sends one masked elliptic-curve point, and a party that does not know
 * the code learns nothing it could test guesses against offline. Someone in
 * the middle gets exactly one guess per exchange, checked by the key
 * confirmation that follows, so a one-use code of a few digits is enough.
 *
 * The protocol follows RFC 9382 to the letter so that it can be checked
 * against the RFC's test vectors, and the curve, hash, KDF and MAC are the
 * audited `@noble` ones (see `deps.js`): nothing here does arithmetic of its
 * own beyond encoding lengths. P-256 has cofactor 1, so a point that decodes
 * on the curve is in the prime-order group and no cofactor clearing is needed.
 *
 * A run: each side derives `w` from the code ({@linkcode passwordScalar}),
 * calls {@linkcode spake2Start} and sends its `share`; on the peer's share it
 * calls `finish`, sends its `confirmation`, and trusts `ke` only once
 * `verify` accepts the peer's confirmation.
 *
 * @module
 */

import { hkdf, hmac, p256, sha256 } from "./deps.js";

/** @typedef {typeof p256.Point.BASE} P256Point */

/**
 * What {@linkcode spake2Start} returns: this side's message, and the step
 * that takes the peer's.
 *
 * @typedef {object} Spake2State
 * @property {Uint8Array} share This side's message, `pA` or `pB`: an
 *   uncompressed SEC1 point, 65 bytes.
 * @property {(peerShare: Uint8Array, ids: Spake2Ids) => Spake2Keys} finish
 *   Takes the peer's share and the identities; throws a `RangeError` when the
 *   share is not a point of P-256, is the identity, or leads to the identity
 *   as the shared point. Once it has returned keys, a second call throws.
 */

/**
 * The identities of the two sides (each may be empty) and the associated
 * data, all of which the two sides must agree on byte for byte.
 *
 * @typedef {object} Spake2Ids
 * @property {Uint8Array} idA The identity of the side in role "A".
 * @property {Uint8Array} idB The identity of the side in role "B".
 * @property {Uint8Array} [aad] Additional authenticated data, bound into the
 *   confirmation keys (empty when absent).
 */

/**
 * The outcome of an exchange.
 *
 * @typedef {object} Spake2Keys
 * @property {Uint8Array} ke The shared secret `Ke`, 16 bytes. Only to be used
 *   once `verify` has accepted the peer's confirmation.
 * @property {Uint8Array} confirmation This side's confirmation MAC, to send to
 *   the peer: `cA` for A, `cB` for B (32 bytes).
 * @property {(peerConfirmation: Uint8Array) => boolean} verify Whether the
 *   peer's confirmation is the expected one, compared in constant time.
 * @property {Uint8Array} transcript The transcript `TT` the keys come from.
 */

/**
 * The key schedule of an exchange (RFC 9382, section 4), every key of it.
 *
 * @typedef {object} Spake2Schedule
 * @property {Uint8Array} ke `Ke`, the first half of `Hash(TT)`: the shared secret.
 * @property {Uint8Array} ka `Ka`, the second half: only for the confirmation keys.
 * @property {Uint8Array} kcA `KcA`, A's MAC key.
 * @property {Uint8Array} kcB `KcB`, B's MAC key.
 * @property {Uint8Array} cA `cA = MAC(KcA, TT)`, A's confirmation.
 * @property {Uint8Array} cB `cB = MAC(KcB, TT)`, B's confirmation.
 */

const Point = p256.Point;
const ORDER = Point.Fn.ORDER;
const SHARE_LENGTH = 65;
const encoder = new TextEncoder();
const CONFIRMATION_INFO = encoder.encode("ConfirmationKeys");
const PASSWORD_INFO = encoder.encode("switchboard spake2 w");
// 16 bytes more than the 32 of the order leaves a bias of about 2^-128
// after the reduction (the RFC and NIST SP 800-56A ask for at least 8).
const WIDE_SCALAR_LENGTH = 48;

/**
 * RFC 9382's `M` for P-256, as a noble `p256.Point`: `pA = x*P + w*M`. Its
 * discrete logarithm is unknown (the RFC derives it by hashing a seed), which
 * is what makes `w*M` a mask that only a holder of `w` can remove.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SPAKE2_M } from "./spake2.js";
 * assert.equal(
 *   SPAKE2_M.toHex(true),
 *   "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f",
 * );
 * ```
 */
export const SPAKE2_M = Point.fromHex(
  "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f",
);

/**
 * RFC 9382's `N` for P-256, as a noble `p256.Point`: `pB = y*P + w*N`.
 * Distinct from {@linkcode SPAKE2_M} so that a share cannot be reflected
 * back to the side that sent it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SPAKE2_N } from "./spake2.js";
 * assert.equal(
 *   SPAKE2_N.toHex(true),
 *   "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49",
 * );
 * ```
 */
export const SPAKE2_N = Point.fromHex(
  "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49",
);

/**
 * The password scalar `w` of a code: HKDF-SHA256 of the code (salted with
 * the context, such as the session's name, so that the same code in another
 * session gives another `w`), 48 bytes reduced into `[1, n-1]`.
 *
 * RFC 9382 asks for a memory-hard function here (such as scrypt), to slow
 * down someone who got hold of a transcript and tries passwords offline. Our
 * code is not a long-lived password: it is used for one exchange, and an
 * attacker can only test it online, one guess per exchange, which the
 * confirmation exposes. A memory-hard function would not change that and
 * would cost every page load, so a plain KDF is used on purpose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { passwordScalar } from "./spake2.js";
 * const code = new TextEncoder().encode("7-tidy-orbit");
 * const context = new TextEncoder().encode("session 42");
 * assert.equal(passwordScalar(code, context), passwordScalar(code, context));
 * assert.ok(passwordScalar(code, context) > 0n);
 * ```
 *
 * @param {Uint8Array} password The code, as bytes.
 * @param {Uint8Array} context What the exchange is bound to.
 * @returns {bigint}
 */
export function passwordScalar(password, context) {
  return wideScalar(hkdf(sha256, password, context, PASSWORD_INFO, WIDE_SCALAR_LENGTH));
}

/**
 * Starts an exchange in one role: "A" for the side that sends first, "B" for
 * the other (each side needs a different role: the roles pick the mask, `M`
 * or `N`, and the order of the transcript).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { passwordScalar, spake2Start } from "./spake2.js";
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
 * const ids = { idA: bytes("sender"), idB: bytes("receiver") };
 * const a = spake2Start("A", w);
 * const b = spake2Start("B", w);
 * const keysA = a.finish(b.share, ids);
 * const keysB = b.finish(a.share, ids);
 * assert.ok(keysA.verify(keysB.confirmation));
 * assert.ok(keysB.verify(keysA.confirmation));
 * assert.deepEqual(keysA.ke, keysB.ke);
 * ```
 *
 * @param {"A" | "B"} role
 * @param {bigint} w The password scalar, `0 < w < n` (see {@linkcode passwordScalar}).
 * @param {bigint} [random] This side's secret scalar (`x` or `y`), `0 < random < n`.
 *   Only for tests with known vectors: by default it is drawn from the
 *   platform's cryptographic random source, and a reused one gives the keys away.
 * @returns {Spake2State}
 */
export function spake2Start(role, w, random) {
  if (role !== "A" && role !== "B") throw new RangeError('SPAKE2 role must be "A" or "B"');
  if (!isScalar(w)) throw new RangeError("SPAKE2 password scalar is out of range");
  if (random !== undefined && !isScalar(random)) {
    throw new RangeError("SPAKE2 random scalar is out of range");
  }
  const secret = random ?? randomScalar();
  const ownMask = role === "A" ? SPAKE2_M : SPAKE2_N;
  const peerMask = role === "A" ? SPAKE2_N : SPAKE2_M;
  const share = Point.BASE.multiply(secret).add(ownMask.multiply(w)).toBytes(false);
  // Computed now, not when the peer's share comes: a caller that starts
  // ahead of time takes this multiplication off the exchange's critical path.
  const peerMasked = peerMask.multiply(w);
  let finished = false;

  return {
    share: share.slice(),
    finish(peerShare, ids) {
      // One peer share per start: each finish is a guess an attacker in the
      // middle gets to check against our confirmation.
      if (finished) throw new Error("SPAKE2 exchange is already finished");
      const peer = decodeShare(peerShare);
      const unmasked = peer.subtract(peerMasked);
      // The peer's share was exactly w times the mask: K would be the
      // identity whatever our secret, which RFC 9382 says to abort on.
      if (unmasked.is0()) throw new RangeError("SPAKE2 peer share gives an identity key");
      const k = unmasked.multiply(secret);
      // Unreachable in a prime-order group with a non-zero secret; kept so
      // that the abort does not rest on that argument alone.
      if (k.is0()) throw new RangeError("SPAKE2 peer share gives an identity key");
      const peerBytes = peer.toBytes(false);
      const transcript = spake2Transcript(
        ids.idA,
        ids.idB,
        role === "A" ? share : peerBytes,
        role === "A" ? peerBytes : share,
        k.toBytes(false),
        w,
      );
      const schedule = spake2Derive(transcript, ids.aad);
      const expected = role === "A" ? schedule.cB : schedule.cA;
      finished = true;
      return {
        ke: schedule.ke,
        confirmation: role === "A" ? schedule.cA : schedule.cB,
        verify: (peerConfirmation) => constantTimeEqual(peerConfirmation, expected),
        transcript,
      };
    },
  };
}

/**
 * The key schedule of RFC 9382 (section 4) from a transcript `TT`:
 * `Ke || Ka = SHA256(TT)`, `KcA || KcB = HKDF(salt = nil, ikm = Ka,
 * info = "ConfirmationKeys" || AAD)`, `cA = HMAC(KcA, TT)`,
 * `cB = HMAC(KcB, TT)`. `finish` uses it; it is exported so that tests can
 * check the intermediate keys against the RFC's vectors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spake2Derive } from "./spake2.js";
 * const keys = spake2Derive(new Uint8Array([1, 2, 3]));
 * assert.equal(keys.ke.length, 16);
 * assert.equal(keys.cA.length, 32);
 * assert.notDeepEqual(keys.cA, spake2Derive(new Uint8Array([1, 2, 3]), new Uint8Array([9])).cA);
 * ```
 *
 * @param {Uint8Array} transcript `TT`.
 * @param {Uint8Array} [aad] Additional authenticated data (empty when absent).
 * @returns {Spake2Schedule}
 */
export function spake2Derive(transcript, aad) {
  const hash = sha256(transcript);
  const ke = hash.slice(0, 16);
  const ka = hash.slice(16, 32);
  const info = concat([CONFIRMATION_INFO, aad ?? new Uint8Array(0)]);
  const kc = hkdf(sha256, ka, undefined, info, 32);
  const kcA = kc.slice(0, 16);
  const kcB = kc.slice(16, 32);
  return {
    ke,
    ka,
    kcA,
    kcB,
    cA: hmac(sha256, kcA, transcript),
    cB: hmac(sha256, kcB, transcript),
  };
}

/**
 * `TT` (RFC 9382, section 3.3): every field preceded by its length as an
 * 8-byte little-endian number. An empty identity stays in as a zero length,
 * as in the RFC's vectors, so that the fields cannot slide into each other.
 *
 * @param {Uint8Array} idA
 * @param {Uint8Array} idB
 * @param {Uint8Array} pA
 * @param {Uint8Array} pB
 * @param {Uint8Array} k
 * @param {bigint} w
 * @returns {Uint8Array}
 */
function spake2Transcript(idA, idB, pA, pB, k, w) {
  /** @type {Uint8Array[]} */
  const parts = [];
  for (const field of [idA, idB, pA, pB, k, Point.Fn.toBytes(w)]) {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(field.length), true);
    parts.push(length, field);
  }
  return concat(parts);
}

/**
 * The peer's share as a point, or a `RangeError`. Only the uncompressed form
 * is accepted: the transcript holds the share's bytes, and one encoding per
 * point keeps both sides' transcripts equal.
 *
 * @param {Uint8Array} bytes
 * @returns {P256Point}
 */
function decodeShare(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SHARE_LENGTH || bytes[0] !== 0x04) {
    throw new RangeError("SPAKE2 peer share is not an uncompressed P-256 point");
  }
  /** @type {P256Point} */
  let point;
  try {
    // Checks that the coordinates are field elements and on the curve.
    point = Point.fromBytes(bytes);
  } catch {
    throw new RangeError("SPAKE2 peer share is not a point on P-256");
  }
  if (point.is0()) throw new RangeError("SPAKE2 peer share is the identity");
  return point;
}

/**
 * @param {unknown} value
 * @returns {value is bigint}
 */
function isScalar(value) {
  return typeof value === "bigint" && value > 0n && value < ORDER;
}

/**
 * A uniform scalar in `[1, n-1]` from the platform's cryptographic random
 * source (Web Crypto, in browsers and Deno alike).
 *
 * @returns {bigint}
 */
function randomScalar() {
  return wideScalar(crypto.getRandomValues(new Uint8Array(WIDE_SCALAR_LENGTH)));
}

/**
 * Reduces wide bytes into `[1, n-1]`; mod (n-1) then + 1 rather than mod n so
 * that 0, which the protocol cannot use, never comes out.
 *
 * @param {Uint8Array} bytes
 * @returns {bigint}
 */
function wideScalar(bytes) {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value % (ORDER - 1n) + 1n;
}

/**
 * Compares without an early exit, so that the time taken does not tell an
 * attacker how many leading bytes of a forged confirmation were right.
 *
 * @param {Uint8Array} actual
 * @param {Uint8Array} expected
 * @returns {boolean}
 */
function constantTimeEqual(actual, expected) {
  if (!(actual instanceof Uint8Array) || actual.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) {
    difference |= (actual[i] ?? 0) ^ (expected[i] ?? 0);
  }
  return difference === 0;
}

/**
 * @param {Uint8Array[]} parts
 * @returns {Uint8Array}
 */
function concat(parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
