import assert from "node:assert/strict";
import {
  ErrorCode,
  errorMessage,
  MessageType,
  parseEnvelope,
  toServerMessage,
  truncate,
  yourId,
} from "../lib/protocol.ts";

Deno.test("yourId() builds the spec's your_id message", () => {
  assert.equal(JSON.stringify(yourId("abc")), '{"type":"your_id","id":"abc"}');
});

Deno.test("errorMessage() builds type, code and message", () => {
  assert.deepEqual(errorMessage(ErrorCode.InvalidJson, "bad"), {
    type: "error",
    code: "invalid_json",
    message: "bad",
  });
});

Deno.test("parseEnvelope() accepts an object with a string type", () => {
  assert.deepEqual(parseEnvelope('{"type":"x","n":1}'), {
    ok: true,
    message: { type: "x", n: 1 },
  });
});

Deno.test("parseEnvelope() answers invalid_json for text that is not JSON", () => {
  for (const text of ["", "{", "nope", '{"type":"x"'] as const) {
    const result = parseEnvelope(text);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.code, ErrorCode.InvalidJson);
  }
});

Deno.test("parseEnvelope() answers invalid_message for JSON that is not an envelope", () => {
  for (const text of ["1", "null", '"x"', "[]", "{}", '{"type":1}', '{"type":null}']) {
    const result = parseEnvelope(text);
    assert.equal(result.ok, false, text);
    assert.equal(!result.ok && result.code, ErrorCode.InvalidMessage, text);
  }
});

Deno.test("toServerMessage() narrows known messages and checks their fields", () => {
  assert.deepEqual(toServerMessage({ type: "your_id", id: "abc" }), yourId("abc"));
  assert.equal(toServerMessage({ type: "your_id" }), undefined);
  assert.equal(toServerMessage({ type: "your_id", id: 5 }), undefined);
  assert.deepEqual(
    toServerMessage({ type: "error", code: "server_full", message: "full" }),
    errorMessage(ErrorCode.ServerFull, "full"),
  );
  assert.equal(toServerMessage({ type: "error", code: "x" }), undefined);
  assert.equal(toServerMessage({ type: "mystery" }), undefined);
});

Deno.test("message type and error code values are distinct", () => {
  const types = Object.values(MessageType);
  assert.equal(new Set(types).size, types.length);
  const codes = Object.values(ErrorCode);
  assert.equal(new Set(codes).size, codes.length);
});

Deno.test("truncate() shortens long text and leaves short text alone", () => {
  assert.equal(truncate("short"), "short");
  assert.equal(truncate("x".repeat(100), 10), `${"x".repeat(10)}…`);
});
