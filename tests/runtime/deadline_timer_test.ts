import assert from "node:assert/strict";
import { DeadlineTimer, timerDelay } from "../../lib/runtime/deadline_timer.ts";
import { within } from "../support/helpers.ts";

Deno.test("DeadlineTimer fires for each deadline in order, once each, then disarms", async () => {
  const start = performance.now();
  const deadlines = [start + 30, start + 10, start + 20];
  const fired: number[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = new DeadlineTimer(
    () => deadlines.length === 0 ? undefined : Math.min(...deadlines),
    (now) => {
      for (const at of deadlines.filter((at) => at <= now)) {
        fired.push(at);
        deadlines.splice(deadlines.indexOf(at), 1);
      }
      if (deadlines.length === 0) resolve();
    },
  );
  timer.reschedule();
  await promise;
  assert.deepEqual(fired, [start + 10, start + 20, start + 30]);
  assert.equal(timer.armed, false);
});

Deno.test("DeadlineTimer.reschedule() moves the timer earlier but never later", async () => {
  let deadline: number | undefined = performance.now() + 60_000;
  const fired = Promise.withResolvers<number>();
  const timer = new DeadlineTimer(() => deadline, (now) => {
    deadline = undefined;
    fired.resolve(now);
  });
  timer.reschedule();
  const before = performance.now();
  deadline = before + 10;
  timer.reschedule();
  const firedAt = await within(fired.promise, 5_000, "the timer, moved a minute earlier, to fire");
  assert.ok(
    firedAt >= before + 10,
    `fired ${firedAt - before} ms after the move, before its deadline`,
  );
  assert.equal(timer.armed, false);
});

Deno.test("DeadlineTimer.stop() cancels a pending firing", async () => {
  let fired = false;
  const timer = new DeadlineTimer(() => performance.now() + 5, () => fired = true);
  timer.reschedule();
  assert.equal(timer.armed, true);
  timer.stop();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(fired, false);
  assert.equal(timer.armed, false);
});

Deno.test("timerDelay() keeps a delay within what setTimeout honours", () => {
  assert.equal(timerDelay(-1), 0);
  assert.equal(timerDelay(250), 250);
  assert.equal(timerDelay(9.01), 10, "never before the deadline");
  assert.equal(timerDelay(2 ** 31), 2 ** 31 - 1);
});
