import assert from "node:assert/strict";
import { renderWebrtcTable, runWebrtcBench, summarise, targetLines } from "../../bench/webrtc.ts";
import { parseBenchFlags } from "../../bench/run.ts";

Deno.test("parseBenchFlags() reads the WebRTC flags and rejects an unknown kind", () => {
  const flags = parseBenchFlags(["--webrtc", "--pairings", "3", "--kinds", "cli"]);
  assert.equal(flags.webrtc, true);
  assert.equal(flags.pairings, 3);
  assert.deepEqual(flags.kinds, ["cli"]);
  assert.throws(() => parseBenchFlags(["--kinds", "firefox"]), /unknown kind/);
});

Deno.test("summarise() counts a pairing that never opened as a failure, not as a time", () => {
  const s = summarise([
    { ok: true, openMs: [50, 70], roundTripsMs: [3, 5] },
    { ok: false, openMs: [], roundTripsMs: [], error: "no channel" },
  ]);
  assert.deepEqual([s.ok, s.tried, s.openMax, s.firstError], [1, 2, 70, "no channel"]);
  assert.match(targetLines({ cli: [] }).join("\n"), /0\/0/);
});

Deno.test({
  name: "runWebrtcBench() opens a channel for two CLI peers and two Chromium pages",
  // The peers' processes are SIGKILLed on purpose; the browser's pipes close with it.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const results = await runWebrtcBench({
      pairings: 2,
      echoes: 2,
      kinds: ["cli", "cli-code", "chromium"],
      logDir: "/tmp",
    });
    for (const kind of ["cli", "cli-code", "chromium"] as const) {
      const pairings = results[kind] ?? [];
      assert.equal(pairings.length, 2, kind);
      for (const pairing of pairings) {
        assert.ok(pairing.ok, `${kind}: ${pairing.error}`);
        assert.equal(pairing.openMs.length, 2, kind);
        assert.equal(pairing.roundTripsMs.length, 2, kind);
        for (const ms of [...pairing.openMs, ...pairing.roundTripsMs]) {
          assert.ok(Number.isFinite(ms) && ms >= 0, `${kind}: ${ms}`);
        }
      }
    }
    assert.match(
      renderWebrtcTable(results),
      /\| pairings open\s+\| 2\/2\s+\| 2\/2\s+\| 2\/2\s+\|/,
    );
  },
});
