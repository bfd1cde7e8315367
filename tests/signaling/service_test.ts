import assert from "node:assert/strict";
import { refuseOptions } from "../../lib/signaling/service.ts";

const WHY = { canReach: "the tenant rule is not shared", absentees: "no resume" };

Deno.test("refuseOptions() lets through options that ask nothing unsupported", () => {
  refuseOptions("Example", { pairTimeoutMs: 1000, iceServers: [] }, WHY);
});

Deno.test("refuseOptions() throws a TypeError naming the option and why", () => {
  assert.throws(
    () => refuseOptions("Example", { pairTimeoutMs: 1000, canReach: () => true }, WHY),
    new TypeError("Example cannot honour the option canReach: the tenant rule is not shared."),
  );
});
