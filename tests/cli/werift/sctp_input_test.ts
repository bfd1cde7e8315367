import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import {
  withStrayChannelMessagesIgnored,
  withUnreadablePacketsDropped,
} from "../../../lib/cli/werift/sctp_input.ts";
import {
  connectedPair,
  nextChannel,
  stateOf,
  transportMaking,
  withTransport,
} from "../../support/werift_peers.ts";
import { within } from "../../support/helpers.ts";

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
