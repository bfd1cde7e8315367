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
import { canPin, pinSelf } from "./proc.ts";
import { BASELINE, type ServerProcess, startServer, SWITCHBOARD } from "./servers.ts";
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
  try {
    const specs = [SWITCHBOARD, BASELINE];
    const serverCpu = pinned ? SERVER_CPU : undefined;
    for (const spec of specs) servers.push(await startServer(spec, serverCpu, options.logDir));
    const results = servers.map((server): ServerResults => ({
      name: server.name,
      logFile: server.logFile,
      churn: [],
      hold: [],
      abrupt: [],
      connections: 0,
      freshLogs: [],
    }));
    for (const [i, server] of servers.entries()) {
      note(`warm-up: ${options.warmup} connections to ${server.name}`);
      results[i]!.connections += (await churn(server, options.warmup, options.concurrency)).ok;
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
    return { ours: results[0]!, baseline: results[1]!, pinned };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
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
  for (const s of [results.ours, results.baseline]) {
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
