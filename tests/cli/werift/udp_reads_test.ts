import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { fixWerift } from "../../../lib/cli/werift/fixes.ts";
import { tuneWerift } from "../../../lib/cli/werift/tuning.ts";
import { READ_BYTES, withSmallUdpReads } from "../../../lib/cli/werift/udp_reads.ts";
import { connectedPair, openChannel, sendsWhole } from "../../support/werift_peers.ts";
import { within } from "../../support/helpers.ts";

/** What the tests read of werift's UDP transport. */
interface Transport {
  socket: Socket;
  onData: (data: Uint8Array, addr: [string, number]) => void;
  close(): Promise<void>;
}

/** werift's UdpTransport prototype, whose `init` is private in its types. */
async function udpPrototype(): Promise<{ init: (this: Transport) => Promise<void> }> {
  const werift = await loadWerift();
  return werift.UdpTransport.prototype as never;
}

async function loopbackTransport(): Promise<Transport> {
  const werift = await loadWerift();
  return await werift.UdpTransport.init("udp4", {
    interfaceAddresses: { udp4: "127.0.0.1" },
  }) as unknown as Transport;
}

function sendTo(from: Socket, to: Transport, bytes: number): Promise<void> {
  return new Promise((resolve, reject) =>
    from.send(
      new Uint8Array(bytes).fill(7),
      to.socket.address().port,
      "127.0.0.1",
      (error) => error ? reject(error) : resolve(),
    )
  );
}

Deno.test({
  name:
    "withSmallUdpReads() makes werift's sockets read 16 KiB at a time, and drops a datagram cut to that once, then reads 64 KiB",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    withSmallUdpReads(werift);
    const proto = await udpPrototype();
    const patched = proto.init;
    withSmallUdpReads(werift);
    assert.equal(proto.init, patched, "applied once");
    const transport = await loopbackTransport();
    const sender = createSocket("udp4");
    try {
      assert.equal(transport.socket.getRecvBufferSize(), READ_BYTES);
      const lengths: number[] = [];
      let last!: () => void;
      const lastArrived = new Promise<void>((resolve) => last = resolve);
      transport.onData = (data) => {
        lengths.push(data.length);
        if (data.length === 3) last();
      };
      // The read under way when the socket started listening is 64 KiB:
      // the first datagram takes it.
      await sendTo(sender, transport, 100);
      await sendTo(sender, transport, READ_BYTES + 1000); // cut to 16 KiB: dropped
      await sendTo(sender, transport, READ_BYTES + 1000); // whole
      await sendTo(sender, transport, 3);
      await within(lastArrived, 5000, "the last datagram");
      assert.deepEqual(lengths, [100, READ_BYTES + 1000, 3]);
      assert.equal(transport.socket.getRecvBufferSize(), 64 * 1024);
    } finally {
      sender.close();
      await transport.close();
    }
  },
});

Deno.test({
  name:
    "withSmallUdpReads() leaves room for the largest datagram of a connection: the handshake and 1 MiB of messages pass whole",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    fixWerift(werift);
    tuneWerift(werift);
    withSmallUdpReads(werift);
    // Every datagram any werift socket reads, before werift sees it.
    const proto = await udpPrototype();
    const init = proto.init;
    const sockets: Socket[] = [];
    let largest = 0;
    proto.init = async function (this: Transport) {
      await init.call(this);
      sockets.push(this.socket);
      this.socket.prependListener("message", (data: Uint8Array) => {
        largest = Math.max(largest, data.length);
      });
    };
    try {
      await using pair = await connectedPair(werift);
      const { ours, theirs } = await openChannel(pair, "bulk");
      // 16 messages of 64 KiB, the most werift sends in one.
      await sendsWhole(ours, theirs, 16);
      assert.ok(sockets.length >= 2);
      // No datagram filled a read: every socket still reads 16 KiB.
      assert.deepEqual(
        sockets.map((socket) => socket.getRecvBufferSize()),
        sockets.map(() => READ_BYTES),
      );
      assert.ok(largest > 1000 && largest < READ_BYTES / 4, `largest datagram: ${largest} bytes`);
    } finally {
      proto.init = init;
    }
  },
});

Deno.test("withSmallUdpReads() fails loudly when werift's code no longer matches", () => {
  class Missing {}
  assert.throws(
    () => withSmallUdpReads({ UdpTransport: Missing } as never),
    /UdpTransport\.init is missing/,
  );
  class Changed {
    async init() {}
  }
  assert.throws(
    () => withSmallUdpReads({ UdpTransport: Changed } as never),
    /no longer makes and binds its socket as expected/,
  );
});
