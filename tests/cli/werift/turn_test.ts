import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { reportTurnRefusals, withTurnErrors } from "../../../lib/cli/werift/turn.ts";
import type { IceCandidateErrorLike, PeerConnectionLike } from "../../../lib/shared/rtc_types.js";

Deno.test("reportTurnRefusals() patches werift's TURN client once", async () => {
  const werift = await loadWerift();
  const proto = werift.TurnProtocol.prototype as unknown as Record<string, unknown>;
  reportTurnRefusals(werift);
  const patched = proto.handleSTUNMessage;
  reportTurnRefusals(werift);
  assert.equal(proto.handleSTUNMessage, patched, "a second call changes nothing");
});

Deno.test("reportTurnRefusals() throws when werift's TURN client is not what it expects", () => {
  class TurnProtocol {
    handleSTUNMessage() {}
    connectionMade() {}
  }
  assert.throws(
    () => reportTurnRefusals({ TurnProtocol, parseMessage: () => undefined } as never),
    /no longer checks answers as expected/,
  );
});

Deno.test("withTurnErrors() runs both descriptions' steps and still returns their results", async () => {
  const heard: IceCandidateErrorLike[] = [];
  const pc = {
    setLocalDescription: (description: { type: string }) => Promise.resolve(description.type),
    setRemoteDescription: (description: { type: string }) => Promise.resolve(description.type),
    onicecandidateerror: (event: IceCandidateErrorLike) => heard.push(event),
  } as unknown as PeerConnectionLike;
  assert.equal(withTurnErrors(pc), pc);
  assert.equal(await pc.setLocalDescription({ type: "offer" }), "offer");
  assert.equal(await pc.setRemoteDescription({ type: "answer", sdp: "" }), "answer");
  assert.deepEqual(heard, []);
});
