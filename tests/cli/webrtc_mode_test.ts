import assert from "node:assert/strict";
import { ICE_CREDENTIAL_ENV } from "../../lib/protocol/ice_servers.ts";
import { prepareWebrtc } from "../../lib/cli/webrtc_mode.ts";

Deno.test("prepareWebrtc() without the TURN credential says so in one line, exit 1", async () => {
  Deno.env.delete(ICE_CREDENTIAL_ENV);
  const said: string[] = [];
  const mode = await prepareWebrtc(
    { iceUrls: ["turn:127.0.0.1:3478"], iceUsername: "user", relayOnly: false },
    (line) => said.push(line),
  );
  assert.equal(mode, 1);
  assert.equal(said.length, 1);
  assert.match(said[0]!, /^Cannot start WebRTC mode: .*SWITCHBOARD/);
});
