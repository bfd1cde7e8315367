/**
 * The servers under test, run as child processes with their logs going to a
 * file, as in production, and `/healthz` to see how many clients they hold.
 *
 * @module
 */

import { pinnedArgv } from "./proc.ts";

/** A server to benchmark: a name for the table and how to start it. */
export interface ServerSpec {
  /** The name in the table. */
  readonly name: string;
  /** The `deno run` arguments after the permission flags, given a port. */
  readonly args: (port: number) => string[];
  /** Permission flags besides `--allow-net`. */
  readonly permissions?: readonly string[];
  /** More handshake header lines its clients send, each ending in CRLF. */
  readonly headers?: string;
}

const root = new URL("../", import.meta.url).pathname;

/** Switchboard with every feature on, and room for any number of clients. */
export const SWITCHBOARD: ServerSpec = {
  name: "Switchboard",
  args: (port) => [
    `${root}server.ts`,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--max-clients",
    "1000000",
    // The bench pairs by code far faster than people type codes.
    "--code-rate",
    "100000",
  ],
};

/**
 * Switchboard as {@linkcode SWITCHBOARD}, with API keys: its clients present
 * `key`, one of the keys in `keysFile`.
 */
export function keyedSwitchboard(keysFile: string, key: string): ServerSpec {
  return {
    name: "Switchboard-keys",
    args: (port) => [...SWITCHBOARD.args(port), "--api-keys", keysFile],
    permissions: [`--allow-read=${keysFile}`],
    headers: `Authorization: Bearer ${key}\r\n`,
  };
}

/**
 * Switchboard as {@linkcode SWITCHBOARD}, taking access tokens verified with
 * `file` (`--token-key` or `--token-secret-file`): its clients present `token`.
 */
export function tokenSwitchboard(
  name: string,
  flag: "--token-key" | "--token-secret-file",
  file: string,
  token: string,
): ServerSpec {
  return {
    name,
    args: (port) => [...SWITCHBOARD.args(port), flag, file, "--token-audience", "bench"],
    permissions: [`--allow-read=${file}`],
    headers: `Authorization: Bearer ${token}\r\n`,
  };
}

/** The baseline: the smallest correct server for the same job. */
export const BASELINE: ServerSpec = {
  name: "baseline",
  args: (port) => [`${root}bench/baseline_server.ts`, "--port", String(port)],
};

/** A running server process. */
export interface ServerProcess {
  /** The name in the table. */
  readonly name: string;
  /** The process id, for `/proc`. */
  readonly pid: number;
  /** The port on 127.0.0.1. */
  readonly port: number;
  /** Where the server's stdout and stderr go. */
  readonly logFile: string;
  /** More handshake header lines its clients send. */
  readonly headers?: string;
  /** Stops the server (SIGTERM, then SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would, and reaps it. */
  kill(): Promise<void>;
}

/** The answer of `GET /healthz`. */
export interface Health {
  /** `"ok"` while serving. */
  status: string;
  /** Clients connected right now. */
  clients: number;
}

/** Asks a server on loopback how it is. */
export async function health(port: number): Promise<Health> {
  // A server that accepts and never answers must not hang the benchmark.
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(5000),
  });
  return await response.json() as Health;
}

/**
 * Polls `check` every `intervalMs` until it is true, for at most `timeoutMs`.
 *
 * @returns The milliseconds it took.
 * @throws {Error} When time runs out, naming `what`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 5,
): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return performance.now() - start;
}

/** A free TCP port on loopback, for a server to take next. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * Starts a server and waits until `/healthz` answers.
 *
 * @param spec Which server.
 * @param cpu The CPU to pin it to, if any.
 * @param logDir The directory for its log file.
 * @param port The port to listen on: a free one by default, or the port of
 *   a server that died, to take its place behind a proxy.
 */
export async function startServer(
  spec: ServerSpec,
  cpu: number | undefined,
  logDir: string,
  port: number = freePort(),
): Promise<ServerProcess> {
  const argv = pinnedArgv(cpu, [
    Deno.execPath(),
    "run",
    "--frozen",
    "--allow-net",
    ...(spec.permissions ?? []),
    ...spec.args(port),
  ]);
  const slug = spec.name.toLowerCase();
  // The shell opens the log file and then becomes the server (exec), so the
  // child's pid is the server's and the bench needs no write permission.
  const child = new Deno.Command("sh", {
    args: ["-c", `exec "$@" >"${logDir}/switchboard-bench-${slug}.$$.log" 2>&1`, "sh", ...argv],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const logFile = `${logDir}/switchboard-bench-${slug}.${child.pid}.log`;
  let exited = false;
  child.status.then(() => exited = true);
  try {
    await waitUntil(
      `${spec.name} to listen (log: ${logFile})`,
      async () => {
        if (exited) throw new Error(`${spec.name} exited at start; see ${logFile}`);
        try {
          return (await health(port)).status === "ok";
        } catch {
          return false;
        }
      },
      15_000,
      20,
    );
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await child.status;
    throw error;
  }
  return {
    name: spec.name,
    pid: child.pid,
    port,
    logFile,
    ...(spec.headers === undefined ? {} : { headers: spec.headers }),
    async stop(timeoutMs = 10_000) {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => exited || child.kill("SIGKILL"), timeoutMs);
      await child.status;
      clearTimeout(timer);
    },
    async kill() {
      if (!exited) child.kill("SIGKILL");
      await child.status;
    },
  };
}
