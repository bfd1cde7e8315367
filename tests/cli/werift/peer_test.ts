import assert from "node:assert/strict";
import { peerConfig } from "../../../lib/cli/werift/peer.ts";

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
