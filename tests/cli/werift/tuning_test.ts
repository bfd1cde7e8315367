import assert from "node:assert/strict";
import { loadWerift, type Werift } from "../../../lib/runtime/deps.ts";
import { isWeriftTuned, tuneWerift } from "../../../lib/cli/werift/tuning.ts";
import { createDtlsKeys, type DtlsKeys } from "../../../lib/cli/werift/certificate.ts";
import { loopbackPeerConfig } from "../../../lib/cli/werift/warm_up.ts";
import { within } from "../../support/helpers.ts";
import { fixWerift } from "../../../lib/cli/werift/fixes.ts";

// werift leaves timers and sockets behind after close() (consent checks,
// retransmission timers, its UDP sockets), so the tests that open peers turn
// the op and resource sanitizers off; the process ends when the tests do.
const WEBRTC = { sanitizeOps: false, sanitizeResources: false } as const;

const werift = await loadWerift();
// As in the peer: without this fix werift asks a public STUN server first,
// which on a closed network stalls every gathering for seconds.
fixWerift(werift);

// werift's own methods, taken before any test tunes this module instance.
const proto = (name: "RTCDtlsTransport" | "RTCIceTransport" | "Connection") =>
  werift[name].prototype as unknown as Record<string, unknown>;
const ORIGINAL = {
  dtlsStart: proto("RTCDtlsTransport").start,
  iceStart: proto("RTCIceTransport").start,
  connect: proto("Connection").connect,
  checkComplete: proto("Connection").checkComplete,
};

/** The real module with the patched classes swapped for stand-ins. */
function fakeWerift(methods: Partial<typeof ORIGINAL> = {}): Werift {
  const all = { ...ORIGINAL, ...methods };
  const classWith = (members: Record<string, unknown>) => {
    const stand_in = class {};
    Object.assign(stand_in.prototype, members);
    return stand_in;
  };
  return {
    ...werift,
    RTCDtlsTransport: classWith({ start: all.dtlsStart }),
    RTCIceTransport: classWith({ start: all.iceStart }),
    Connection: classWith({ connect: all.connect, checkComplete: all.checkComplete }),
  } as unknown as Werift;
}

function protoOf(module: Werift, name: "RTCDtlsTransport" | "RTCIceTransport" | "Connection") {
  return module[name].prototype as unknown as Record<string, unknown>;
}

Deno.test("tuneWerift() replaces DTLS start and ICE connect, and tuning again changes nothing", () => {
  assert.equal(isWeriftTuned(werift), false);
  tuneWerift(werift);
  assert.equal(isWeriftTuned(werift), true);
  const dtlsStart = protoOf(werift, "RTCDtlsTransport").start;
  const connect = protoOf(werift, "Connection").connect;
  assert.notEqual(dtlsStart, ORIGINAL.dtlsStart);
  assert.notEqual(connect, ORIGINAL.connect);

  tuneWerift(werift);
  assert.equal(protoOf(werift, "RTCDtlsTransport").start, dtlsStart);
  assert.equal(protoOf(werift, "Connection").connect, connect);
});

Deno.test("tuneWerift() accepts werift's unpatched code wherever it is found", () => {
  const fake = fakeWerift();
  tuneWerift(fake);
  assert.equal(isWeriftTuned(fake), true);
});

Deno.test("tuneWerift() throws, naming the method and the sleep, when the DTLS sleep is gone", () => {
  const fake = fakeWerift({
    dtlsStart: async function start() {
      await Promise.resolve();
    },
  });
  assert.throws(
    () => tuneWerift(fake),
    /RTCDtlsTransport\.prototype\.start no longer contains "await setTimeout6\(100\);"/,
  );
  // Nothing is patched unless everything can be.
  assert.equal(protoOf(fake, "Connection").connect, ORIGINAL.connect);
  assert.equal(isWeriftTuned(fake), false);
});

Deno.test("tuneWerift() throws, naming the method, when the ICE pacing sleep is gone", () => {
  const fake = fakeWerift({ connect: async function connect() {} });
  assert.throws(
    () => tuneWerift(fake),
    /Connection\.prototype\.connect no longer contains "await timers\.setTimeout\(20\);"/,
  );
  assert.equal(protoOf(fake, "RTCDtlsTransport").start, ORIGINAL.dtlsStart);
});

Deno.test("tuneWerift() throws when the method it copies changed anywhere else", () => {
  class ChangedDtlsTransport {
    start() {
      // await setTimeout6(100); this.dtls.connect()
      // createIceTransport(this.iceTransport.connection) new DtlsServer( new DtlsClient(
    }
  }
  const fake = fakeWerift({ dtlsStart: ChangedDtlsTransport.prototype.start });
  assert.throws(
    () => tuneWerift(fake),
    /RTCDtlsTransport\.prototype\.start changed \(source fingerprint [0-9a-f]{8}, expected 945bed84\)/,
  );
});

Deno.test("tuneWerift() throws when werift no longer exports a class it patches", () => {
  const fake = { ...werift, Connection: undefined } as unknown as Werift;
  assert.throws(() => tuneWerift(fake), /Connection is not exported as a class/);
});

Deno.test("tuneWerift() throws when a method it patches is missing", () => {
  const fake = fakeWerift({ checkComplete: undefined });
  assert.throws(
    () => tuneWerift(fake),
    /Connection\.prototype\.checkComplete does not exist/,
  );
});

interface Pair {
  offerer: InstanceType<Werift["RTCPeerConnection"]>;
  answerer: InstanceType<Werift["RTCPeerConnection"]>;
}

type Channel = ReturnType<Pair["offerer"]["createDataChannel"]>;

/** Two peers in this process, with the offer and answer exchanged. */
async function openChannel(
  keys: DtlsKeys,
  beforeAnswer: (pair: Pair) => void = () => {},
): Promise<Pair & { local: Channel; remote: Channel }> {
  const offerer = new werift.RTCPeerConnection(loopbackPeerConfig(keys));
  const answerer = new werift.RTCPeerConnection(loopbackPeerConfig(keys));
  const local = offerer.createDataChannel("test");
  const localOpen = new Promise<void>((resolve) => {
    local.stateChanged.subscribe((state) => state === "open" && resolve());
  });
  const remote = new Promise<Channel>((resolve) => answerer.onDataChannel.subscribe(resolve));
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  beforeAnswer({ offerer, answerer });
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await within(localOpen, 5000, "the offerer's channel to open");
  return { offerer, answerer, local, remote: await within(remote, 5000, "the remote channel") };
}

function collect(channel: Channel, count: number): Promise<string[]> {
  const received: string[] = [];
  return new Promise((resolve) => {
    channel.onMessage.subscribe((message) => {
      received.push(String(message));
      if (received.length === count) resolve(received);
    });
  });
}

const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix} ${i}`);

Deno.test({
  name: "tuned peers open a data channel and exchange messages both ways, none lost",
  ...WEBRTC,
  async fn() {
    tuneWerift(werift);
    const keys = await createDtlsKeys(werift);
    const { offerer, answerer, local, remote } = await openChannel(keys);
    try {
      const toAnswerer = numbered("to answerer", 50);
      const toOfferer = numbered("to offerer", 50);
      const atAnswerer = collect(remote, toAnswerer.length);
      const atOfferer = collect(local, toOfferer.length);
      for (const message of toAnswerer) local.send(message);
      for (const message of toOfferer) remote.send(message);
      assert.deepEqual(await within(atAnswerer, 5000, "messages at the answerer"), toAnswerer);
      assert.deepEqual(await within(atOfferer, 5000, "messages at the offerer"), toOfferer);
    } finally {
      await Promise.allSettled([offerer.close(), answerer.close()]);
    }
  },
});

/** DTLS handshake message type of a datagram holding one handshake record. */
function handshakeType(datagram: Uint8Array): number | undefined {
  const HANDSHAKE = 22;
  const RECORD_HEADER = 13;
  return datagram[0] === HANDSHAKE ? datagram[RECORD_HEADER] : undefined;
}
const CLIENT_HELLO = 1;
const HELLO_VERIFY_REQUEST = 3;

Deno.test({
  name: "a ClientHello that arrives before the DTLS server exists is kept and answered, not resent",
  ...WEBRTC,
  async fn() {
    tuneWerift(werift);
    const keys = await createDtlsKeys(werift);
    let clientHellosSent = 0;
    let clientHellosBeforeVerify: number | undefined;
    let helloArrived!: () => void;
    const firstHelloArrived = new Promise<void>((resolve) => helloArrived = resolve);

    const { offerer, answerer, local, remote } = await openChannel(
      keys,
      ({ offerer, answerer }) => {
        // The answerer is the DTLS client: count the ClientHellos it sends and
        // note how many were out when the server's first answer came back.
        const client = answerer.dtlsTransports[0]!.iceTransport.connection;
        const send = client.send;
        client.send = (data: Buffer) => {
          if (handshakeType(data) === CLIENT_HELLO) clientHellosSent++;
          return send(data);
        };
        client.onData.subscribe((data) => {
          if (handshakeType(data) === HELLO_VERIFY_REQUEST) {
            clientHellosBeforeVerify ??= clientHellosSent;
          }
        });
        // The offerer is the DTLS server: it is created only once the first
        // ClientHello has been received, so that record surely arrives early.
        const server = offerer.dtlsTransports[0]!;
        server.iceTransport.connection.onData.subscribe((data) => {
          if (handshakeType(data) === CLIENT_HELLO) helloArrived();
        });
        const start = server.start;
        server.start = async () => {
          await within(firstHelloArrived, 5000, "the client's first ClientHello");
          return start.call(server);
        };
      },
    );
    try {
      const echoed = collect(local, 1);
      remote.onMessage.subscribe((message) => remote.send(message));
      local.send("after an early ClientHello");
      assert.deepEqual(await within(echoed, 5000, "the echo"), ["after an early ClientHello"]);
      // Resent, the first HelloVerifyRequest would answer a second ClientHello.
      assert.equal(clientHellosBeforeVerify, 1);
    } finally {
      await Promise.allSettled([offerer.close(), answerer.close()]);
    }
  },
});
