import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { createDtlsKeys } from "../../../lib/cli/werift/certificate.ts";
import { fixWerift } from "../../../lib/cli/werift/fixes.ts";
import { tuneWerift } from "../../../lib/cli/werift/tuning.ts";
import { loopbackPeerConfig, warmUp } from "../../../lib/cli/werift/warm_up.ts";

// werift leaves timers and sockets behind after close(); see tuning_test.ts.
const WEBRTC = { sanitizeOps: false, sanitizeResources: false } as const;

const werift = await loadWerift();
// As in the peer: without it werift asks a public STUN server first.
fixWerift(werift);

Deno.test({
  name: "warmUp() completes a throw-away connection with tuned werift",
  ...WEBRTC,
  async fn() {
    tuneWerift(werift);
    const keys = await createDtlsKeys(werift);
    assert.equal(await warmUp(werift, keys), true);
  },
});

Deno.test({
  name: "warmUp() resolves false, never rejects, when it runs out of time",
  ...WEBRTC,
  async fn() {
    const keys = await createDtlsKeys(werift);
    assert.equal(await warmUp(werift, keys, 0), false);
  },
});

Deno.test("loopbackPeerConfig() offers 127.0.0.1 over IPv4 with no ICE server, and the keys given", async () => {
  assert.deepEqual(loopbackPeerConfig(), {
    iceServers: [],
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceUseIpv6: false,
  });
  const keys = await createDtlsKeys(werift);
  assert.equal(loopbackPeerConfig(keys).dtls?.keys, keys);
});
