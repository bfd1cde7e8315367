import assert from "node:assert/strict";
import { generateKey, hashKey } from "../../lib/auth/key_file.ts";
import { checkUpgrade, offeredSubprotocols, wantsUpgrade } from "../../lib/server/handshake.ts";
import { HANDSHAKE_HEADERS, rawRequest, testServer } from "../support/helpers.ts";
import { RawWebSocket } from "../support/raw_websocket.ts";

function request(headers: Record<string, string | undefined>, method = "GET"): Request {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...HANDSHAKE_HEADERS, ...headers })) {
    if (v !== undefined) merged[k] = v;
  }
  return new Request("http://127.0.0.1/", { method, headers: merged });
}

Deno.test("wantsUpgrade() is true only for Upgrade: websocket, in any case", () => {
  assert.equal(wantsUpgrade(request({ upgrade: "WebSocket" })), true);
  assert.equal(wantsUpgrade(request({ upgrade: "h2c" })), false);
  assert.equal(wantsUpgrade(new Request("http://127.0.0.1/")), false);
});

Deno.test("checkUpgrade() accepts a well-formed handshake", () => {
  assert.equal(checkUpgrade(request({}), []), undefined);
  assert.equal(checkUpgrade(request({ connection: "keep-alive, Upgrade" }), []), undefined);
});

Deno.test("checkUpgrade() refuses a handshake without Host with 400", () => {
  assert.equal(checkUpgrade(request({ host: undefined }), [])?.status, 400);
});

Deno.test("checkUpgrade() answers 426 with the supported version for another version", () => {
  const refusal = checkUpgrade(request({ "sec-websocket-version": "8" }), []);
  assert.equal(refusal?.status, 426);
  assert.deepEqual(refusal?.headers, { "sec-websocket-version": "13" });
  assert.equal(checkUpgrade(request({ "sec-websocket-version": undefined }), [])?.status, 426);
});

Deno.test("checkUpgrade() answers 400 for a missing or malformed key", () => {
  assert.equal(checkUpgrade(request({ "sec-websocket-key": undefined }), [])?.status, 400);
  assert.equal(checkUpgrade(request({ "sec-websocket-key": "short" }), [])?.status, 400);
});

Deno.test("checkUpgrade() answers 400 without Connection: Upgrade or for a POST", () => {
  assert.equal(checkUpgrade(request({ connection: "keep-alive" }), [])?.status, 400);
  assert.equal(checkUpgrade(request({}, "POST"), [])?.status, 400);
});

Deno.test("checkUpgrade() answers 403 for an origin that is not allowed", () => {
  const allowed = ["https://app.example"];
  assert.equal(checkUpgrade(request({ origin: "https://app.example" }), allowed), undefined);
  assert.equal(checkUpgrade(request({ origin: "https://evil.example" }), allowed)?.status, 403);
  assert.equal(checkUpgrade(request({ origin: "null" }), allowed)?.status, 403);
  assert.equal(checkUpgrade(request({ origin: "https://evil.example" }), []), undefined);
});

Deno.test("checkUpgrade() accepts a request without Origin, which no browser sends", () => {
  assert.equal(checkUpgrade(request({}), ["https://app.example"]), undefined);
});

Deno.test("checkUpgrade() quotes, escapes and shortens header values in its reason", () => {
  const origin = `https://evil.example/\t${"x".repeat(10_000)}`;
  const reason = checkUpgrade(request({ origin }), ["https://app.example"])?.reason ?? "";
  assert.ok(reason.length < 100, reason);
  assert.ok(!reason.includes("\t"));
  assert.match(reason, /^origin "https:\/\/evil\.example\/\\\\txx+…" not allowed$/);
});

Deno.test("offeredSubprotocols() reads the list whatever the whitespace around its commas", () => {
  for (const offered of ["a,b", "a ,b", "a,\tb", " a , b ", "a,,b", "a, b"]) {
    assert.deepEqual(offeredSubprotocols(request({ "sec-websocket-protocol": offered })), [
      "a",
      "b",
    ]);
  }
  assert.deepEqual(offeredSubprotocols(request({})), []);
});

Deno.test("a subprotocol list without spaces (switchboard,switchboard.key.K) upgrades, answers switchboard, and the connection works", async () => {
  const key = generateKey();
  await using t = testServer({
    apiKeys: [{ label: "acme", sha256: hashKey(key), createdAt: "2026-01-01T00:00:00.000Z" }],
  });
  for (
    const offered of [`switchboard,switchboard.key.${key}`, `switchboard.key.${key} ,\tswitchboard`]
  ) {
    const raw = await rawRequest(t.port, {
      ...HANDSHAKE_HEADERS,
      "sec-websocket-protocol": offered,
    });
    raw.conn.close();
    assert.equal(raw.status, 101, raw.head);
    assert.match(raw.head, /\r\nsec-websocket-protocol: switchboard\r\n/i);
    assert.ok(!raw.head.includes(key));
  }
  // Two such clients pair and relay: the upgraded connection is a working one.
  const header = { "sec-websocket-protocol": `switchboard,switchboard.key.${key}` };
  const a = await RawWebSocket.connect(t.port, "/", header);
  const b = await RawWebSocket.connect(t.port, "/", header);
  try {
    const aId = (await a.next() as { id: string }).id;
    const bId = (await b.next() as { id: string }).id;
    await a.send({ type: "pair_request", target: bId });
    assert.deepEqual(await b.next(), { type: "pair_request", from: aId });
    await b.send({ type: "pair_accept", from: aId });
    assert.equal((await a.next() as { type: string }).type, "paired");
    assert.equal((await b.next() as { type: string }).type, "paired");
    await a.send({ type: "relay", data: "no spaces" });
    assert.deepEqual(await b.next(), { type: "relay", data: "no spaces", from: aId });
  } finally {
    a.drop();
    b.drop();
  }
  assert.equal(t.logs.matching(/Refused a handshake/).length, 0, t.logs.lines.join("\n"));
});
