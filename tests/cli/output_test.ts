import assert from "node:assert/strict";
import { describeEvent } from "../../lib/cli/output.ts";

Deno.test("describeEvent() prints the id line", () => {
  assert.equal(describeEvent({ type: "your_id", id: "abc" }), "*** Your Client ID: abc ***");
});

Deno.test("describeEvent() prints pairing events on one line each", () => {
  assert.equal(
    describeEvent({ type: "pair_request", from: "a" }),
    "*** Pair request from a (accept or reject) ***",
  );
  assert.equal(
    describeEvent({ type: "paired", peer: "b", initiator: true }, { webrtc: true }),
    "*** Paired with b (you make the offer) ***",
  );
  assert.equal(
    describeEvent({ type: "paired", peer: "a", initiator: false }, { webrtc: true }),
    "*** Paired with a (they make the offer) ***",
  );
  assert.equal(
    describeEvent({ type: "pair_rejected", peer: "b", reason: "timeout" }),
    "*** Pair request to b ended (timeout) ***",
  );
  assert.equal(
    describeEvent({ type: "pair_cancelled", from: "a", reason: "replaced" }),
    "*** Pair request from a withdrawn (replaced) ***",
  );
  assert.equal(
    describeEvent({ type: "peer_left", peer: "b", reason: "disconnected" }),
    "*** Peer b left (disconnected) ***",
  );
});

Deno.test("describeEvent() says nothing of offers to the plain client, which has no WebRTC", () => {
  for (const initiator of [true, false]) {
    assert.equal(
      describeEvent({ type: "paired", peer: "b", initiator }),
      "*** Paired with b ***",
    );
  }
});

Deno.test("describeEvent() with --accept says the request is being accepted, not asks for an answer", () => {
  assert.equal(
    describeEvent({ type: "pair_request", from: "a" }, { accepting: true }),
    "*** Pair request from a; accepting it (--accept) ***",
  );
});

Deno.test("describeEvent() prints relayed text as 'id: text' and other data as JSON", () => {
  assert.equal(describeEvent({ type: "relay", data: "hi there", from: "a" }), "a: hi there");
  assert.equal(describeEvent({ type: "relay", data: { n: 1 }, from: "a" }), 'a: {"n":1}');
});

Deno.test("describeEvent() summarises signaling without printing SDP", () => {
  const line = describeEvent({ type: "offer", sdp: "v=0 secret", from: "a" });
  assert.equal(line, "*** offer from a (10 characters of SDP) ***");
  assert.equal(
    describeEvent({ type: "candidate", candidate: null, from: "a" }),
    "*** ICE candidate from a ***",
  );
});

Deno.test("describeEvent() prints errors with their code", () => {
  assert.equal(
    describeEvent({ type: "error", code: "peer_busy", message: "busy" }),
    "*** Error (peer_busy): busy ***",
  );
});

Deno.test("describeEvent() escapes control characters from the network", () => {
  assert.equal(
    describeEvent({ type: "relay", data: "hi\n*** Paired with x ***\u001b[2J\u009b", from: "a\r" }),
    "a\\r: hi\\n*** Paired with x ***\\u001b[2J\\u009b",
  );
  assert.equal(
    describeEvent({ type: "error", code: "peer_busy", message: "a\u0007b" }),
    "*** Error (peer_busy): a\\u0007b ***",
  );
});

Deno.test("describeEvent() words pairing errors in the client's commands", () => {
  assert.equal(
    describeEvent({ type: "error", code: "not_paired", message: 'pair before sending "relay"' }),
    "*** Error (not_paired): you have no partner: pair with someone first ***",
  );
  assert.equal(
    describeEvent({ type: "error", code: "already_paired", message: "unpair first" }),
    "*** Error (already_paired): you already have a partner: leave first ***",
  );
});

Deno.test("describeEvent() words a partner's lost connection, its return and a window that ended", () => {
  assert.equal(
    describeEvent({ type: "peer_reconnecting", peer: "b" }),
    "*** Peer b lost its connection; waiting for it to come back ***",
  );
  assert.equal(describeEvent({ type: "peer_back", peer: "b" }), "*** Peer b is back ***");
  assert.equal(
    describeEvent({ type: "peer_left", peer: "b", reason: "timeout" }),
    "*** Peer b left (timeout) ***",
  );
  assert.equal(
    describeEvent({ type: "session", resume_token: "secret", grace_s: 15 }),
    "*** The server keeps this session for 15 s if the connection drops ***",
  );
});
