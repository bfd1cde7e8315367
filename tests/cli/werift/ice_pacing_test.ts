import assert from "node:assert/strict";
import { icePacingPatch, removeIcePacingDelay } from "../../../lib/cli/werift/ice_pacing.ts";

/** A module whose ICE `Connection` has these methods. */
function withConnection(methods: Record<string, unknown>) {
  const Connection = class {};
  Object.assign(Connection.prototype, methods);
  return { Connection, ICE_COMPLETED: 1, ICE_FAILED: 2 } as never;
}

Deno.test("removeIcePacingDelay() throws, naming the method, when the pacing sleep is gone", () => {
  const werift = withConnection({ connect() {}, checkComplete() {} });
  assert.throws(
    () => removeIcePacingDelay(werift),
    /Connection\.prototype\.connect no longer contains "await timers\.setTimeout\(20\);"/,
  );
  assert.equal(icePacingPatch.isApplied(werift), false, "nothing was patched");
});

Deno.test("removeIcePacingDelay() throws when werift no longer exports the ICE connection", () => {
  assert.throws(() => removeIcePacingDelay({} as never), /Connection is not exported as a class/);
});
