import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { withoutDefaultStun } from "../../../lib/cli/werift/stun_default.ts";

Deno.test({
  name: "withoutDefaultStun() leaves werift with no STUN server unless one is configured",
  // Loading werift starts timers of its own that outlive the test.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    const unpatched = new werift.Connection(true, {});
    assert.ok(unpatched.stunServer, "werift defaults to a public STUN server");
    withoutDefaultStun(werift);
    withoutDefaultStun(werift); // idempotent
    assert.equal(new werift.Connection(true, {}).stunServer, undefined);
    const configured = new werift.Connection(true, { stunServer: ["127.0.0.1", 3478] });
    assert.deepEqual(configured.stunServer, ["127.0.0.1", 3478]);
  },
});

Deno.test("withoutDefaultStun() fails loudly when werift's code no longer matches", () => {
  class Missing {}
  assert.throws(
    () => withoutDefaultStun({ Connection: Missing } as never),
    /applyStunTurnServersFromOptions is missing/,
  );
  class Changed {
    applyStunTurnServersFromOptions() {}
  }
  assert.throws(
    () => withoutDefaultStun({ Connection: Changed } as never),
    /no longer defaults to a STUN server/,
  );
});
