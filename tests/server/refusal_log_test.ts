import assert from "node:assert/strict";
import { setupLogging } from "../../lib/runtime/logging.ts";
import { RefusalLog } from "../../lib/server/refusal_log.ts";
import { LogCapture } from "../support/helpers.ts";

Deno.test("RefusalLog reports the skipped count when the window ends, with no refusal after", async () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const log = new RefusalLog(2, 50);
  try {
    const now = performance.now();
    const logged = Array.from({ length: 5 }, () => log.admit(now).log);
    assert.deepEqual(logged, [true, true, false, false, false]);
    await logs.waitFor(/^WARNING: 3 more refusals in the last 0\.05 s were not logged\.$/);
  } finally {
    log.close();
  }
  assert.equal(logs.lines.length, 1);
});

Deno.test("RefusalLog.close() reports a count not yet reported and stops the timer", () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const log = new RefusalLog(1, 60_000);
  log.admit(0);
  log.admit(1);
  log.close();
  assert.deepEqual(logs.lines, ["WARNING: 1 more refusals in the last 60 s were not logged."]);
});

Deno.test("RefusalLog.warn() logs a refusal as a warning, within the window's cap", () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const log = new RefusalLog(1, 60_000);
  try {
    log.warn("Refused {who}", "Refused {who} ({skipped} more)", { who: "a" });
    log.warn("Refused {who}", "Refused {who} ({skipped} more)", { who: "b" });
    assert.deepEqual(logs.lines, ["WARNING: Refused a"]);
  } finally {
    log.close();
  }
});
