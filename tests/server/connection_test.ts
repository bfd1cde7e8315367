import assert from "node:assert/strict";
import { classify } from "../../lib/server/connection.ts";

// A connection's life over real sockets (limits, closes, shutdown) is tested
// through the server in server_test.ts; here is what needs no network.

Deno.test("classify() tells clean, timeout and abrupt closes apart", () => {
  assert.equal(classify({ code: 1000, wasClean: true }), "clean");
  assert.equal(classify({ code: 1001, wasClean: true }), "clean");
  assert.equal(classify({ code: 1001, wasClean: false }), "timeout");
  assert.equal(classify({ code: 0, wasClean: false }), "abrupt");
  assert.equal(classify({ code: 1006, wasClean: false }), "abrupt");
  assert.equal(classify({ code: 1008, wasClean: true }), "limit");
  assert.equal(classify({ code: 1009, wasClean: false }), "limit");
});
