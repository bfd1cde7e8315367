// This module is browser compatible.
// @ts-check
/**
 * Remembered devices: two peers that once paired by code, and chose to
 * remember each other, meet again without a code and prove who they are
 * with the device keys they saved then.
 *
 * - Each device has a long-term ECDSA P-256 key pair (Web Crypto; the page
 *   keeps its private key non-extractable in IndexedDB, the terminal in a
 *   file of its own).
 * - At the pairing by code, each side sends its public key MACed under the
 *   exchange's key ({@linkcode identityMac}), so nobody in between can put
 *   another there; both derive the same **link secret** from the exchange.
 * - To meet, both send the server the same **rendezvous**, an HMAC of the
 *   link secret ({@linkcode rendezvousOf}): the server can match them, and
 *   learns nothing else.
 * - Once paired, each side signs its descriptions' DTLS fingerprints with
 *   its device key, and checks the partner's against the key it saved
 *   ({@linkcode deviceBinding}). A key that is not the saved one is refused,
 *   loudly, as SSH refuses a changed host key.
 *
 * @module
 */

import { hkdf, hmac, sha256 } from "./deps.js";
import { TAMPERED } from "./code_exchange.js";
import { sdpFingerprints } from "./verification.js";
import { fromHex, toHex } from "./hex.js";

const ECDSA = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING = { name: "ECDSA", hash: "SHA-256" };
const encoder = new TextEncoder();
// `<thumbprint of the signer's key>.<ECDSA P-256 signature, r || s>`, nothing else.
const PROOF = /^([0-9a-f]{32})\.([0-9a-f]{128})$/;

/**
 * Why a remembered device's description is refused when it was signed by
 * another key than the one saved for it.
 *
 * @param {string} name The name the device was remembered under.
 * @returns {string}
 */
export function keyChanged(name) {
  return `the key of ${name} is not the one you remembered`;
}

/** How long a device name may be, in characters. */
export const MAX_DEVICE_NAME = 40;

/**
 * Why `name` cannot name a device, or `undefined` when it can: 1 to 40
 * characters, no control or text-reordering characters, not only spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { badDeviceName } from "./device_binding.js";
 * assert.equal(badDeviceName("Ana's phone"), undefined);
 * assert.match(badDeviceName("bad\u0007") ?? "", /control/);
 * ```
 *
 * @param {string} name
 * @returns {string | undefined}
 */
export function badDeviceName(name) {
  if (name.trim() === "") return "a device needs a name";
  if ([...name].length > MAX_DEVICE_NAME) return `a name has at most ${MAX_DEVICE_NAME} characters`;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name)) {
    return "a name cannot hold control characters";
  }
  return undefined;
}

/**
 * A new device key pair. The private key is non-extractable unless the
 * caller must write it to a file itself (the terminal).
 *
 * @param {boolean} [extractable]
 * @returns {Promise<CryptoKeyPair>}
 */
export function newDeviceKeys(extractable = false) {
  return /** @type {Promise<CryptoKeyPair>} */ (
    crypto.subtle.generateKey(ECDSA, extractable, ["sign", "verify"])
  );
}

/**
 * A public key as the devices exchange it: 65 bytes (uncompressed point), in hex.
 *
 * @param {CryptoKey} publicKey
 * @returns {Promise<string>}
 */
export async function publicKeyHex(publicKey) {
  return toHex(new Uint8Array(await crypto.subtle.exportKey("raw", publicKey)));
}

/**
 * The short fingerprint of a device's public key people can compare, and
 * the proof names: the first 16 bytes of its SHA-256, in hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyThumbprint } from "./device_binding.js";
 * assert.match(keyThumbprint("04" + "ab".repeat(64)), /^[0-9a-f]{32}$/);
 * ```
 *
 * @param {string} publicHex
 * @returns {string}
 */
export function keyThumbprint(publicHex) {
  return toHex(sha256(fromHex(publicHex)).subarray(0, 16));
}

/**
 * The secrets both sides of a pairing by code derive from its key, for
 * remembering each other: the MAC key of their device keys, and the link
 * secret their rendezvous comes from.
 *
 * @param {Uint8Array} ke The exchange's shared key.
 * @returns {{ macKey: Uint8Array, linkSecret: Uint8Array }}
 */
export function rememberingKeys(ke) {
  return {
    macKey: hkdf(sha256, ke, undefined, encoder.encode("switchboard device keys"), 32),
    linkSecret: hkdf(sha256, ke, undefined, encoder.encode("switchboard remembered device"), 32),
  };
}

/**
 * The MAC of a device key sent by the side in `role`, under the exchange's
 * MAC key: hex HMAC-SHA-256.
 *
 * @param {Uint8Array} macKey
 * @param {boolean} byInitiator Whether the key is the initiator's.
 * @param {string} publicHex
 * @returns {string}
 */
export function identityMac(macKey, byInitiator, publicHex) {
  const role = byInitiator ? "initiator" : "responder";
  return toHex(hmac(sha256, macKey, encoder.encode(`${role}\n${publicHex}`)));
}

/**
 * Where two remembered devices meet on the server: 64 hex digits, an HMAC
 * of their link secret. The same on both sides; nothing to anyone else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rendezvousOf } from "./device_binding.js";
 * const secret = new Uint8Array(32).fill(1);
 * assert.match(rendezvousOf(secret), /^[0-9a-f]{64}$/);
 * assert.equal(rendezvousOf(secret), rendezvousOf(new Uint8Array(32).fill(1)));
 * ```
 *
 * @param {Uint8Array} linkSecret
 * @returns {string}
 */
export function rendezvousOf(linkSecret) {
  return toHex(hmac(sha256, linkSecret, encoder.encode("switchboard rendezvous")));
}

/**
 * Signs this side's descriptions with its device key and checks the
 * partner's against the key saved for it. A proof is
 * `<thumbprint of the signer's key>.<ECDSA signature>` over the author's
 * role and its descriptions' fingerprints.
 *
 * @param {object} options
 * @param {CryptoKey} options.privateKey This device's signing key.
 * @param {string} options.publicHex This device's public key.
 * @param {string} options.partnerHex The partner's public key, as saved.
 * @param {string} options.partnerName What the partner was remembered as, for the refusal.
 * @param {boolean} options.initiator Whether this side is the initiator.
 * @returns {import("./code_exchange.js").FingerprintBinding}
 */
export function deviceBinding({ privateKey, publicHex, partnerHex, partnerName, initiator }) {
  const mine = keyThumbprint(publicHex);
  const theirs = keyThumbprint(partnerHex);
  /** @type {Promise<CryptoKey> | undefined} */
  let partnerKey;
  return {
    proof: async (sdp) => {
      const signature = await crypto.subtle.sign(SIGNING, privateKey, signed(sdp, initiator));
      return `${mine}.${toHex(new Uint8Array(signature))}`;
    },
    check: async (sdp, proof) => {
      const parts = typeof proof === "string" ? PROOF.exec(proof) : null;
      if (parts === null || sdpFingerprints(sdp).length === 0) return TAMPERED;
      const [, thumbprint = "", signature = ""] = parts;
      if (thumbprint !== theirs) return keyChanged(partnerName);
      partnerKey ??= crypto.subtle.importKey("raw", fromHex(partnerHex), ECDSA, false, ["verify"]);
      let valid;
      try {
        valid = await crypto.subtle.verify(
          SIGNING,
          await partnerKey,
          fromHex(signature),
          signed(sdp, !initiator),
        );
      } catch {
        return `the key saved for ${partnerName} cannot be read`;
      }
      return valid || TAMPERED;
    },
  };
}

/**
 * @param {string} sdp
 * @param {boolean} byInitiator
 */
function signed(sdp, byInitiator) {
  const role = byInitiator ? "initiator" : "responder";
  return encoder.encode(`switchboard device\n${role}\n${sdpFingerprints(sdp).join(",")}`);
}
