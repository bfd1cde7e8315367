import assert from "node:assert/strict";
import { backoffDelay } from "../lib/backoff.ts";

Deno.test("backoffDelay() doubles from the base each attempt", () => {
  const high = () => 0.999999;
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => Math.round(backoffDelay(n, 100, 60_000, high))),
    [100, 200, 400, 800],
  );
});

Deno.test("backoffDelay() keeps the lower half fixed and jitters the upper half", () => {
  assert.equal(backoffDelay(3, 500, 30_000, () => 0), 1000);
  assert.equal(backoffDelay(3, 500, 30_000, () => 0.5), 1500);
  for (let i = 0; i < 1000; i++) {
    const delay = backoffDelay(2, 500, 30_000);
    assert.ok(delay >= 500 && delay < 1000, `delay ${delay}`);
  }
});

Deno.test("backoffDelay() is capped at the maximum", () => {
  assert.ok(backoffDelay(40, 500, 30_000) <= 30_000);
  assert.equal(backoffDelay(40, 500, 30_000, () => 0), 15_000);
});
