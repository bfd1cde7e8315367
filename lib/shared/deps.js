// This module is browser compatible.
/**
 * The third-party modules the shared code (server, terminal and page alike)
 * uses, pinned. Deno loads them from npm; the browser cannot, so the server
 * serves the page one bundle of exactly these exports at this module's path
 * (`lib/vendor/shared_deps.js`, made by `deno task vendor`; a test rebuilds
 * it and fails when it differs). Only what the code uses is exported, so the
 * bundle stays small.
 *
 * - `@noble/curves`, `@noble/hashes`: audited elliptic curves and hashes,
 *   for pairing by code.
 * - `@paulmillr/qr`: QR codes for the code's link.
 *
 * @module
 */

export { p256 } from "npm:@noble/curves@2.4.0/nist.js";
export { sha256 } from "npm:@noble/hashes@2.4.0/sha2.js";
export { hkdf } from "npm:@noble/hashes@2.4.0/hkdf.js";
export { hmac } from "npm:@noble/hashes@2.4.0/hmac.js";
export { encodeQR } from "npm:@paulmillr/qr@0.3.0";
