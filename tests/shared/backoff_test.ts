import assert from "node:assert/strict";
import { backoffDelay } from "../../lib/shared/backoff.js";

Deno.test("backoffDelay() waits the base before the first retry and doubles after", () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(n, 100, 60_000, () => 0)),
    [100, 200, 400, 800],
  );
});

Deno.test("backoffDelay() adds up to half again at random, never less than the delay", () => {
  assert.equal(backoffDelay(3, 500, 30_000, () => 0.5), 2500);
  for (let i = 0; i < 1000; i++) {
    const delay = backoffDelay(2, 500, 30_000);
    assert.ok(delay >= 1000 && delay < 1500, `delay ${delay}`);
  }
});

Deno.test("backoffDelay() is capped, before jitter, at the cap", () => {
  assert.equal(backoffDelay(40, 500, 30_000, () => 0), 30_000);
  assert.ok(backoffDelay(40, 500, 30_000) < 45_000);
});

Deno.test("backoffDelay() never waits less than a base that exceeds the cap", () => {
  assert.equal(backoffDelay(1, 60_000, 30_000, () => 0), 60_000);
  assert.equal(backoffDelay(5, 60_000, 30_000, () => 0), 60_000);
});
