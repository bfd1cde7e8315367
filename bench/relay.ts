/**
 * The relay benchmark: pairs exchanging messages through the server, in
 * memory, with `--redis` on one instance, and across two instances sharing
 * one Redis; the last two also with API keys on (`-keys`). Each pair plays ping-pong (one message in flight per pair), so
 * latency is the server's and Redis's, not a queue's. Reports delivered
 * messages/s, one-way latency p50/p99 and server CPU per message.
 *
 * @module
 */

import { type BenchKeys, writeBenchKeys } from "./keys.ts";
import { cpuSeconds } from "./proc.ts";
import { freePort, type ServerProcess, startServer, waitUntil } from "./servers.ts";
import { percentile } from "./stats.ts";
import { type BenchClient, connectClient } from "./ws_client.ts";

/** How big a relay run is. */
export interface RelayOptions {
  /** Pairs exchanging messages at once. */
  pairs: number;
  /** Messages each client sends per round. */
  messages: number;
  /** Rounds per setup, alternating setups. */
  rounds: number;
  /** Where server logs go. */
  logDir: string;
  /** Which setups to run, in this order; every one by default. */
  setups?: readonly RelaySetup[];
  /** Progress notes; silent by default. */
  progress?: (line: string) => void;
}

/** The setups compared. */
export type RelaySetup =
  | "memory"
  | "redis-same"
  | "redis-cross"
  | "redis-same-keys"
  | "redis-cross-keys";

/** Every setup, in running order. */
export const RELAY_SETUPS: readonly RelaySetup[] = [
  "memory",
  "redis-same",
  "redis-cross",
  "redis-same-keys",
  "redis-cross-keys",
];

/** One round's figures. */
export interface RelayRound {
  /** Messages delivered. */
  delivered: number;
  /** Delivered messages per second. */
  perSecond: number;
  /** One-way latency, median, ms. */
  p50: number;
  /** One-way latency, 99th percentile, ms. */
  p99: number;
  /** Server CPU (every instance, and Redis) per delivered message, µs. */
  cpuPerMessageUs: number;
  /** The same without Redis's own CPU, µs. */
  serverCpuPerMessageUs: number;
}

const root = new URL("../", import.meta.url).pathname;
const REDIS_SERVER = "/usr/bin/redis-server";

/** A redis-server for the run, without persistence. */
export async function startRedis(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(REDIS_SERVER, {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitUntil(
    "redis-server to listen",
    async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    },
    10_000,
    20,
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

function spec(extra: string[]) {
  return {
    name: "Switchboard",
    args: (port: number) => [
      `${root}server.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      // The benchmark measures relay, not the per-client limits.
      "--rate-limit",
      "1000000",
      "--rate-burst",
      "1000000",
      ...extra,
    ],
  };
}

async function pair(a: BenchClient, b: BenchClient): Promise<void> {
  await a.send(JSON.stringify({ type: "pair_request", target: b.id }));
  await expectType(b, "pair_request");
  await b.send(JSON.stringify({ type: "pair_accept", from: a.id }));
  await expectType(a, "paired");
  await expectType(b, "paired");
}

async function expectType(client: BenchClient, type: string): Promise<void> {
  const text = await client.text();
  if (text === undefined || JSON.parse(text).type !== type) {
    throw new Error(`expected ${type}, got ${text}`);
  }
}

/** One side of a ping-pong: sends when it is its turn, times what it receives. */
async function play(
  me: BenchClient,
  starts: boolean,
  messages: number,
  latencies: number[],
): Promise<void> {
  let sent = 0;
  let received = 0;
  if (starts) {
    await me.send(JSON.stringify({ type: "relay", data: performance.now() }));
    sent++;
  }
  while (received < messages) {
    const text = await me.text();
    if (text === undefined) throw new Error("the server closed a client");
    const message = JSON.parse(text);
    if (message.type !== "relay") throw new Error(`unexpected ${text}`);
    latencies.push(performance.now() - message.data);
    received++;
    if (sent < messages) {
      await me.send(JSON.stringify({ type: "relay", data: performance.now() }));
      sent++;
    }
  }
}

/** Runs one setup for one round on fresh processes. */
async function round(setup: RelaySetup, options: RelayOptions): Promise<RelayRound> {
  const redis = setup === "memory" ? undefined : await startRedis();
  // With keys, every client presents one: its relays then carry its tenant's
  // checks (same tenant as the partner) and, across instances, its key in Redis.
  let keys: BenchKeys | undefined;
  const servers: ServerProcess[] = [];
  const clients: BenchClient[] = [];
  try {
    if (setup.endsWith("-keys")) keys = await writeBenchKeys(options.logDir, 1_000_000);
    const extra = [
      ...(redis ? ["--redis", redis.url] : []),
      ...(keys ? ["--api-keys", keys.file] : []),
    ];
    const permissions = keys ? [`--allow-read=${keys.file}`] : [];
    const server = { ...spec(extra), permissions };
    servers.push(await startServer(server, undefined, options.logDir));
    if (setup.startsWith("redis-cross")) {
      servers.push(await startServer(server, undefined, options.logDir));
    }
    const portA = servers[0]!.port;
    const portB = servers.at(-1)!.port;
    const headers = keys?.header ?? "";
    for (let i = 0; i < options.pairs; i++) {
      clients.push(
        await connectClient(portA, 10_000, headers),
        await connectClient(portB, 10_000, headers),
      );
    }
    for (let i = 0; i < clients.length; i += 2) await pair(clients[i]!, clients[i + 1]!);
    const pids = [...servers.map((s) => s.pid)];
    const before = await Promise.all(pids.map((pid) => cpuSeconds(pid)));
    const redisBefore = redis ? await cpuSeconds(redis.pid) : 0;
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      clients.map((client, i) => play(client, i % 2 === 0, options.messages, latencies)),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = await Promise.all(pids.map((pid) => cpuSeconds(pid)));
    const redisAfter = redis ? await cpuSeconds(redis.pid) : 0;
    const serverCpu = after.reduce((sum, t, i) => sum + t - before[i]!, 0);
    const delivered = latencies.length;
    return {
      delivered,
      perSecond: delivered / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuPerMessageUs: (serverCpu + redisAfter - redisBefore) / delivered * 1e6,
      serverCpuPerMessageUs: serverCpu / delivered * 1e6,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close(2000)));
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
    await keys?.remove();
  }
}

/** Runs every setup `rounds` times, alternating, and returns the rounds by setup. */
export async function runRelayBench(
  options: RelayOptions,
): Promise<Map<RelaySetup, RelayRound[]>> {
  const setups = options.setups ?? RELAY_SETUPS;
  const results = new Map<RelaySetup, RelayRound[]>(setups.map((s) => [s, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (const setup of setups) {
      options.progress?.(`relay round ${r + 1}/${options.rounds}: ${setup}`);
      results.get(setup)!.push(await round(setup, options));
    }
  }
  return results;
}

/** The results as a Markdown table, medians over rounds. */
export function renderRelayTable(results: Map<RelaySetup, RelayRound[]>): string {
  const median = (values: number[]) => percentile(values, 50);
  const lines = [
    "| setup | delivered/s | p50 ms | p99 ms | server CPU µs/msg | + Redis µs/msg |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const [setup, rounds] of results) {
    lines.push(
      `| ${setup} | ${median(rounds.map((r) => r.perSecond)).toFixed(0)} | ` +
        `${median(rounds.map((r) => r.p50)).toFixed(2)} | ${
          median(rounds.map((r) => r.p99)).toFixed(2)
        } | ` +
        `${median(rounds.map((r) => r.serverCpuPerMessageUs)).toFixed(1)} | ` +
        `${median(rounds.map((r) => r.cpuPerMessageUs)).toFixed(1)} |`,
    );
  }
  return lines.join("\n");
}

/** The targets, checked against medians, for the setups that ran. */
export function relayTargetLines(results: Map<RelaySetup, RelayRound[]>): string[] {
  const median = (setup: RelaySetup, pick: (r: RelayRound) => number) =>
    percentile(results.get(setup)?.map(pick) ?? [], 50);
  const ran = (...setups: RelaySetup[]) => setups.every((s) => results.get(s)?.length);
  const lines: string[] = [];
  if (ran("redis-same", "redis-cross")) {
    const p50Gap = median("redis-cross", (r) => r.p50) - median("redis-same", (r) => r.p50);
    lines.push(
      `cross-instance p50 - same-instance p50: ${p50Gap.toFixed(2)} ms (target: within +1 ms)`,
    );
  }
  if (ran("redis-same-keys", "redis-cross-keys")) {
    const p50Gap = median("redis-cross-keys", (r) => r.p50) -
      median("redis-same-keys", (r) => r.p50);
    lines.push(
      `with API keys, cross-instance p50 - same-instance p50: ${
        p50Gap.toFixed(2)
      } ms (target: within +1 ms)`,
    );
  }
  if (ran("memory", "redis-same")) {
    const cpuRatio = median("redis-same", (r) => r.serverCpuPerMessageUs) /
      median("memory", (r) => r.serverCpuPerMessageUs);
    lines.push(
      `same-instance CPU/msg with --redis vs in memory: ${
        cpuRatio.toFixed(3)
      }x (target: within 1.05x)`,
    );
  }
  return lines;
}
