import assert from "node:assert/strict";
import {
  type Envelope,
  ErrorCode,
  errorMessage,
  MessageType,
  parseEnvelope,
  toClientMessage,
  toServerMessage,
  yourId,
} from "../../lib/protocol/messages.ts";

Deno.test("yourId() builds the your_id message", () => {
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

Deno.test("toClientMessage() accepts every client type and keeps only its fields", () => {
  const cases: [Record<string, unknown>, Record<string, unknown>][] = [
    [{ type: "pair_request", target: "b", from: "forged" }, { type: "pair_request", target: "b" }],
    [{ type: "pair_accept", from: "a" }, { type: "pair_accept", from: "a" }],
    [{ type: "pair_reject", from: "a" }, { type: "pair_reject", from: "a" }],
    [{ type: "unpair", extra: 1 }, { type: "unpair" }],
    [{ type: "offer", sdp: "v=0", from: "forged" }, { type: "offer", sdp: "v=0" }],
    [{ type: "answer", sdp: "v=0" }, { type: "answer", sdp: "v=0" }],
    [{ type: "candidate", candidate: { sdpMid: "0" } }, {
      type: "candidate",
      candidate: { sdpMid: "0" },
    }],
    [{ type: "candidate", candidate: null }, { type: "candidate", candidate: null }],
    [{ type: "relay", data: [1, "x"] }, { type: "relay", data: [1, "x"] }],
    [{ type: "relay", data: null }, { type: "relay", data: null }],
  ];
  for (const [input, expected] of cases) {
    assert.deepEqual(toClientMessage(input as Envelope), { ok: true, message: expected });
  }
});

Deno.test("toClientMessage() names the field that is missing or of the wrong type", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ type: "pair_request" }, 'field "target" must be a string'],
    [{ type: "pair_accept", from: 1 }, 'field "from" must be a string'],
    [{ type: "offer", sdp: {} }, 'field "sdp" must be a string'],
    [{ type: "candidate", candidate: [] }, 'field "candidate" must be an object or null'],
    [{ type: "candidate" }, 'field "candidate" must be an object or null'],
    [{ type: "relay" }, 'field "data" must be present'],
  ];
  for (const [input, reason] of cases) {
    assert.deepEqual(toClientMessage(input as Envelope), {
      ok: false,
      code: ErrorCode.InvalidMessage,
      reason,
    });
  }
});

Deno.test("toClientMessage() answers unknown_type for server-only or unknown types", () => {
  for (
    const type of [
      "your_id",
      "paired",
      "pair_cancelled",
      "peer_left",
      "hello",
      "__proto__",
      "toString",
    ]
  ) {
    const result = toClientMessage({ type });
    assert.equal(result.ok ? "ok" : result.code, ErrorCode.UnknownType, type);
  }
});

Deno.test("toServerMessage() reads every pairing and relay message the server sends", () => {
  const messages = [
    { type: "pair_request", from: "a" },
    { type: "paired", peer: "b", initiator: true },
    { type: "pair_rejected", peer: "b", reason: "timeout" },
    { type: "pair_cancelled", from: "a", reason: "replaced" },
    { type: "peer_left", peer: "b", reason: "unpaired" },
    { type: "offer", sdp: "v=0", from: "a" },
    { type: "answer", sdp: "v=0", from: "a" },
    { type: "candidate", candidate: null, from: "a" },
    { type: "relay", data: "hi", from: "a" },
  ];
  for (const message of messages) assert.deepEqual(toServerMessage(message), message);
  assert.equal(toServerMessage({ type: "paired", peer: "b", initiator: "yes" }), undefined);
  assert.equal(toServerMessage({ type: "relay", data: "hi" }), undefined);
  assert.equal(
    toServerMessage({ type: "pair_cancelled", peer: "a", reason: "timeout" }),
    undefined,
  );
});

Deno.test("toServerMessage() knows session, peer_reconnecting and peer_back, and checks grace_s is a number", () => {
  assert.deepEqual(
    toServerMessage({ type: "session", resume_token: "t", grace_s: 15, extra: 1 }),
    { type: "session", resume_token: "t", grace_s: 15 },
  );
  assert.equal(toServerMessage({ type: "session", resume_token: "t", grace_s: "15" }), undefined);
  assert.deepEqual(toServerMessage({ type: "peer_reconnecting", peer: "b" }), {
    type: "peer_reconnecting",
    peer: "b",
  });
  assert.deepEqual(toServerMessage({ type: "peer_back", peer: "b" }), {
    type: "peer_back",
    peer: "b",
  });
});
