import assert from "node:assert/strict";
import {
  CLUSTER_RELAY_SETUPS,
  clusterTargetLines,
  renderChurnTable,
  renderResumeTable,
  runClusterBench,
} from "../../bench/cluster.ts";
import { renderRelayTable } from "../../bench/relay.ts";
import { parseBenchFlags } from "../../bench/run.ts";

Deno.test("parseBenchFlags() gives --cluster its own short defaults, and flags still win", () => {
  const cluster = parseBenchFlags(["--cluster"]);
  assert.deepEqual(
    [cluster.cluster, cluster.rounds, cluster.churnN, cluster.pairs, cluster.resumeRuns],
    [true, 3, 10_000, 5, 20],
  );
  assert.equal(parseBenchFlags(["--cluster", "--rounds", "7"]).rounds, 7);
  // The other modes keep theirs.
  const plain = parseBenchFlags([]);
  assert.deepEqual([plain.rounds, plain.churnN, plain.pairs], [5, 20_000, 100]);
});

Deno.test({
  name:
    "runClusterBench() churns keyed clients on one instance and on two sharing Redis, times a " +
    "resume after SIGKILL, relays with keys across instances and times tenant refusals",
  // Instances are SIGKILLed on purpose, and the client process with them.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const logDir = await Deno.makeTempDir({ prefix: "switchboard-bench-cluster-test-" });
    try {
      const results = await runClusterBench({
        rounds: 1,
        warmup: 50,
        churnN: 200,
        concurrency: 20,
        resumeRuns: 2,
        pairs: 2,
        relayMessages: 50,
        logDir,
      });
      for (const rounds of [results.single, results.cluster]) {
        assert.equal(rounds[0]?.ok, 200);
        assert.deepEqual(rounds[0]?.errors, {});
        assert.ok(rounds[0]?.distinctIds);
      }
      assert.equal(results.resume.length, 2);
      for (const run of results.resume) {
        assert.equal(run.error, undefined);
        assert.ok(run.ms !== undefined && run.ms > 0 && run.ms < 15_000, String(run.ms));
        assert.ok(run.partnerTold);
      }
      for (const setup of CLUSTER_RELAY_SETUPS) {
        assert.equal(results.relay.get(setup)?.[0]?.delivered, 200, setup);
      }
      assert.match(renderChurnTable(results), /server CPU per connection \(µs\)/);
      assert.match(
        renderResumeTable(results.resume),
        /runs reconnected, same id and partner +\| 2\/2 /,
      );
      assert.match(renderRelayTable(results.relay), /redis-cross-keys/);
      const targets = clusterTargetLines(results).join("\n");
      assert.match(targets, /connections per server CPU-second, cluster instance \/ lone instance/);
      assert.match(targets, /SIGKILL → Reconnected: p50 \d+ ms, p90 \d+ ms over 2\/2 runs/);
      assert.match(targets, /relay with keys, cross-instance p50 - same-instance p50/);
      // Every refusal was unknown_peer, to the other key's client as to random ids.
      assert.equal(results.tenants?.otherKey.length, 50);
      assert.equal(results.tenants?.unknown.length, 50);
      assert.match(targets, /unknown_peer for another key's client vs an id nobody has/);
    } finally {
      await Deno.remove(logDir, { recursive: true });
    }
  },
});
