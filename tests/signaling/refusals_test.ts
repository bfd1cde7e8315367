import assert from "node:assert/strict";
import { ErrorCode } from "../../lib/protocol/messages.ts";
import {
  acceptWhilePaired,
  noPartner,
  noPendingRequest,
  notPaired,
  peerUnavailable,
  requestRefused,
  sharedStateUnreachable,
  unknownPeer,
} from "../../lib/signaling/refusals.ts";

Deno.test("requestRefused() words each pairing rule", () => {
  assert.deepEqual(requestRefused(ErrorCode.PeerBusy), {
    code: ErrorCode.PeerBusy,
    reason: "that client already has a partner",
  });
  assert.equal(
    requestRefused(ErrorCode.AlreadyPaired).reason,
    "you already have a partner; unpair first",
  );
});

Deno.test("refusals that name an id cut it to 40 characters", () => {
  const long = "x".repeat(100);
  for (const refused of [unknownPeer(long), peerUnavailable(long), noPendingRequest(long)]) {
    assert.ok(!refused.reason.includes("x".repeat(41)), refused.reason);
  }
  assert.deepEqual(unknownPeer("abc"), {
    code: ErrorCode.UnknownPeer,
    reason: "no client has the id abc",
  });
});

Deno.test("refusals without an id keep their code and sentence", () => {
  assert.deepEqual(notPaired("offer"), {
    code: ErrorCode.NotPaired,
    reason: 'pair before sending "offer"',
  });
  assert.deepEqual(noPartner(), { code: ErrorCode.NotPaired, reason: "you have no partner" });
  assert.equal(acceptWhilePaired().code, ErrorCode.AlreadyPaired);
  assert.deepEqual(sharedStateUnreachable(ErrorCode.UnknownPeer), {
    code: ErrorCode.UnknownPeer,
    reason: "the server cannot reach its shared registry; try again later",
  });
});
