/**
 * `deno task bench --cluster`: what `--redis` costs with API keys on, side
 * by side in one run.
 *
 * - Keyed churn: clients presenting a key connect, get their id and close,
 *   alternately on two instances sharing one Redis, against one instance
 *   without Redis; rounds alternate between the two setups.
 * - Resume across instances: a `client.ts --reconnect` behind nginx loses
 *   its instance to SIGKILL; time to its "Reconnected" line.
 * - Relay with keys: cross-instance against same-instance, beside the
 *   same pair of setups without keys (the relay benchmark's setups).
 *
 * @module
 */

import { churn, type ChurnResult } from "./load.ts";
import { type BenchKeys, writeBenchKeys } from "./keys.ts";
import { cpuSeconds } from "./proc.ts";
import { type RelayRound, type RelaySetup, runRelayBench, startRedis } from "./relay.ts";
import { type ResumeRun, runResumeBench } from "./resume.ts";
import { keyedSwitchboard, type ServerProcess, type ServerSpec, startServer } from "./servers.ts";
import { percentile, ratios, spread } from "./stats.ts";
import { markdownTable } from "./table.ts";
import { type TenantTiming, tenantTiming, tenantTimingLine } from "./tenant_timing.ts";

/** How big a cluster run is. */
export interface ClusterOptions {
  /** Churn and relay rounds per setup, alternating setups. */
  rounds: number;
  /** Churn connections per setup before anything is measured. */
  warmup: number;
  /** Connections per churn round. */
  churnN: number;
  /** Churn connections in flight. */
  concurrency: number;
  /** Instance kills timed for resume. */
  resumeRuns: number;
  /** Relay pairs exchanging messages at once. */
  pairs: number;
  /** Messages each relay client sends per round. */
  relayMessages: number;
  /** Where server logs go. */
  logDir: string;
  /** Progress notes; silent by default. */
  progress?: (line: string) => void;
}

/** One churn round, with Redis's own CPU beside the servers'. */
export interface ClusterChurn extends ChurnResult {
  /** Redis CPU per connection, µs (0 without Redis). */
  redisCpuUs: number;
}

/** Everything a cluster run measured. */
export interface ClusterResults {
  /** Churn rounds on one instance without Redis. */
  single: ClusterChurn[];
  /** Churn rounds on two instances sharing Redis. */
  cluster: ClusterChurn[];
  /** Resume runs, in order. */
  resume: ResumeRun[];
  /** Relay rounds by setup. */
  relay: Map<RelaySetup, RelayRound[]>;
  /** Refusals of another key's client against unknown ids, across instances. */
  tenants?: TenantTiming;
}

/** The relay setups this run compares: the keyed pair, and the same without keys. */
export const CLUSTER_RELAY_SETUPS: readonly RelaySetup[] = [
  "redis-same",
  "redis-cross",
  "redis-same-keys",
  "redis-cross-keys",
];

// Big enough never to refuse a bench client, and set, so every connect to
// the cluster counts the key in Redis (the Lua `keycount`), as a capped
// tenant's would.
const KEY_CAP = 1_000_000;

/** A keyed Switchboard named `name`, with `extra` arguments. */
function keyedSpec(keys: BenchKeys, name: string, extra: readonly string[] = []): ServerSpec {
  const base = keyedSwitchboard(keys.file, keys.key);
  return { ...base, name, args: (port) => [...base.args(port), ...extra] };
}

/** Runs the three parts, in order. */
export async function runClusterBench(options: ClusterOptions): Promise<ClusterResults> {
  const note = options.progress ?? (() => {});
  const keys = await writeBenchKeys(options.logDir, KEY_CAP);
  try {
    const { single, cluster, tenants } = await keyedChurn(options, keys);
    const redis = await startRedis();
    let resume: ResumeRun[];
    try {
      resume = await runResumeBench({
        runs: options.resumeRuns,
        spec: keyedSpec(keys, "keys-resume", ["--redis", redis.url]),
        keys,
        logDir: options.logDir,
        progress: note,
      });
    } finally {
      await redis.stop();
    }
    const relay = await runRelayBench({
      pairs: options.pairs,
      messages: options.relayMessages,
      rounds: options.rounds,
      logDir: options.logDir,
      setups: CLUSTER_RELAY_SETUPS,
      progress: note,
    });
    return { single, cluster, resume, relay, tenants };
  } finally {
    await keys.remove();
  }
}

/** Keyed churn: one instance in memory against two sharing Redis, alternating rounds. */
async function keyedChurn(
  options: ClusterOptions,
  keys: BenchKeys,
): Promise<{ single: ClusterChurn[]; cluster: ClusterChurn[]; tenants: TenantTiming }> {
  const note = options.progress ?? (() => {});
  const redis = await startRedis();
  const servers: ServerProcess[] = [];
  try {
    const one = await startServer(keyedSpec(keys, "keys-single"), undefined, options.logDir);
    servers.push(one);
    // The tenant timing sends a request per round trip, faster than the default rate limit.
    const clusterSpec = keyedSpec(keys, "keys-cluster", [
      "--redis",
      redis.url,
      "--rate-limit",
      "100000",
      "--rate-burst",
      "100000",
    ]);
    const pair = [
      await startServer(clusterSpec, undefined, options.logDir),
      await startServer(clusterSpec, undefined, options.logDir),
    ];
    servers.push(...pair);
    const measure = async (targets: ServerProcess[], n: number): Promise<ClusterChurn> => {
      const redis0 = targets.length > 1 ? await cpuSeconds(redis.pid) : 0;
      const result = await churn(targets, n, options.concurrency);
      const redisUsed = targets.length > 1 ? await cpuSeconds(redis.pid) - redis0 : 0;
      return { ...result, redisCpuUs: redisUsed / Math.max(1, result.ok) * 1e6 };
    };
    note(`cluster churn warm-up: ${options.warmup} connections to each setup`);
    await measure([one], options.warmup);
    await measure(pair, options.warmup);
    const single: ClusterChurn[] = [];
    const cluster: ClusterChurn[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      note(`keyed churn round ${round}/${options.rounds}: one instance, no Redis`);
      single.push(await measure([one], options.churnN));
      note(`keyed churn round ${round}/${options.rounds}: two instances, one Redis`);
      cluster.push(await measure(pair, options.churnN));
    }
    note("tenant refusals: another key's client against unknown ids");
    const tenants = await tenantTiming(
      [`ws://127.0.0.1:${pair[0]!.port}`, `ws://127.0.0.1:${pair[1]!.port}`],
      { mine: keys.key, other: keys.other },
      Math.max(50, Math.floor(options.churnN / 10)),
    );
    return { single, cluster, tenants };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
  }
}

function cell(values: readonly number[], digits: number): string {
  const s = spread(values);
  const f = (x: number) => x.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** The keyed churn as a Markdown table: medians with min–max, ratios round by round. */
export function renderChurnTable(results: ClusterResults): string {
  const { single, cluster } = results;
  const row = (label: string, pick: (r: ClusterChurn) => number, digits: number): string[] => [
    label,
    cell(single.map(pick), digits),
    cell(cluster.map(pick), digits),
    // One instance has no Redis: no ratio to take.
    single.every((r) => pick(r) === 0) ? "–" : cell(ratios(cluster.map(pick), single.map(pick)), 2),
  ];
  return markdownTable([
    ["keyed churn", "one instance", "two instances + Redis", "ratio"],
    row("connections/s (all instances)", (r) => r.connectionsPerSecond, 0),
    row("server CPU per connection (µs)", (r) => r.serverCpuUs, 0),
    row("Redis CPU per connection (µs)", (r) => r.redisCpuUs, 0),
    row("latency p50 (ms)", (r) => r.latencyMs.p50, 2),
    row("latency p99 (ms)", (r) => r.latencyMs.p99, 2),
    row("load generator CPU (% of a core)", (r) => r.loadCpuPercent, 0),
  ]);
}

/** Resume as a Markdown table. */
export function renderResumeTable(runs: readonly ResumeRun[]): string {
  const times = runs.flatMap((r) => r.ms === undefined ? [] : [r.ms]);
  const told = runs.filter((r) => r.partnerTold).length;
  return markdownTable([
    ["resume across instances", "value"],
    ["runs reconnected, same id and partner", `${times.length}/${runs.length}`],
    ["partner heard peer_reconnecting, peer_back", `${told}/${runs.length}`],
    ["SIGKILL → Reconnected p50 (ms)", percentile(times, 50).toFixed(0)],
    ["SIGKILL → Reconnected p90 (ms)", percentile(times, 90).toFixed(0)],
    [
      "SIGKILL → Reconnected min–max (ms)",
      `${percentile(times, 0).toFixed(0)}–${percentile(times, 100).toFixed(0)}`,
    ],
  ]);
}

/**
 * The three targets, checked against this run. "Per instance" is
 * read as what one instance does per second of its own CPU: the cluster's
 * instances must serve at least 0.8× the connections per CPU-second of a
 * lone instance, so that N instances on N machines (Redis on its own) serve
 * at least 0.8·N× one. Wall-clock connections/s cannot say that here: two
 * instances, Redis and the load generator share the same two cores.
 */
export function clusterTargetLines(results: ClusterResults): string[] {
  const { single, cluster, resume, relay, tenants } = results;
  const lines: string[] = [];
  if (tenants) lines.push(tenantTimingLine(tenants));
  if (single.length && cluster.length) {
    const efficiency = spread(
      ratios(single.map((r) => r.serverCpuUs), cluster.map((r) => r.serverCpuUs)),
    );
    const perInstanceRate = spread(
      ratios(
        cluster.map((r) => r.connectionsPerSecond / 2),
        single.map((r) => r.connectionsPerSecond),
      ),
    );
    const met = efficiency.median >= 0.8 ? "met" : "NOT met";
    lines.push(
      `keyed churn, connections per server CPU-second, cluster instance / lone instance: ` +
        `${efficiency.median.toFixed(2)} (${efficiency.min.toFixed(2)}–${
          efficiency.max.toFixed(2)
        }) ` +
        `(target ≥ 0.8: ${met})`,
      `  for reference, wall-clock connections/s per instance (cluster / 2) / lone instance: ` +
        `${perInstanceRate.median.toFixed(2)} (all on the same cores)`,
    );
    const errors = [...single, ...cluster].reduce(
      (sum, r) => sum + Object.values(r.errors).reduce((a, b) => a + (b ?? 0), 0),
      0,
    );
    const ok = [...single, ...cluster].reduce((sum, r) => sum + r.ok, 0);
    const distinct = [...single, ...cluster].every((r) => r.distinctIds);
    lines.push(
      `  ${ok} keyed churn connections measured, errors: ${errors}, ids ${
        distinct ? "all distinct" : "NOT distinct"
      }`,
    );
  }
  if (resume.length) {
    const times = resume.flatMap((r) => r.ms === undefined ? [] : [r.ms]);
    const p50 = percentile(times, 50);
    lines.push(
      `resume across instances, SIGKILL → Reconnected: p50 ${p50.toFixed(0)} ms, p90 ${
        percentile(times, 90).toFixed(0)
      } ms over ${times.length}/${resume.length} runs (target p50 ≤ 2000 ms: ${
        p50 <= 2000 && times.length === resume.length ? "met" : "NOT met"
      })`,
    );
    for (const [i, run] of resume.entries()) {
      if (run.error) lines.push(`  run ${i + 1} failed: ${run.error}`);
    }
  }
  const median = (setup: RelaySetup, pick: (r: RelayRound) => number) =>
    percentile(relay.get(setup)?.map(pick) ?? [], 50);
  if (relay.get("redis-same-keys")?.length && relay.get("redis-cross-keys")?.length) {
    const gap = median("redis-cross-keys", (r) => r.p50) - median("redis-same-keys", (r) => r.p50);
    lines.push(
      `relay with keys, cross-instance p50 - same-instance p50: ${gap.toFixed(2)} ms ` +
        `(target ≤ +1 ms: ${gap <= 1 ? "met" : "NOT met"})`,
    );
  }
  return lines;
}
