/**
 * The DTLS certificate of the command-line peer, made once ahead of time:
 * werift would otherwise make one (about 50 ms) on each connection's first use.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";

/** A certificate and its private key, as werift takes them in `dtls: { keys }`. */
export type DtlsKeys = Awaited<
  ReturnType<Werift["CipherContext"]["createSelfSignedCertificateWithKey"]>
>;

/**
 * Makes the ECDSA P-256 certificate werift would otherwise make on first use
 * (about 50 ms), so it can be made while nothing else is waiting for it.
 *
 * @param werift The module returned by `loadWerift()`.
 * @returns Keys to pass as `dtls: { keys }` to every `RTCPeerConnection`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWerift } from "../../runtime/deps.ts";
 * import { createDtlsKeys } from "./certificate.ts";
 *
 * const keys = await createDtlsKeys(await loadWerift());
 * assert.match(keys.certPem, /BEGIN CERTIFICATE/);
 * ```
 */
export function createDtlsKeys(werift: Werift): Promise<DtlsKeys> {
  return werift.CipherContext.createSelfSignedCertificateWithKey(
    { signature: werift.SignatureAlgorithm.ecdsa_3, hash: werift.HashAlgorithm.sha256_4 },
    werift.NamedCurveAlgorithm.secp256r1_23,
  );
}
