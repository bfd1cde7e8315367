import assert from "node:assert/strict";
import { setupLogging } from "../../lib/runtime/logging.ts";
import { stuckSocketLog } from "../../lib/server/stuck_sockets.ts";
import { LogCapture } from "../support/helpers.ts";

Deno.test("stuckSocketLog() says which kind got stuck, with the close timeout", () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const log = stuckSocketLog(5);
  log({ address: "192.0.2.1", kind: "unopened" });
  log({ address: "192.0.2.2", kind: "unclosed" });
  assert.equal(logs.lines.length, 2);
  assert.match(logs.lines[0]!, /^WARNING: A handshake from .*192\.0\.2\.1.* never opened/);
  assert.match(logs.lines[1]!, /^WARNING: The peer at .*192\.0\.2\.2.* within 5 s;/);
});

Deno.test("stuckSocketLog() logs ten lines per window, then names the skipped ones", () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const log = stuckSocketLog(5);
  for (let i = 0; i < 15; i++) log({ address: "192.0.2.1", kind: "unopened" });
  assert.equal(logs.lines.length, 10);
  assert.ok(logs.lines.every((line) => !line.includes("not logged")));
});
