import assert from "node:assert/strict";
import { SignalStopper } from "../../lib/server/signals.ts";

Deno.test("SignalStopper starts one shutdown, and a second signal exits with 130", async () => {
  let shutdowns = 0;
  let now = 0;
  const exits: number[] = [];
  let finish = (): void => {};
  const stopper = new SignalStopper(
    () => {
      shutdowns++;
      return new Promise((resolve) => finish = resolve);
    },
    (code) => exits.push(code),
    () => now,
  );
  assert.equal(stopper.stopped, undefined);
  stopper.signal();
  assert.equal(shutdowns, 1);
  // The same signal delivered twice (deno task forwards it) is not a second one.
  now = 10;
  stopper.signal();
  assert.deepEqual(exits, []);
  now = 600;
  stopper.signal();
  assert.equal(shutdowns, 1);
  assert.deepEqual(exits, [130]);
  finish();
  await stopper.stopped;
});
