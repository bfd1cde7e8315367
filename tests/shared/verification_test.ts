import assert from "node:assert/strict";
import { sdpFingerprints, verificationCode } from "../../lib/shared/verification.js";

const SDP_A = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 " +
  "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n";
const SDP_B = "v=0\r\na=fingerprint:sha-256 " +
  "FF:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n";

Deno.test("verificationCode() is the same on both sides of a session", () => {
  assert.equal(verificationCode(SDP_A, SDP_B), verificationCode(SDP_B, SDP_A));
  assert.match(verificationCode(SDP_A, SDP_B) ?? "", /^\d{3} \d{3}$/);
});

Deno.test("verificationCode() changes when either fingerprint changes: a swap in the middle shows", () => {
  const intruder = SDP_B.replace("FF:8B", "FE:8B");
  // Each side sees its own certificate and the intruder's.
  assert.notEqual(verificationCode(SDP_A, intruder), verificationCode(SDP_B, SDP_A));
  assert.notEqual(verificationCode(intruder, SDP_A), verificationCode(SDP_A, SDP_B));
});

Deno.test("verificationCode() ignores case and line endings, and needs a fingerprint on each side", () => {
  assert.equal(
    verificationCode(SDP_A.toLowerCase().replaceAll("\r\n", "\n"), SDP_B),
    verificationCode(SDP_A, SDP_B),
  );
  assert.equal(verificationCode(SDP_A, "v=0\r\n"), undefined);
  assert.deepEqual(sdpFingerprints(SDP_A + SDP_A), [
    "sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
  ]);
});
