import assert from "node:assert/strict";
import { loadWerift } from "../lib/deps.ts";
import { peerConfig, withoutDefaultStun } from "../lib/webrtc/werift_peer.ts";

const LOOPBACK = { family: "IPv4" as const, address: "127.0.0.1" };
const LAN = { family: "IPv4" as const, address: "192.168.1.20" };

Deno.test("peerConfig() adds loopback candidates only on a host with nothing else", () => {
  const base = { ownIceServers: [], relayOnly: false };
  assert.deepEqual(peerConfig({ ...base, interfaces: [LOOPBACK] }, []), {
    iceServers: [],
    iceTransportPolicy: "all",
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceUseIpv6: false,
  });
  assert.deepEqual(peerConfig({ ...base, interfaces: [LOOPBACK, LAN] }, []), {
    iceServers: [],
    iceTransportPolicy: "all",
  });
});

Deno.test("peerConfig() puts the server's ICE servers first, then the peer's own, and honours relay-only", () => {
  const config = peerConfig({
    ownIceServers: [{ urls: "stun:own.example" }],
    relayOnly: true,
    interfaces: [LAN],
  }, [{ urls: "turn:server.example", username: "u", credential: "c" }]);
  assert.deepEqual(config.iceServers, [
    { urls: "turn:server.example", username: "u", credential: "c" },
    { urls: "stun:own.example" },
  ]);
  assert.equal(config.iceTransportPolicy, "relay");
});

Deno.test({
  name: "withoutDefaultStun() leaves werift with no STUN server unless one is configured",
  // Loading werift starts timers of its own that outlive the test.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    const unpatched = new werift.Connection(true, {});
    assert.ok(unpatched.stunServer, "werift defaults to a public STUN server");
    withoutDefaultStun(werift);
    withoutDefaultStun(werift); // idempotent
    assert.equal(new werift.Connection(true, {}).stunServer, undefined);
    const configured = new werift.Connection(true, { stunServer: ["127.0.0.1", 3478] });
    assert.deepEqual(configured.stunServer, ["127.0.0.1", 3478]);
  },
});

Deno.test("withoutDefaultStun() fails loudly when werift's code no longer matches", () => {
  class Missing {}
  assert.throws(
    () => withoutDefaultStun({ Connection: Missing } as never),
    /applyStunTurnServersFromOptions is missing/,
  );
  class Changed {
    applyStunTurnServersFromOptions() {}
  }
  assert.throws(
    () => withoutDefaultStun({ Connection: Changed } as never),
    /no longer defaults to a STUN server/,
  );
});
