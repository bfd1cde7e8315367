import assert from "node:assert/strict";
import { checkUpgrade, wantsUpgrade } from "../lib/handshake.ts";
import { HANDSHAKE_HEADERS } from "./helpers.ts";

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
