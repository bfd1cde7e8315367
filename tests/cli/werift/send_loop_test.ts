import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { fixWerift } from "../../../lib/cli/werift/fixes.ts";
import { oneSendLoopPatch, withOneSendLoop } from "../../../lib/cli/werift/send_loop.ts";
import { connectedPair, nextChannel, stateOf, withTransport } from "../../support/werift_peers.ts";
import { within } from "../../support/helpers.ts";

Deno.test({
  name:
    "withOneSendLoop() sends thousands of small messages queued at once in order, with one loop waiting on SCTP instead of one per message",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    // As the CLI peer has it: every fix, this one last.
    fixWerift(werift);
    withOneSendLoop(werift); // idempotent
    assert.equal(oneSendLoopPatch.isApplied(werift), true);
    await using pair = await connectedPair(werift);
    const arrived = nextChannel(pair.b, "many");
    const channel = pair.a.createDataChannel("many");
    await within(stateOf(channel, "open"), 5000, "the channel to open");
    const theirs = await within(arrived, 5000, "the channel to arrive");
    const count = 2000;
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      theirs.onMessage.subscribe((message) => {
        if (got.push(String(message)) === count) resolve();
      })
    );
    // What waits on SCTP's flush event: one subscriber per loop.
    const sctp = (pair.a as unknown as {
      sctpTransport: { sctp: { flush: { event: { stack: unknown[] } } } };
    }).sctpTransport.sctp;
    let waiting = 0;
    const watch = setInterval(() => waiting = Math.max(waiting, sctp.flush.event.stack.length), 1);
    try {
      for (let i = 0; i < count; i++) channel.send(`message ${i} ${"x".repeat(1000)}`);
      await within(all, 30_000, "every message");
    } finally {
      clearInterval(watch);
    }
    assert.deepEqual(
      got.map((m) => m.split(" ")[1]),
      Array.from({ length: count }, (_, i) => String(i)),
    );
    assert.ok(waiting <= 2, `${waiting} loops waited on SCTP at once`);
  },
});

Deno.test("withOneSendLoop() fails loudly when werift's code no longer matches", () => {
  class Missing {}
  assert.throws(
    () => withOneSendLoop(withTransport(Missing)),
    /RTCSctpTransport\.dataChannelFlush is missing/,
  );
  class Other {
    dataChannelFlush() {}
  }
  assert.throws(
    () => withOneSendLoop(withTransport(Other)),
    /RTCSctpTransport no longer queues messages for SCTP as expected/,
  );
});

Deno.test({
  name:
    "with every fix, a channel made while the send loop is busy still gets a stream id whose reset has finished",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    fixWerift(werift);
    await using pair = await connectedPair(werift);
    const transport = (pair.a as unknown as {
      sctpTransport: {
        dataChannelId: number;
        dataChannels: Record<number, unknown>;
        sctp: { outboundStreamSeq: Record<number, number> };
      };
    }).sctpTransport;
    const busy = pair.a.createDataChannel("busy");
    await within(stateOf(busy, "open"), 5000, "the busy channel to open");
    // The id werift would take next, as if a channel on it had just closed
    // and its stream's reset were still under way.
    let resetting = transport.dataChannelId;
    while (resetting in transport.dataChannels) resetting += 2;
    transport.sctp.outboundStreamSeq[resetting] = 7;
    const arrived = nextChannel(pair.b, "during");
    for (let i = 0; i < 64; i++) busy.send(Buffer.alloc(64 * 1024));
    const during = pair.a.createDataChannel("during");
    await within(stateOf(during, "open"), 10_000, "the channel made during the sends to open");
    await within(arrived, 5000, "it to arrive");
    assert.notEqual(during.id, resetting);
  },
});
