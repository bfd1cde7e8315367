import assert from "node:assert/strict";
import { TokenBucket } from "../../lib/server/rate_limit.ts";

Deno.test("take() allows a full burst at once, then refuses", () => {
  const bucket = new TokenBucket(10, 5, 0);
  for (let i = 0; i < 5; i++) assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(0), false);
});

Deno.test("take() refills at the rate", () => {
  const bucket = new TokenBucket(10, 5, 0);
  for (let i = 0; i < 5; i++) bucket.take(0);
  assert.equal(bucket.take(50), false); // half a token
  assert.equal(bucket.take(100), true); // one token after 100 ms at 10/s
  assert.equal(bucket.take(100), false);
});

Deno.test("take() never stores more than the burst", () => {
  const bucket = new TokenBucket(10, 3, 0);
  let allowed = 0;
  while (bucket.take(60_000)) allowed++;
  assert.equal(allowed, 3);
});

Deno.test("take() sustains exactly the rate over time", () => {
  const bucket = new TokenBucket(20, 1, 0);
  let allowed = 0;
  for (let t = 0; t <= 10_000; t += 5) if (bucket.take(t)) allowed++;
  assert.ok(allowed >= 200 && allowed <= 201, `allowed ${allowed}`);
});

Deno.test("take() tolerates a clock that goes backwards", () => {
  const bucket = new TokenBucket(10, 1, 1000);
  assert.equal(bucket.take(1000), true);
  assert.equal(bucket.take(500), false);
});

Deno.test("TokenBucket rejects a rate or burst that is not positive", () => {
  assert.throws(() => new TokenBucket(0, 5, 0), RangeError);
  assert.throws(() => new TokenBucket(5, 0, 0), RangeError);
  assert.throws(() => new TokenBucket(Number.NaN, 5, 0), RangeError);
});
