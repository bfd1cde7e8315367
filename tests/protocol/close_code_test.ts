import assert from "node:assert/strict";
import { ABNORMAL_CLOSURE, closeCode } from "../../lib/protocol/close_code.ts";

Deno.test("closeCode() names a connection that ended without a close frame 1006, as RFC 6455 does", () => {
  assert.equal(ABNORMAL_CLOSURE, 1006);
  // What Deno reports for a dropped TCP connection.
  assert.equal(closeCode({ code: 0, wasClean: false }), 1006);
  assert.equal(closeCode({ code: 1006, wasClean: false }), 1006);
});

Deno.test("closeCode() keeps every code a peer sent, clean or not", () => {
  for (const code of [1000, 1001, 1008, 1009, 1013, 4000]) {
    assert.equal(closeCode({ code, wasClean: true }), code);
    assert.equal(closeCode({ code, wasClean: false }), code);
  }
});
