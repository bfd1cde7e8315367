import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { withoutEarlyStreamReuse } from "../../../lib/cli/werift/stream_ids.ts";
import { withStrayChannelMessagesIgnored } from "../../../lib/cli/werift/sctp_input.ts";
import {
  connectedPair,
  echoes,
  nextChannel,
  stateOf,
  transportMaking,
  withTransport,
} from "../../support/werift_peers.ts";
import { within } from "../../support/helpers.ts";

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
