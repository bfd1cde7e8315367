import assert from "node:assert/strict";
import { getLogger } from "../../lib/runtime/deps.ts";
import { setupLogging } from "../../lib/runtime/logging.ts";
import { Narration } from "../../lib/signaling/narration.ts";
import { LogCapture } from "../support/helpers.ts";

function narrated(): { narrate: Narration; logs: LogCapture } {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink, level: "debug" });
  return { narrate: new Narration(getLogger(["switchboard", "test"])), logs };
}

Deno.test("Narration logs each pairing event as one line naming both clients", () => {
  const { narrate, logs } = narrated();
  narrate.requested("a", "b");
  narrate.paired("a", "b");
  narrate.rejected("b", "a");
  narrate.unpaired("a", "b");
  narrate.left("a", "b");
  narrate.targetLeft("a", "b");
  narrate.targetPaired("a", "b");
  narrate.cancelled("a", "b", "replaced");
  narrate.timedOut("a", "b");
  narrate.reconnecting("a", "b");
  narrate.back("a", "b");
  narrate.relayed("offer", "a", "b");
  assert.deepEqual(logs.lines, [
    "INFO: Client a asked to pair with b.",
    "INFO: Clients a and b paired.",
    "INFO: Client b rejected pairing with a.",
    "INFO: Client a unpaired from b.",
    "INFO: Client a left; told its partner b.",
    "INFO: Pair request from a to b ended: the target left.",
    "INFO: Pair request from a to b ended: the target paired with another.",
    "INFO: Pair request from a to b cancelled (replaced).",
    "INFO: Pair request from a to b timed out.",
    "INFO: Client a is reconnecting; told its partner b.",
    "INFO: Client a is back; told its partner b.",
    "DEBUG: Relayed offer from a to b.",
  ]);
});

Deno.test("Narration.cancelled() says nothing for a timeout, which has its own line", () => {
  const { narrate, logs } = narrated();
  narrate.cancelled("a", "b", "timeout");
  assert.deepEqual(logs.lines, []);
});
