import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { createDtlsKeys } from "../../../lib/cli/werift/certificate.ts";

Deno.test({
  name: "createDtlsKeys() makes an ECDSA certificate with its private key",
  // Loading werift starts timers of its own that outlive the test.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    const keys = await createDtlsKeys(werift);
    assert.match(keys.certPem, /-----BEGIN CERTIFICATE-----/);
    assert.match(keys.keyPem, /PRIVATE KEY-----/);
    assert.deepEqual(keys.signatureHash, {
      signature: werift.SignatureAlgorithm.ecdsa_3,
      hash: werift.HashAlgorithm.sha256_4,
    });
  },
});
