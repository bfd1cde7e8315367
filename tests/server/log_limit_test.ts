import assert from "node:assert/strict";
import { LogLimit } from "../../lib/server/log_limit.ts";

Deno.test("admit() lets max lines through per window and skips the rest", () => {
  const limit = new LogLimit(3, 1000);
  const results = Array.from({ length: 10 }, (_, i) => limit.admit(i).log);
  assert.deepEqual(results, [true, true, true, false, false, false, false, false, false, false]);
});

Deno.test("admit() reports the skipped count on the next line let through", () => {
  const limit = new LogLimit(1, 1000);
  assert.deepEqual(limit.admit(0), { log: true, skipped: 0 });
  for (let i = 1; i <= 5; i++) assert.deepEqual(limit.admit(i), { log: false });
  assert.deepEqual(limit.admit(1000), { log: true, skipped: 5 });
  assert.deepEqual(limit.admit(2500), { log: true, skipped: 0 });
});

Deno.test("admit() starts a new window only after windowMs", () => {
  const limit = new LogLimit(1, 1000);
  assert.equal(limit.admit(0).log, true);
  assert.equal(limit.admit(999).log, false);
  assert.equal(limit.admit(1000).log, true);
});

Deno.test("takeSkipped() hands over the count once the window is over, and only once", () => {
  const limit = new LogLimit(1, 1000);
  limit.admit(0);
  limit.admit(1);
  limit.admit(2);
  assert.equal(limit.windowEndsAt, 1000);
  assert.equal(limit.takeSkipped(999), 0);
  assert.equal(limit.takeSkipped(1000), 2);
  assert.equal(limit.takeSkipped(1001), 0);
  assert.deepEqual(limit.admit(1500), { log: true, skipped: 0 });
});
