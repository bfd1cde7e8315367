import assert from "node:assert/strict";
import { protocolViolation } from "../../lib/server/ws_violations.ts";

Deno.test("protocolViolation() names the runtime's protocol errors", () => {
  assert.equal(protocolViolation("Invalid UTF-8"), "invalid_utf8");
  assert.equal(protocolViolation("Invalid value"), "invalid_opcode");
  assert.equal(protocolViolation("Reserved bits are not zero"), "reserved_bits");
  assert.equal(protocolViolation("Ping frame too large"), "bad_control_frame");
  assert.equal(protocolViolation("Control frame must not be fragmented"), "bad_control_frame");
});

Deno.test("protocolViolation() leaves drops, timeouts and unknown texts alone", () => {
  for (const message of [undefined, "", "No response from ping frame.", "Connection reset"]) {
    assert.equal(protocolViolation(message), undefined, String(message));
  }
});
