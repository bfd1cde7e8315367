import assert from "node:assert/strict";
import {
  ProgressDisplay,
  progressLine,
  sizeTimeRate,
  TTY_INTERVAL_MS,
} from "../../../lib/cli/files/progress.ts";

Deno.test("progressLine() shows bytes, percent, rate and time left", () => {
  assert.equal(
    progressLine("f", "send", 0, 1000, 0),
    "f ↑ 0 B / 1.0 kB (0 %), – MB/s, ETA –",
  );
  assert.equal(
    progressLine("f", "receive", 50_000_000, 200_000_000, 5000),
    "f ↓ 50.0 MB / 200 MB (25 %), 10.0 MB/s, ETA 15 s",
  );
  assert.match(progressLine("f", "receive", 1_000_000, 200_000_000, 5000), /ETA 16 min 35 s$/);
  assert.equal(sizeTimeRate(0, 0), "0 B in 0.0 s, – MB/s");
});

Deno.test("ProgressDisplay redraws one line in place on a terminal, a few times a second", () => {
  let now = 0;
  const out: string[] = [];
  const display = new ProgressDisplay({ write: (t) => out.push(t), tty: true, now: () => now });
  display.update("1", "a 10 %");
  display.update("1", "a 11 %");
  now = TTY_INTERVAL_MS;
  display.update("2", "b 5 %");
  assert.deepEqual(out, ["\r\x1b[2Ka 10 %", "\r\x1b[2Ka 11 %  |  b 5 %"]);
  display.clear();
  display.clear();
  assert.equal(out.at(-1), "\r\x1b[2K");
  assert.equal(out.length, 3, "clearing twice writes once");
  display.remove("1");
  assert.equal(out.at(-1), "\r\x1b[2Kb 5 %");
});
