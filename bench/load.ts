/**
 * The load generator's three modes: churn (connect, get an id, close, as
 * fast as the server allows), hold (many idle clients: what do they cost?)
 * and abrupt (a process holding clients dies: how soon are they forgotten?).
 *
 * @module
 */

import { cpuSeconds, pinnedArgv, rssBytes } from "./proc.ts";
import { health, waitUntil } from "./servers.ts";
import { percentile } from "./stats.ts";
import { BenchClient, ClientFailure, connectClient, type FailureKind } from "./ws_client.ts";

/** The server under load: its loopback port and its process id. */
export interface Target {
  /** The port on 127.0.0.1. */
  readonly port: number;
  /** The server's process id, for `/proc`. */
  readonly pid: number;
  /** More handshake header lines, each ending in CRLF: an API key. */
  readonly headers?: string;
}

/** Failed connections by kind. */
export type Errors = Partial<Record<FailureKind, number>>;

/** How long one connection attempt, or one close, may take. */
const CLIENT_TIMEOUT_MS = 10_000;

/** What one churn run measured. */
export interface ChurnResult {
  /** Connections that received a valid id. */
  ok: number;
  /** Failed connections by kind. */
  errors: Errors;
  /** Whether every id received was different from every other. */
  distinctIds: boolean;
  /** Completed connections (id received and closed) per second. */
  connectionsPerSecond: number;
  /** Connect start → id received, in milliseconds. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Server CPU time per connection, in microseconds. */
  serverCpuUs: number;
  /** This process's CPU use during the run, in % of one core. */
  loadCpuPercent: number;
}

/**
 * Runs `n` connections, `concurrency` at a time: each connects, waits for
 * its `your_id`, checks it and closes.
 *
 * @param target The server, or several (instances of one cluster): then
 *   connections take them in turn, and server CPU is the sum of theirs.
 * @param n How many connections; the run also stops after `maxSeconds`.
 * @param concurrency How many are in flight at once.
 */
export async function churn(
  target: Target | readonly Target[],
  n: number,
  concurrency: number,
  maxSeconds = 300,
): Promise<ChurnResult> {
  const targets: readonly Target[] = Array.isArray(target) ? target : [target as Target];
  const latencies = new Float64Array(n);
  const ids = new Set<string>();
  const errors: Errors = {};
  let started = 0;
  let ok = 0;
  const deadline = performance.now() + maxSeconds * 1000;
  const serverCpu = (): Promise<number> =>
    Promise.all(targets.map((t) => cpuSeconds(t.pid))).then((s) => s.reduce((a, b) => a + b, 0));
  const serverCpu0 = await serverCpu();
  const loadCpu0 = await cpuSeconds();
  const t0 = performance.now();

  const worker = async (): Promise<void> => {
    while (started < n && performance.now() < deadline) {
      const to = targets[started++ % targets.length]!;
      const start = performance.now();
      let client: BenchClient;
      try {
        client = await connectClient(to.port, CLIENT_TIMEOUT_MS, to.headers);
      } catch (error) {
        countError(errors, error);
        continue;
      }
      latencies[ok++] = performance.now() - start;
      ids.add(client.id);
      await client.close(CLIENT_TIMEOUT_MS);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));

  const seconds = (performance.now() - t0) / 1000;
  const serverCpuUsed = await serverCpu() - serverCpu0;
  const loadCpu = await cpuSeconds() - loadCpu0;
  const measured = latencies.subarray(0, ok);
  return {
    ok,
    errors,
    distinctIds: ids.size === ok,
    connectionsPerSecond: ok / seconds,
    latencyMs: {
      p50: percentile(measured, 50),
      p90: percentile(measured, 90),
      p99: percentile(measured, 99),
      max: percentile(measured, 100),
    },
    serverCpuUs: (serverCpuUsed / Math.max(1, ok)) * 1e6,
    loadCpuPercent: (loadCpu / seconds) * 100,
  };
}

function countError(errors: Errors, error: unknown): void {
  const kind = error instanceof ClientFailure ? error.kind : "closed";
  errors[kind] = (errors[kind] ?? 0) + 1;
}

/** Opens `n` clients, `concurrency` at a time, and returns those that got an id. */
export async function openClients(
  port: number,
  n: number,
  concurrency: number,
  errors: Errors,
): Promise<BenchClient[]> {
  const clients: BenchClient[] = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < n) {
      started++;
      try {
        const client = await connectClient(port, CLIENT_TIMEOUT_MS);
        clients.push(client);
        // Answer pings, so a hold longer than the idle timeout stays up.
        client.idle();
      } catch (error) {
        countError(errors, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return clients;
}

/** What one hold run measured. */
export interface HoldResult {
  /** Clients held. */
  held: number;
  /** Failed connections by kind. */
  errors: Errors;
  /** The server's RSS before the clients connected, in bytes. */
  rssBefore: number;
  /** The server's RSS at the end of the hold, in bytes. */
  rssAfter: number;
  /** `(rssAfter - rssBefore) / held`. */
  bytesPerClient: number;
  /** The server's client count during the hold (from `/healthz`). */
  serverClients: number;
  /** From the start of closing to the server's count reaching zero, in ms. */
  drainMs: number;
}

/**
 * Holds `n` idle clients for `seconds`, then closes them all and waits for
 * the server's count to return to zero.
 */
export async function hold(
  target: Target,
  n: number,
  concurrency: number,
  seconds: number,
): Promise<HoldResult> {
  const errors: Errors = {};
  const rssBefore = await rssBytes(target.pid);
  const clients = await openClients(target.port, n, concurrency, errors);
  const serverClients = (await health(target.port)).clients;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const rssAfter = await rssBytes(target.pid);
  const closing = performance.now();
  await Promise.all(clients.map((client) => client.close(CLIENT_TIMEOUT_MS)));
  await waitUntil(
    "the server to forget every held client",
    async () => (await health(target.port)).clients === 0,
    30_000,
  );
  return {
    held: clients.length,
    errors,
    rssBefore,
    rssAfter,
    bytesPerClient: (rssAfter - rssBefore) / Math.max(1, clients.length),
    serverClients,
    drainMs: performance.now() - closing,
  };
}

/** What one abrupt run measured. */
export interface AbruptResult {
  /** Clients the killed process held. */
  held: number;
  /** The server's client count just before the kill. */
  serverClients: number;
  /** From SIGKILL to the server's count reaching zero, in ms. */
  forgetMs: number;
}

const holderModule = new URL("./holder.ts", import.meta.url).pathname;

/**
 * Starts a child process holding `n` clients, SIGKILLs it once they all
 * have their ids, and times how long the server takes to forget them.
 *
 * @param cpu The CPU to pin the child to, if any.
 */
export async function abrupt(
  target: Target,
  n: number,
  concurrency: number,
  cpu: number | undefined,
): Promise<AbruptResult> {
  const [command, ...args] = pinnedArgv(cpu, [
    Deno.execPath(),
    "run",
    "--frozen",
    "--allow-net",
    holderModule,
    String(target.port),
    String(n),
    String(concurrency),
  ]);
  const child = new Deno.Command(command!, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const line = await firstLine(child.stdout, 120_000);
    const held = Number(/^holding (\d+)$/.exec(line)?.[1]);
    if (!Number.isInteger(held)) throw new Error(`holder said "${line}"`);
    const serverClients = (await health(target.port)).clients;
    child.kill("SIGKILL");
    const killed = performance.now();
    await waitUntil(
      "the server to forget the killed clients",
      async () => (await health(target.port)).clients === 0,
      30_000,
    );
    return { held, serverClients, forgetMs: performance.now() - killed };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }
}

/** The first line a stream gives, waiting at most `timeoutMs`. */
async function firstLine(stream: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`no line within ${timeoutMs} ms: "${text}"`);
      text += value;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return text.slice(0, text.indexOf("\n"));
}
