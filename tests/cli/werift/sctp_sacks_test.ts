import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { fixWerift } from "../../../lib/cli/werift/fixes.ts";
import { withDelayedSacks } from "../../../lib/cli/werift/sctp_sacks.ts";
import { tuneWerift } from "../../../lib/cli/werift/tuning.ts";
import {
  connectedPair,
  openChannel,
  type Peer,
  sendsWhole,
  transportMaking,
  withTransport,
} from "../../support/werift_peers.ts";
import { within } from "../../support/helpers.ts";

// SCTP chunk types (RFC 9260 §3.2).
const DATA = 0;
const SACK = 3;

/** Counts the DATA and SACK chunks `peer`'s SCTP association sends and receives. */
function countChunks(peer: Peer) {
  const sctp = (peer as unknown as { sctpTransport: { sctp: Record<string, unknown> } })
    .sctpTransport.sctp;
  const counts = { dataIn: 0, sacksOut: 0 };
  const sendChunk = sctp.sendChunk as (chunk: { type: number }) => Promise<void>;
  sctp.sendChunk = (chunk: { type: number }) => {
    if (chunk.type === SACK) counts.sacksOut++;
    return sendChunk.call(sctp, chunk);
  };
  const receiveChunk = sctp.receiveChunk as (chunk: { type: number }) => Promise<void>;
  sctp.receiveChunk = (chunk: { type: number }) => {
    if (chunk.type === DATA) counts.dataIn++;
    return receiveChunk.call(sctp, chunk);
  };
  return counts;
}

Deno.test({
  name:
    "withDelayedSacks() makes werift acknowledge about every second packet of data that arrives in order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    fixWerift(werift);
    tuneWerift(werift);
    withDelayedSacks(werift);
    withDelayedSacks(werift); // idempotent
    await using pair = await connectedPair(werift);
    const { ours, theirs } = await openChannel(pair, "bulk");
    const counts = countChunks(pair.b);
    await sendsWhole(ours, theirs, 8);
    // 8 × 57 packets of one DATA chunk each; werift alone sent a SACK for
    // every one of them.
    assert.ok(counts.dataIn >= 8 * 57, `${counts.dataIn} DATA chunks`);
    assert.ok(
      counts.sacksOut <= counts.dataIn * 0.55,
      `${counts.sacksOut} SACKs for ${counts.dataIn} DATA chunks`,
    );
  },
});

Deno.test({
  name: "withDelayedSacks() still acknowledges a lone packet, and chat goes both ways",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    fixWerift(werift);
    tuneWerift(werift);
    withDelayedSacks(werift);
    await using pair = await connectedPair(werift);
    const { ours: lone, theirs: channel } = await openChannel(pair, "lone");
    const sctp = (pair.a as unknown as { sctpTransport: { sctp: Record<string, unknown> } })
      .sctpTransport.sctp;
    // Resolves once a SACK leaves nothing of ours unacknowledged.
    const acknowledged = new Promise<void>((resolve) => {
      const receiveSackChunk = sctp.receiveSackChunk as (chunk: unknown) => Promise<void>;
      sctp.receiveSackChunk = async (chunk: unknown) => {
        await receiveSackChunk.call(sctp, chunk);
        if (sctp.flightSize === 0) resolve();
      };
    });
    const answered = new Promise<string>((resolve) =>
      lone.onMessage.subscribe((data) => resolve(String(data)))
    );
    channel.onMessage.subscribe((data) => channel.send(`re: ${data}`));
    lone.send("one");
    assert.equal(await within(answered, 5000, "the answer"), "re: one");
    // The partner's SACK for the lone packet comes within its 200 ms delay.
    await within(acknowledged, 1000, "the lone packet to be acknowledged");
  },
});

Deno.test("withDelayedSacks() fails loudly when werift's code no longer matches", () => {
  class NoAssociation {
    setDtlsTransport() {}
  }
  assert.throws(
    () => withDelayedSacks(withTransport(NoAssociation)),
    /no longer makes its SCTP association as expected/,
  );
  class Changed {
    receiveDataChunk() {}
  }
  assert.throws(
    () => withDelayedSacks(withTransport(transportMaking(Changed))),
    /SCTP\.receiveDataChunk no longer contains/,
  );
});
