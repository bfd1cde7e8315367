/**
 * What the tests' real servers from Debian (coturn, nginx, redis-server)
 * share: whether one is installed, a free loopback port, waiting until one listens (and stopping one
 * that never does), and stopping it by its process id.
 *
 * @module
 */

import { type Child, within } from "./helpers.ts";
import { connect } from "./hostile.ts";

/** Whether the program at `path` is installed: a file is there. */
export function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A free TCP port on loopback right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * Waits until `child` accepts TCP on `port`, for at most 10 s; throws with
 * `why()` (its log) when it exits first or never listens.
 */
export async function waitUntilListening(
  child: Child,
  port: number,
  name: string,
  why: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (true) {
    // Listening is not an event a process announces: look again every 20 ms.
    const status = await Promise.race([
      child.process.status,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20)),
    ]);
    if (status) throw new Error(`${name} exited with ${status.code}:\n${await why()}`);
    try {
      (await connect({ port })).destroy();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start listening in 10 s`);
    }
  }
}

/**
 * Returns `daemon` once `ready` resolves for it; a daemon that never gets
 * ready is disposed of before the error is thrown, so no test leaks one.
 */
export async function onceReady<T extends AsyncDisposable>(
  daemon: T,
  ready: (daemon: T) => Promise<void>,
): Promise<T> {
  try {
    await ready(daemon);
  } catch (error) {
    await daemon[Symbol.asyncDispose]();
    throw error;
  }
  return daemon;
}

/**
 * Stops `child` by its process id (SIGTERM), reaps it and removes `dir`. A
 * daemon still running 10 s after SIGTERM fails the test (and is killed).
 */
export async function stopDaemon(child: Child, dir: string): Promise<void> {
  try {
    child.process.kill("SIGTERM");
  } catch {
    // Already exited.
  }
  try {
    await within(
      child.process.status,
      10_000,
      `the daemon (pid ${child.process.pid}) to exit after SIGTERM`,
    );
  } finally {
    await child[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  }
}
