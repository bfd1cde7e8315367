/**
 * A real `redis-server` for tests: on a free loopback port, without
 * persistence, started as a child process and stopped by its process id.
 *
 * @module
 */

import { freePort, installed, onceReady } from "./daemons.ts";
import { Child, within } from "./helpers.ts";

export { freePort };

/** Debian's Redis server. */
export const REDIS_SERVER = "/usr/bin/redis-server";

/** Whether `redis-server` is installed; CI installs it, so tests never skip there. */
export function haveRedis(): boolean {
  if (installed(REDIS_SERVER)) return true;
  if (Deno.env.get("CI") === "true") {
    throw new Error(`${REDIS_SERVER} is missing; CI installs the redis-server package`);
  }
  return false;
}

/** A running `redis-server`. */
export class RedisServer implements AsyncDisposable {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  #process: Deno.ChildProcess | undefined;
  readonly #args: string[];

  private constructor(port: number, extra: string[]) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      ...extra,
    ];
  }

  /** Starts a server on a free port (or `port`) and waits until it answers. */
  static start(extra: string[] = [], port = freePort()): Promise<RedisServer> {
    return onceReady(new RedisServer(port, extra), (server) => server.restart());
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Starts it again on the same port (after {@linkcode RedisServer.stop}). */
  async restart(): Promise<void> {
    this.#process = new Deno.Command(REDIS_SERVER, {
      args: this.#args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    while (true) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buffer = new Uint8Array(64);
        const n = await within(conn.read(buffer), 2000, "Redis to answer PING");
        conn.close();
        // With a password set, PING answers -NOAUTH: the server is up all the same.
        if (n !== null && n > 0) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not start on ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops it by process id (SIGKILL: nothing to save) and waits until it is gone. */
  async stop(): Promise<void> {
    const process = this.#process;
    if (!process) return;
    this.#process = undefined;
    try {
      process.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await process.status;
  }

  /** Stops it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** `deno run` arguments for `server.ts --port 0 --redis url`, with the network and `permissions`. */
export function redisServerArgs(url: string, ...permissions: string[]): string[] {
  return [
    "run",
    "--allow-net",
    ...permissions,
    "--no-prompt",
    "server.ts",
    "--port",
    "0",
    "--redis",
    url,
  ];
}

/** A `server.ts --redis` subprocess listening on 127.0.0.1. */
export interface RedisInstance {
  /** The process, its output read line by line. */
  readonly child: Child;
  /** Its port. */
  readonly port: number;
  /** `ws://127.0.0.1:PORT`. */
  readonly url: string;
}

/**
 * Starts `server.ts --redis url` on 127.0.0.1 with `args`, once it says it
 * listens; loading the Redis client makes its start slower than usual.
 */
export async function spawnRedisInstance(
  url: string,
  args: readonly string[] = [],
  permissions: readonly string[] = [],
): Promise<RedisInstance> {
  const child = new Child([
    ...redisServerArgs(url, ...permissions),
    "--host",
    "127.0.0.1",
    ...args,
  ]);
  try {
    const match = await child.waitForLine(
      /Server listening on ws:\/\/([\d.]+):(\d+)/,
      "stderr",
      30_000,
    );
    const port = Number(match[2]);
    return { child, port, url: `ws://127.0.0.1:${port}` };
  } catch (error) {
    await child[Symbol.asyncDispose]();
    throw error;
  }
}

/** `n` instances sharing `redis`, each with `args`, started together and disposed together. */
export async function redisInstances(
  redis: RedisServer,
  n: number,
  args: readonly string[] = [],
): Promise<{ servers: RedisInstance[] } & AsyncDisposable> {
  const started = await Promise.allSettled(
    Array.from({ length: n }, () => spawnRedisInstance(redis.url, args)),
  );
  const servers = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const dispose = async () => {
    await Promise.all(servers.map(({ child }) => child[Symbol.asyncDispose]()));
  };
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await dispose();
    throw failed.reason;
  }
  return { servers, [Symbol.asyncDispose]: dispose };
}

/** One redis-cli command against the Redis on `port`, its answer trimmed. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).trim();
}
