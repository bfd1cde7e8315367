import assert from "node:assert/strict";
import {
  checkMessage,
  CLIENT_SCHEMA,
  ErrorCode,
  HttpPath,
  KEY_SUBPROTOCOL_PREFIX,
  MessageType,
  parseEnvelope,
  readServerMessage,
  SERVER_SCHEMA,
  SUBPROTOCOL,
} from "../../lib/shared/protocol.js";
import * as credentials from "../../lib/auth/credentials.ts";

Deno.test("readServerMessage() keeps a server message's declared fields only", () => {
  assert.deepEqual(readServerMessage('{"type":"peer_left","peer":"b","reason":"unpaired","x":1}'), {
    ok: true,
    message: { type: "peer_left", peer: "b", reason: "unpaired" },
  });
  assert.deepEqual(
    readServerMessage('{"type":"paired","peer":"b","initiator":true}'),
    { ok: true, message: { type: "paired", peer: "b", initiator: true } },
  );
});

Deno.test("readServerMessage() refuses what the server never sends, with the reason", () => {
  const cases: [string, string][] = [
    ["not json", "not valid JSON"],
    ["[]", "a message must be a JSON object"],
    ['{"type":"pair_accept","from":"a"}', 'unknown message type "pair_accept"'],
    ['{"type":"paired","peer":"b","initiator":"yes"}', 'field "initiator" must be a boolean'],
    [
      '{"type":"paired","peer":"b","initiator":true,"iceServers":{}}',
      'field "iceServers" must be an array',
    ],
    ['{"type":"session","resume_token":"t","grace_s":null}', 'field "grace_s" must be a number'],
    ['{"type":"relay","from":"b"}', 'field "data" must be present'],
  ];
  for (const [text, reason] of cases) {
    const checked = readServerMessage(text);
    assert.equal(checked.ok, false, text);
    assert.equal(!checked.ok && checked.reason, reason, text);
  }
});

Deno.test("checkMessage() cuts an unknown type short in its reason", () => {
  const checked = checkMessage({ type: "x".repeat(100) }, CLIENT_SCHEMA);
  assert.deepEqual(checked, {
    ok: false,
    code: ErrorCode.UnknownType,
    reason: `unknown message type "${"x".repeat(40)}…"`,
  });
});

Deno.test("parseEnvelope() never throws, whatever the text", () => {
  for (const text of ["", "\u0000", "{".repeat(10_000), '{"type":"x","__proto__":{"a":1}}']) {
    assert.equal(typeof parseEnvelope(text).ok, "boolean");
  }
});

Deno.test("the schemas name only declared message types", () => {
  const types = new Set<string>(Object.values(MessageType));
  for (const schema of [CLIENT_SCHEMA, SERVER_SCHEMA]) {
    for (const type of Object.keys(schema)) assert.ok(types.has(type), type);
  }
  // Every type travels one way or the other.
  for (const type of types) {
    assert.ok(Object.hasOwn(CLIENT_SCHEMA, type) || Object.hasOwn(SERVER_SCHEMA, type), type);
  }
});

Deno.test("the page's subprotocols and paths are the ones the server answers", () => {
  assert.equal(SUBPROTOCOL, credentials.SUBPROTOCOL);
  assert.equal(KEY_SUBPROTOCOL_PREFIX, credentials.KEY_SUBPROTOCOL_PREFIX);
  assert.deepEqual(HttpPath, { Health: "/healthz", Config: "/config.json" });
});
