import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import {
  RTO_MIN_SECONDS,
  shorterRtoPatch,
  withShorterRto,
} from "../../../lib/cli/werift/sctp_rto.ts";
import { connectedPair, echoes, nextChannel } from "../../support/werift_peers.ts";
import { sctpAssociationClass } from "../../../lib/cli/werift/sctp_association.ts";
import { within } from "../../support/helpers.ts";

Deno.test({
  name:
    "withShorterRto() lets a loopback association's retransmission timeout fall to 400 ms, not 1 s",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    withShorterRto(werift);
    withShorterRto(werift); // idempotent
    assert.equal(shorterRtoPatch.isApplied(werift), true);
    await using pair = await connectedPair(werift);
    const arrived = nextChannel(pair.b, "rtt");
    const channel = pair.a.createDataChannel("rtt");
    await echoes(channel, await within(arrived, 5000, "the channel"));
    const sctp = (pair.a as unknown as { sctpTransport: { sctp: { rto: number; srtt: number } } })
      .sctpTransport.sctp;
    assert.ok(sctp.srtt < 0.1, `a loopback round trip of ${sctp.srtt} s`);
    assert.equal(sctp.rto, RTO_MIN_SECONDS);
  },
});

Deno.test("the timeout still follows a long round trip, up to werift's ceiling", async () => {
  const werift = await loadWerift();
  withShorterRto(werift);
  const updateRto = (sctpAssociationClass(werift).prototype as Record<string, unknown>)
    .updateRto as (this: object, sample: number) => void;
  const association = { rto: 3 } as { rto: number };
  updateRto.call(association, 2); // a first sample of 2 s: srtt 2, rttvar 1
  assert.equal(association.rto, 6);
  const far = { rto: 3 } as { rto: number };
  updateRto.call(far, 100);
  assert.equal(far.rto, 60);
});

Deno.test("withShorterRto() fails loudly when werift's code no longer matches", () => {
  class RTCSctpTransport {}
  assert.throws(
    () => withShorterRto({ RTCSctpTransport } as never),
    /cannot patch werift/,
  );
});
