import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import {
  withHostSocketsOnTheirAddresses,
  withoutDefaultStun,
  withoutDuplicateFlights,
  withoutEarlyStreamReuse,
  withStrayChannelMessagesIgnored,
  withUnreadablePacketsDropped,
} from "../../../lib/cli/werift/fixes.ts";
import { loopbackPeerConfig } from "../../../lib/cli/werift/tuning.ts";
import { within } from "../../support/helpers.ts";

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

/** A DTLS client shaped like werift's, recording the flights it handles. */
function fakeClientClass(handled: number[][]) {
  return class FakeDtlsClient {
    onHandleHandshakes: unknown;
    constructor() {
      this.onHandleHandshakes = this.handleHandshakes;
    }
    // Mirrors werift: `case 2 /* server_hello_2 */` starts a new flight 5.
    handleHandshakes = (assembled: { msg_type: number }[]) => {
      handled.push(assembled.map((h) => h.msg_type));
      return Promise.resolve();
    };
    connect(): Promise<void> {
      return Promise.resolve();
    }
  };
}

Deno.test("withoutDuplicateFlights() hands a retransmitted server flight 4 to the client once", async () => {
  const handled: number[][] = [];
  const FakeDtlsClient = fakeClientClass(handled);
  withoutDuplicateFlights({ DtlsClient: FakeDtlsClient } as never);
  const client = new FakeDtlsClient();
  await client.connect();
  const handle = client.onHandleHandshakes as (a: { msg_type: number }[]) => Promise<void>;
  const flight = (...types: number[]) => types.map((msg_type) => ({ msg_type }));
  await handle(flight(2));
  await handle(flight(11, 12, 13, 14));
  await handle(flight(2)); // the browser sends flight 4 again
  await handle(flight(11, 12, 13, 14));
  await handle(flight(20)); // its Finished
  assert.deepEqual(handled, [[2], [11, 12, 13, 14], [20]]);
});

Deno.test({
  name: "withoutDuplicateFlights() applies to werift's DTLS client, once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    withoutDuplicateFlights(werift);
    const patched = werift.DtlsClient.prototype.connect;
    withoutDuplicateFlights(werift);
    assert.equal(werift.DtlsClient.prototype.connect, patched);
  },
});

Deno.test("withoutDuplicateFlights() fails loudly when werift's DTLS client no longer matches", () => {
  class Changed {
    connect() {}
  }
  assert.throws(
    () => withoutDuplicateFlights({ DtlsClient: Changed } as never),
    /no longer handles flight 4 as expected/,
  );
});

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

type Peer = InstanceType<Awaited<ReturnType<typeof loadWerift>>["RTCPeerConnection"]>;
type Channel = ReturnType<Peer["createDataChannel"]>;

/** Two werift peers in this process, connected on loopback, with a chat channel open. */
async function connectedPair(werift: Awaited<ReturnType<typeof loadWerift>>) {
  const a = new werift.RTCPeerConnection(loopbackPeerConfig());
  const b = new werift.RTCPeerConnection(loopbackPeerConfig());
  const chat = a.createDataChannel("chat");
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await within(stateOf(chat, "open"), 10_000, "the chat channel to open");
  return {
    a,
    b,
    async [Symbol.asyncDispose]() {
      await Promise.allSettled([a.close(), b.close()]);
    },
  };
}

function stateOf(channel: Channel, state: string): Promise<void> {
  if (channel.readyState === state) return Promise.resolve();
  return new Promise((resolve) => {
    channel.stateChanged.subscribe((now) => {
      if (now === state) resolve();
    });
  });
}

/** The next channel `peer`'s partner opens with `label`. */
function nextChannel(peer: Peer, label: string): Promise<Channel> {
  return new Promise((resolve) => {
    peer.onDataChannel.subscribe((channel) => {
      if (channel.label === label) resolve(channel);
    });
  });
}

/** Whether a message goes from `from` to `to` and its echo back, on both ends of one channel. */
async function echoes(from: Channel, to: Channel): Promise<void> {
  const echoed = new Promise<string>((resolve) =>
    from.onMessage.subscribe((m) => resolve(String(m)))
  );
  to.onMessage.subscribe((message) => to.send(`echo ${message}`));
  from.send("ping");
  assert.equal(await within(echoed, 5000, `an echo on ${from.label}`), "echo ping");
}

for (const closer of ["opener", "partner"] as const) {
  Deno.test({
    name:
      `withoutEarlyStreamReuse() keeps a channel opened right after the ${closer} closed another open on both sides`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const werift = await loadWerift();
      // Without it, the reused id's acknowledgement would end this process.
      withStrayChannelMessagesIgnored(werift);
      withoutEarlyStreamReuse(werift);
      withoutEarlyStreamReuse(werift); // idempotent
      await using pair = await connectedPair(werift);
      const arrived = nextChannel(pair.b, "first");
      const first = pair.a.createDataChannel("first");
      await within(stateOf(first, "open"), 5000, "the first channel to open");
      const theirs = await within(arrived, 5000, "the first channel to arrive");
      (closer === "opener" ? first : theirs).close();
      await within(stateOf(first, "closed"), 5000, "the first channel to close");
      // At once: the streams of the first channel may still be being reset.
      const secondArrived = nextChannel(pair.b, "second");
      const second = pair.a.createDataChannel("second");
      await within(stateOf(second, "open"), 5000, "the second channel to open");
      const theirSecond = await within(secondArrived, 5000, "the second channel to arrive");
      await echoes(second, theirSecond);
      assert.equal(second.readyState, "open");
      assert.equal(theirSecond.readyState, "open");
    },
  });
}

Deno.test({
  name:
    "withStrayChannelMessagesIgnored() leaves a channel closed before its open acknowledgement came closed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    withStrayChannelMessagesIgnored(werift);
    const patched = werift.RTCSctpTransport.prototype.setDtlsTransport;
    withStrayChannelMessagesIgnored(werift);
    assert.equal(werift.RTCSctpTransport.prototype.setDtlsTransport, patched, "applied once");
    await using pair = await connectedPair(werift);
    const arrived = nextChannel(pair.b, "brief");
    const brief = pair.a.createDataChannel("brief");
    const states: string[] = [];
    brief.stateChanged.subscribe((state) => states.push(state));
    brief.close();
    await within(arrived, 5000, "the partner to take the channel, and acknowledge it");
    await within(stateOf(brief, "closed"), 5000, "the channel to close");
    assert.deepEqual(states, ["closing", "closed"]);
  },
});

/** A module whose `RTCSctpTransport` is `transport`, for the checks of the fixes below. */
const withTransport = (transport: unknown) => ({ RTCSctpTransport: transport }) as never;

Deno.test("withStrayChannelMessagesIgnored() fails loudly when werift's code no longer matches", () => {
  class Missing {}
  assert.throws(
    () => withStrayChannelMessagesIgnored(withTransport(Missing)),
    /RTCSctpTransport\.setDtlsTransport is missing/,
  );
  class Changed {
    datachannelReceive = () => Promise.resolve();
    setDtlsTransport() {}
  }
  assert.throws(
    () => withStrayChannelMessagesIgnored(withTransport(Changed)),
    /no longer hands messages to channels as expected/,
  );
});

/** A transport shaped like werift's that makes `Association` for its DTLS transport. */
function transportMaking(Association: new () => object) {
  return class FakeSctpTransport {
    sctp: object | undefined;
    setDtlsTransport() {
      this.sctp = new Association();
    }
    dataChannelFlush() {}
  };
}

Deno.test("withUnreadablePacketsDropped() fails loudly when werift's code no longer matches", () => {
  class NoAssociation {
    setDtlsTransport() {}
  }
  assert.throws(
    () => withUnreadablePacketsDropped(withTransport(NoAssociation)),
    /no longer makes its SCTP association as expected/,
  );
  class NoHandleData {}
  assert.throws(
    () => withUnreadablePacketsDropped(withTransport(transportMaking(NoHandleData))),
    /SCTP\.handleData is missing/,
  );
  class Changed {
    handleData() {}
  }
  assert.throws(
    () => withUnreadablePacketsDropped(withTransport(transportMaking(Changed))),
    /no longer takes packets as expected/,
  );
});

Deno.test({
  name: "withUnreadablePacketsDropped() and withoutEarlyStreamReuse() apply to werift once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    const proto = werift.RTCSctpTransport.prototype as unknown as Record<string, unknown>;
    withUnreadablePacketsDropped(werift);
    withoutEarlyStreamReuse(werift);
    const flush = proto.dataChannelFlush;
    const probe = new werift.RTCSctpTransport() as unknown as {
      setDtlsTransport(dtls: unknown): void;
      sctp: { handleData: unknown };
    };
    probe.setDtlsTransport({
      id: "test",
      onStateChange: { subscribe: () => ({ unSubscribe() {} }) },
    });
    const handleData = probe.sctp.handleData;
    withUnreadablePacketsDropped(werift);
    withoutEarlyStreamReuse(werift);
    assert.equal(proto.dataChannelFlush, flush);
    assert.equal(probe.sctp.handleData, handleData);
  },
});

Deno.test("withoutEarlyStreamReuse() fails loudly when werift's code no longer matches", () => {
  class Missing {}
  assert.throws(
    () => withoutEarlyStreamReuse(withTransport(Missing)),
    /RTCSctpTransport\.dataChannelFlush is missing/,
  );
  class Association {
    handleData() {}
  }
  assert.throws(
    () => withoutEarlyStreamReuse(withTransport(transportMaking(Association))),
    /no longer picks stream ids for data channels as expected/,
  );
});
