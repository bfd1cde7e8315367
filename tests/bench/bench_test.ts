import assert from "node:assert/strict";
import { keyLines, notes, rows, runBench } from "../../bench/bench.ts";
import { markdownTable, renderTable } from "../../bench/table.ts";
import { percentile, spread } from "../../bench/stats.ts";

Deno.test("percentile() picks a measured sample by nearest rank", () => {
  assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
  assert.equal(percentile([5, 1, 4, 2, 3], 100), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
});

Deno.test({
  name: "runBench() runs churn, hold and abrupt on both servers, and churn with API keys",
  // The abrupt mode's holder process is killed with SIGKILL on purpose.
  sanitizeResources: false,
  async fn() {
    // Server logs go to a directory of the test's own, removed afterwards.
    const logDir = await Deno.makeTempDir({ prefix: "switchboard-bench-test-" });
    try {
      const results = await runBench({
        modes: ["churn", "hold", "abrupt"],
        rounds: 1,
        warmup: 100,
        churnN: 300,
        concurrency: 20,
        holdN: 200,
        holdSeconds: 0,
        abruptN: 200,
        logDir,
        pin: false,
      });
      for (const server of [results.ours, results.baseline]) {
        const [churn] = server.churn;
        assert.equal(churn?.ok, 300, server.name);
        assert.deepEqual(churn?.errors, {});
        assert.ok(churn?.distinctIds);
        assert.equal(server.hold[0]?.held, 200);
        assert.equal(server.hold[0]?.serverClients, 200);
        assert.equal(server.abrupt[0]?.held, 200);
        assert.ok((server.abrupt[0]?.forgetMs ?? Infinity) < 10_000);
      }
      assert.match(renderTable(rows(results)), /churn: connections\/s/);
      const keyed = results.keyed?.churn[0];
      assert.equal(keyed?.ok, 300);
      assert.deepEqual(keyed?.errors, {});
      const [, cpu] = keyLines(results);
      assert.match(
        cpu ?? "",
        /server CPU per connection \(µs\): \d+ .* with keys, \d+ .* without; ratio \d/,
      );
      // Access tokens too, ES256 and HS256, each verified on every handshake.
      assert.deepEqual(results.tokens?.map((t) => [t.name, t.churn[0]?.ok, t.churn[0]?.errors]), [
        ["Switchboard-tokens-ES256", 300, {}],
        ["Switchboard-tokens-HS256", 300, {}],
      ]);
      assert.deepEqual(results.webhooks?.map((w) => [w.name, w.churn[0]?.ok, w.churn[0]?.errors]), [
        ["Switchboard-webhook-stalled", 300, {}],
        ["Switchboard-webhook", 300, {}],
      ]);
      assert.ok((results.webhookRates?.[0] ?? 0) > 0, `${results.webhookRates}`);
      const lines = keyLines(results).join("\n");
      assert.match(lines, /a receiver that never answers/);
      assert.match(lines, /webhook deliveries\/s to the answering receiver, one at a time: \d+/);
      assert.match(lines, /Switchboard-tokens-ES256, churn/);
      assert.match(lines, /server CPU per connection \(µs\): \d+ .* with tokens, \d+ .* without/);
      // Every connection logged its two lines: none dropped.
      const logLines = (await notes(results)).filter((l) => l.includes(" log "));
      // One log per server process: the long-running ones, and one per hold round.
      assert.equal(logLines.length, 5, logLines.join("\n"));
      for (const line of logLines) {
        const match = /(\d+) connect and (\d+) disconnect lines for (\d+)/.exec(line);
        assert.ok(match, line);
        const [, connects, disconnects, connections] = match;
        assert.ok(Number(connections) > 0, line);
        assert.equal(connects, connections, line);
        assert.equal(disconnects, connections, line);
      }
    } finally {
      await Deno.remove(logDir, { recursive: true });
    }
  },
});

Deno.test("markdownTable() pads every column to its widest cell, header first", () => {
  assert.equal(
    markdownTable([["figure", "a"], ["longer label", "1234"]]),
    [
      "| figure       | a    |",
      "|--------------|------|",
      "| longer label | 1234 |",
    ].join("\n"),
  );
});
