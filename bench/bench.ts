/**
 * The benchmark's course: start both servers, warm them up, run each mode
 * on them alternately (Switchboard, baseline, Switchboard, …) and collect
 * the figures for the table.
 *
 * @module
 */

import {
  abrupt,
  type AbruptResult,
  churn,
  type ChurnResult,
  type Errors,
  hold,
  type HoldResult,
} from "./load.ts";
import { formatKeyFile, generateKey, hashKey } from "../lib/auth/key_file.ts";
import { canPin, pinSelf } from "./proc.ts";
import {
  BASELINE,
  keyedSwitchboard,
  type ServerProcess,
  startServer,
  SWITCHBOARD,
} from "./servers.ts";
import { ratios, spread } from "./stats.ts";
import { type BenchTokens, writeBenchTokens } from "./tokens.ts";
import { type BenchWebhooks, startBenchWebhooks } from "./webhook_receivers.ts";
import type { Row } from "./table.ts";

/** The benchmark's modes. */
export type Mode = "churn" | "hold" | "abrupt";

/** Every mode, in running order. */
export const MODES: readonly Mode[] = ["churn", "hold", "abrupt"];

/** How big and how long. */
export interface BenchOptions {
  /** Which modes to run. */
  modes: readonly Mode[];
  /** Rounds per mode per server. */
  rounds: number;
  /** Connections per server before anything is measured. */
  warmup: number;
  /** Connections per churn round. */
  churnN: number;
  /** Connections in flight. */
  concurrency: number;
  /** Idle clients per hold round. */
  holdN: number;
  /** Seconds each hold lasts. */
  holdSeconds: number;
  /** Clients the killed process holds per abrupt round. */
  abruptN: number;
  /** Where server logs go. */
  logDir: string;
  /** Pin servers and load to separate CPUs when possible; true by default. */
  pin?: boolean;
  /**
   * Also churn a Switchboard with API keys, right after the plain one in
   * each round; true by default.
   */
  keys?: boolean;
  /** Progress notes; silent by default. */
  progress?: (line: string) => void;
}

/** One server's results, one entry per round. */
export interface ServerResults {
  /** The server's name. */
  name: string;
  /** Its log file. */
  logFile: string;
  /** Churn rounds. */
  churn: ChurnResult[];
  /** Hold rounds. */
  hold: HoldResult[];
  /** Abrupt rounds. */
  abrupt: AbruptResult[];
  /** Connections that got an id, warm-up included: each owes two log lines. */
  connections: number;
  /** The logs of the fresh servers the hold rounds ran on. */
  freshLogs: { file: string; connections: number }[];
}

/** Everything a run measured. */
export interface BenchResults {
  /** Switchboard's results. */
  ours: ServerResults;
  /** The baseline's results. */
  baseline: ServerResults;
  /** Switchboard with API keys, churn only; when `keys` was on and churn ran. */
  keyed?: ServerResults;
  /** Switchboard taking access tokens (ES256, then HS256), churn only; as `keyed`. */
  tokens?: ServerResults[];
  /**
   * Switchboard sending webhooks to a receiver that never answers, then to
   * one that answers at once, churn only; as `keyed`.
   */
  webhooks?: ServerResults[];
  /** The answering receiver's deliveries per second, round by round. */
  webhookRates?: number[];
  /** Whether servers and load were pinned to separate CPUs. */
  pinned: boolean;
}

const SERVER_CPU = 0;
const LOAD_CPU = 1;

/** Runs the benchmark. */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const note = options.progress ?? (() => {});
  const pinned = (options.pin ?? true) && await canPin();
  if (pinned) await pinSelf(LOAD_CPU);
  const servers: ServerProcess[] = [];
  let keyed: ServerProcess | undefined;
  let keysFile: string | undefined;
  const tokenServers: ServerProcess[] = [];
  let tokenFiles: BenchTokens | undefined;
  const webhookServers: ServerProcess[] = [];
  let receivers: BenchWebhooks | undefined;
  const webhookRates: number[] = [];
  try {
    const specs = [SWITCHBOARD, BASELINE];
    const serverCpu = pinned ? SERVER_CPU : undefined;
    for (const spec of specs) servers.push(await startServer(spec, serverCpu, options.logDir));
    if ((options.keys ?? true) && options.modes.includes("churn")) {
      // Ten keys, so the check compares the presented hash with more than one.
      const key = generateKey();
      const records = [key, ...Array.from({ length: 9 }, generateKey)].map((k, i) => ({
        label: `bench${i}`,
        sha256: hashKey(k),
        createdAt: new Date().toISOString(),
      }));
      keysFile = await Deno.makeTempFile({
        dir: options.logDir,
        prefix: "switchboard-bench-keys-",
      });
      await Deno.writeTextFile(keysFile, formatKeyFile(records));
      keyed = await startServer(keyedSwitchboard(keysFile, key), serverCpu, options.logDir);
      tokenFiles = await writeBenchTokens(options.logDir);
      for (const spec of tokenFiles.specs) {
        tokenServers.push(await startServer(spec, serverCpu, options.logDir));
      }
      receivers = await startBenchWebhooks(options.logDir);
      for (const spec of receivers.specs) {
        webhookServers.push(await startServer(spec, serverCpu, options.logDir));
      }
    }
    const results = servers.map((server): ServerResults => ({
      name: server.name,
      logFile: server.logFile,
      churn: [],
      hold: [],
      abrupt: [],
      connections: 0,
      freshLogs: [],
    }));
    const fresh = (server: ServerProcess): ServerResults => ({
      name: server.name,
      logFile: server.logFile,
      churn: [],
      hold: [],
      abrupt: [],
      connections: 0,
      freshLogs: [],
    });
    const keyedResults: ServerResults | undefined = keyed && fresh(keyed);
    const tokenResults = tokenServers.map(fresh);
    const webhookResults = webhookServers.map(fresh);
    // Each auth variant runs right after the plain one, round by round.
    const variants = [
      ...(keyed && keyedResults ? [{ server: keyed, result: keyedResults }] : []),
      ...tokenServers.map((server, i) => ({ server, result: tokenResults[i]! })),
      ...webhookServers.map((server, i) => ({ server, result: webhookResults[i]! })),
    ];
    for (const [i, server] of servers.entries()) {
      note(`warm-up: ${options.warmup} connections to ${server.name}`);
      results[i]!.connections += (await churn(server, options.warmup, options.concurrency)).ok;
    }
    for (const { server, result } of variants) {
      note(`warm-up: ${options.warmup} connections to ${server.name}`);
      result.connections += (await churn(server, options.warmup, options.concurrency)).ok;
      // The warm-up's events are delivered before round 1 counts its own.
      if (receivers && server === webhookServers[1]) {
        await deliveryRate(receivers, 0, performance.now());
      }
    }
    for (const mode of options.modes) {
      for (let round = 1; round <= options.rounds; round++) {
        for (const [i, server] of servers.entries()) {
          note(`${mode} round ${round}/${options.rounds}: ${server.name}`);
          const result = results[i]!;
          if (mode === "churn") {
            const r = await churn(server, options.churnN, options.concurrency);
            result.churn.push(r);
            result.connections += r.ok;
            // Right after the plain run, so each round's ratio compares like with like.
            for (const variant of i === 0 ? variants : []) {
              note(`${mode} round ${round}/${options.rounds}: ${variant.server.name}`);
              const answering = variant.server === webhookServers[1] ? receivers : undefined;
              const before = answering?.delivered.count ?? 0;
              const started = performance.now();
              const k = await churn(variant.server, options.churnN, options.concurrency);
              variant.result.churn.push(k);
              variant.result.connections += k.ok;
              if (answering) webhookRates.push(await deliveryRate(answering, before, started));
            }
          } else if (mode === "hold") {
            // A fresh process each time: after churn, how much garbage the
            // heap holds varies by megabytes and would swamp the figure.
            const fresh = await startServer(specs[i]!, serverCpu, options.logDir);
            try {
              const r = await hold(fresh, options.holdN, options.concurrency, options.holdSeconds);
              result.hold.push(r);
              result.freshLogs.push({ file: fresh.logFile, connections: r.held });
            } finally {
              await fresh.stop();
            }
          } else {
            const r = await abrupt(
              server,
              options.abruptN,
              options.concurrency,
              pinned ? LOAD_CPU : undefined,
            );
            result.abrupt.push(r);
            result.connections += r.held;
          }
        }
      }
    }
    return {
      ours: results[0]!,
      baseline: results[1]!,
      ...(keyedResults ? { keyed: keyedResults } : {}),
      ...(tokenResults.length > 0 ? { tokens: tokenResults } : {}),
      ...(webhookResults.length > 0 ? { webhooks: webhookResults, webhookRates } : {}),
      pinned,
    };
  } finally {
    await Promise.all(
      [...servers, ...(keyed ? [keyed] : []), ...tokenServers, ...webhookServers].map((server) =>
        server.stop()
      ),
    );
    await receivers?.stop();
    if (keysFile) await Deno.remove(keysFile).catch(() => {});
    await tokenFiles?.remove();
  }
}

/**
 * The keyed run against the plain one: server CPU per connection and
 * connections/s, as medians with min–max, and their ratios round by round.
 */
export function keyLines(results: BenchResults): string[] {
  const keyed = results.keyed;
  if (!keyed || keyed.churn.length === 0) return [];
  return [
    ...authLines(
      results,
      keyed,
      "with keys",
      "API keys, churn (every handshake with Authorization: Bearer, 10 keys loaded):",
    ),
    ...(results.tokens ?? []).flatMap((tokens) =>
      authLines(
        results,
        tokens,
        "with tokens",
        `${tokens.name}, churn (every handshake with a token to verify, aud checked):`,
      )
    ),
    ...(results.webhooks ?? []).flatMap((hooks, i) =>
      authLines(
        results,
        hooks,
        "with webhooks",
        i === 0
          ? `${hooks.name}, churn (two events per connection to a receiver that never answers):`
          : `${hooks.name}, churn (two events per connection to a receiver that answers at once):`,
      )
    ),
    ...(results.webhookRates?.length
      ? [
        `  webhook deliveries/s to the answering receiver, one at a time: ${
          spread(results.webhookRates).median.toFixed(0)
        } (${spread(results.webhookRates).min.toFixed(0)}–${
          spread(results.webhookRates).max.toFixed(0)
        })`,
      ]
      : []),
  ];
}

/**
 * The answering receiver's deliveries per second in a round that began at
 * `started` with `before` delivered: once nothing has come for half a
 * second (the queue drained, or dropped what it could not hold), or after
 * a minute, the count over the time from the round's start to the last.
 */
async function deliveryRate(
  receivers: BenchWebhooks,
  before: number,
  started: number,
): Promise<number> {
  const { delivered } = receivers;
  const giveUpAt = performance.now() + 60_000;
  let seen = -1;
  while (delivered.count !== seen && performance.now() < giveUpAt) {
    seen = delivered.count;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = (delivered.last - started) / 1000;
  return seconds > 0 ? (delivered.count - before) / seconds : 0;
}

/** One auth variant against the plain run, round by round. */
function authLines(
  results: BenchResults,
  variant: ServerResults,
  withWhat: string,
  title: string,
): string[] {
  if (variant.churn.length === 0) return [];
  const plain = results.ours.churn;
  const figure = (label: string, value: (r: ChurnResult) => number, digits: number): string => {
    const f = (x: number) => x.toFixed(digits);
    const k = spread(variant.churn.map(value));
    const p = spread(plain.map(value));
    const r = spread(ratios(variant.churn.map(value), plain.map(value)));
    return `${label}: ${f(k.median)} (${f(k.min)}–${f(k.max)}) ${withWhat}, ` +
      `${f(p.median)} (${f(p.min)}–${f(p.max)}) without; ratio ${r.median.toFixed(2)} ` +
      `(${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
  };
  const ok = variant.churn.reduce((sum, r) => sum + r.ok, 0);
  return [
    title,
    figure("  server CPU per connection (µs)", (r) => r.serverCpuUs, 0),
    figure("  connections/s", (r) => r.connectionsPerSecond, 0),
    `  ${ok} churn connections, errors: ${totalErrors(variant.churn.map((r) => r.errors))}`,
  ];
}

/** The table's rows, for the modes that ran. */
export function rows(results: BenchResults): Row[] {
  const { ours, baseline } = results;
  const out: Row[] = [];
  const add = <R>(
    label: string,
    of: (s: ServerResults) => R[],
    value: (r: R) => number,
    digits: number,
  ): void => {
    if (of(ours).length === 0) return;
    out.push({ label, ours: of(ours).map(value), baseline: of(baseline).map(value), digits });
  };
  const c = (s: ServerResults) => s.churn;
  add("churn: connections/s", c, (r) => r.connectionsPerSecond, 0);
  add("churn: server CPU per connection (µs)", c, (r) => r.serverCpuUs, 0);
  add("churn: latency p50 (ms)", c, (r) => r.latencyMs.p50, 2);
  add("churn: latency p90 (ms)", c, (r) => r.latencyMs.p90, 2);
  add("churn: latency p99 (ms)", c, (r) => r.latencyMs.p99, 2);
  add("churn: latency max (ms)", c, (r) => r.latencyMs.max, 2);
  add("churn: load generator CPU (% of a core)", c, (r) => r.loadCpuPercent, 0);
  const h = (s: ServerResults) => s.hold;
  add("hold: server RSS at start (MB)", h, (r) => r.rssBefore / 1e6, 1);
  add("hold: server RSS while holding (MB)", h, (r) => r.rssAfter / 1e6, 1);
  add("hold: memory per idle connection (KB)", h, (r) => r.bytesPerClient / 1e3, 1);
  add("hold: all closed → count 0 (ms)", h, (r) => r.drainMs, 0);
  add("abrupt: SIGKILL → all forgotten (ms)", (s) => s.abrupt, (r) => r.forgetMs, 0);
  return out;
}

/** Sums error counts over rounds. */
function totalErrors(errorsList: readonly Errors[]): string {
  const total: Errors = {};
  for (const errors of errorsList) {
    for (const [kind, count] of Object.entries(errors) as [keyof Errors, number][]) {
      total[kind] = (total[kind] ?? 0) + count;
    }
  }
  const parts = Object.entries(total).map(([kind, count]) => `${kind} ${count}`);
  return parts.length ? parts.join(", ") : "none";
}

/**
 * The checks under the table: errors, distinct ids, held counts, whether
 * the load generator was the limit, and whether every log line was written.
 */
export async function notes(results: BenchResults): Promise<string[]> {
  const lines: string[] = [];
  for (const s of [results.ours, results.baseline, ...(results.keyed ? [results.keyed] : [])]) {
    const ok = s.churn.reduce((sum, r) => sum + r.ok, 0);
    const distinct = s.churn.every((r) => r.distinctIds);
    const errors = totalErrors([...s.churn.map((r) => r.errors), ...s.hold.map((r) => r.errors)]);
    const clientBound = s.churn.filter((r) => r.loadCpuPercent > 80).length;
    lines.push(
      `${s.name}: ${ok} churn connections, errors: ${errors}, ` +
        `ids ${distinct ? "all distinct" : "NOT distinct"}` +
        (s.hold.length
          ? `; hold: server saw ${s.hold.map((r) => `${r.serverClients}/${r.held}`).join(", ")}`
          : "") +
        (s.abrupt.length
          ? `; abrupt: server saw ${s.abrupt.map((r) => `${r.serverClients}/${r.held}`).join(", ")}`
          : "") +
        (clientBound
          ? `; ${clientBound} churn round(s) client-bound (load generator > 80 % of a core)`
          : ""),
    );
    for (
      const { file, connections } of [
        { file: s.logFile, connections: s.connections },
        ...s.freshLogs,
      ]
    ) {
      const log = await Deno.readTextFile(file);
      const connects = count(log, / connected/g);
      const disconnects = count(log, / disconnected/g);
      lines.push(
        `${s.name} log ${file}: ${connects} connect and ${disconnects} disconnect lines ` +
          `for ${connections} connections`,
      );
    }
  }
  return lines;
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
