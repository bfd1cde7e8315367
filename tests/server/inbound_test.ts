import assert from "node:assert/strict";
import { inspectFrame } from "../../lib/server/inbound.ts";
import { TokenBucket } from "../../lib/server/rate_limit.ts";

const plenty = () => new TokenBucket(1000, 1000, 0);

Deno.test("inspectFrame() passes a known message on", () => {
  assert.deepEqual(inspectFrame('{"type":"pair_request","target":"x"}', 1000, plenty(), 0), {
    kind: "message",
    message: { type: "pair_request", target: "x" },
  });
});

Deno.test("inspectFrame() measures text in UTF-8 bytes against the limit", () => {
  // 4 characters, 12 bytes.
  assert.deepEqual(inspectFrame("€€€€", 10, plenty(), 0), { kind: "too_big", size: 12 });
  assert.deepEqual(inspectFrame(new ArrayBuffer(11), 10, plenty(), 0), {
    kind: "too_big",
    size: 11,
  });
});

Deno.test("inspectFrame() judges size before rate, so a huge frame never takes a token", () => {
  const bucket = new TokenBucket(1, 1, 0);
  assert.equal(inspectFrame("x".repeat(11), 10, bucket, 0).kind, "too_big");
  assert.equal(inspectFrame('{"type":"unpair"}', 100, bucket, 0).kind, "message");
  assert.equal(inspectFrame('{"type":"unpair"}', 100, bucket, 0).kind, "rate_limited");
});

Deno.test("inspectFrame() answers binary, bad JSON and unknown messages as bad input", () => {
  const binary = inspectFrame(new ArrayBuffer(3), 100, plenty(), 0);
  assert.deepEqual(binary, {
    kind: "bad",
    code: "binary_not_supported",
    reason: "binary frames are not supported (3 bytes); send JSON text",
  });
  const json = inspectFrame("{", 100, plenty(), 0);
  assert.ok(json.kind === "bad" && json.code === "invalid_json" && json.reason.endsWith(": {"));
  const unknown = inspectFrame('{"type":"nope"}', 100, plenty(), 0);
  assert.ok(unknown.kind === "bad", JSON.stringify(unknown));
});
