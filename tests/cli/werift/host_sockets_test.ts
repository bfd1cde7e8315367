import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { withHostSocketsOnTheirAddresses } from "../../../lib/cli/werift/host_sockets.ts";
import { withoutDefaultStun } from "../../../lib/cli/werift/stun_default.ts";

/** What the test reads of werift's protocol for one host candidate. */
interface HostProtocol {
  localIp: string;
  transport: { address: { address: string } };
}

Deno.test({
  name:
    "withHostSocketsOnTheirAddresses() binds each host candidate's socket to its address, and any address where none can be bound",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    withoutDefaultStun(werift);
    withHostSocketsOnTheirAddresses(werift);
    withHostSocketsOnTheirAddresses(werift); // idempotent
    // 203.0.113.9 (TEST-NET-3) is on no interface here: werift still offers
    // it, as before, from a socket on any address, and nothing crashes.
    const connection = new werift.Connection(true, {
      additionalHostAddresses: ["127.0.0.1", "203.0.113.9"],
      useIpv6: false,
    });
    try {
      await connection.gatherCandidates();
      const bound = Object.fromEntries(
        (connection as unknown as { protocols: HostProtocol[] }).protocols
          .map(({ localIp, transport }) => [localIp, transport.address.address]),
      );
      const own = Deno.networkInterfaces()
        .filter((i) => i.family === "IPv4" && !i.address.startsWith("127."))
        .map((i) => [i.address, i.address]);
      assert.deepEqual(bound, {
        "127.0.0.1": "127.0.0.1",
        "203.0.113.9": "0.0.0.0",
        ...Object.fromEntries(own),
      });
      assert.deepEqual(
        connection.localCandidates.map((c) => c.host).sort(),
        Object.keys(bound).sort(),
      );
    } finally {
      await connection.close();
    }
  },
});

Deno.test("withHostSocketsOnTheirAddresses() fails loudly when werift's code no longer matches", () => {
  class Missing {}
  const werift = (Connection: unknown) => ({
    Connection,
    StunProtocol: Missing,
    UdpTransport: Missing,
  });
  assert.throws(
    () => withHostSocketsOnTheirAddresses(werift(Missing) as never),
    /getCandidatePromises or ensureProtocol is missing/,
  );
  class Changed {
    getCandidatePromises(addresses: string[]) {
      return addresses.map(() => Promise.resolve());
    }
    ensureProtocol() {}
  }
  assert.throws(
    () => withHostSocketsOnTheirAddresses(werift(Changed) as never),
    /no longer binds the sockets of host candidates as expected/,
  );
});
