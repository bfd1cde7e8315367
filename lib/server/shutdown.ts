/**
 * A graceful shutdown: close every client with 1001 while still listening
 * (so `/healthz` says 503 `stopping`), stop listening once they are gone,
 * and give up on what is left when `shutdownTimeout` has passed.
 *
 * @module
 */

import type { ServerState } from "./connection.ts";
import type { Listeners } from "./listeners.ts";
import { getLogger } from "../runtime/deps.ts";
import { plural } from "../runtime/safe_text.ts";

const logger = getLogger(["switchboard", "server"]);

/**
 * The server's `shutdown()`: the first call starts the shutdown, and every
 * call returns the same promise, which resolves when every disconnect has
 * been handled or `shutdownTimeout` has passed, whichever comes first.
 *
 * @param server What every connection shares: the clients, signaling, resume windows.
 * @param listeners Every listener to stop once the clients are gone; the
 *   metrics one too, so scrapes see the drain to its end.
 * @param stopped Called once the server has stopped, after `Server stopped.`.
 */
export function shutdownOnce(
  server: ServerState,
  listeners: readonly (Listeners | undefined)[],
  stopped: () => void,
): () => Promise<void> {
  let shutdown: Promise<void> | undefined;
  return () => shutdown ??= shutDown(server, listeners).then(stopped);
}

async function shutDown(
  server: ServerState,
  listeners: readonly (Listeners | undefined)[],
): Promise<void> {
  const { config, registry, sockets } = server;
  server.stopping = true;
  logger.info("Shutting down...");
  sockets.stop();
  const deadline = new Deadline(config.shutdownTimeout * 1000);
  // Closed here rather than left to the runtime, which only knows the
  // clients of the listener it has now. The listener stays open until
  // they are gone, so health checks see 503 "stopping" meanwhile.
  for (const { socket: connection } of registry) connection.goAway();
  const drained = await deadline.race(drain(server, deadline));
  const closed = drained && await deadline.race(
    Promise.all(listeners.map((listener) => listener?.shutdown())),
  );
  deadline.clear();
  if (!closed) {
    logger.warn(
      "Shutdown timed out after {seconds} s: dropping {clientCount} and {socketCount}",
      {
        seconds: config.shutdownTimeout,
        clients: registry.size,
        sockets: sockets.size,
        clientCount: plural(registry.size, "client"),
        socketCount: plural(sockets.size, "connection"),
      },
    );
  }
  await server.signaling.close();
  server.refusalLog.close();
  const webhooks = server.config.webhooks;
  if (webhooks !== undefined) {
    // The disconnects of this shutdown are news too: they get the same time to go out.
    const delivering = new Deadline(config.shutdownTimeout * 1000);
    await delivering.race(webhooks.idle());
    delivering.clear();
    webhooks.stop();
  }
  logger.info("Server stopped.");
}

// Polled, during a shutdown only: the registry is plain state with no events.
async function drain(server: ServerState, deadline: Deadline): Promise<void> {
  while (server.registry.size > 0 && !deadline.passed) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}

/**
 * A time limit that several waits share.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Deadline } from "./shutdown.ts";
 * const deadline = new Deadline(1000);
 * assert.equal(await deadline.race(Promise.resolve()), true);
 * deadline.clear();
 * assert.ok(deadline.passed);
 * ```
 */
export class Deadline {
  readonly #expired: Promise<false>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the time is up. */
  passed = false;

  /** @param ms Milliseconds from now. */
  constructor(ms: number) {
    this.#expired = new Promise((resolve) =>
      this.#timer = setTimeout(() => {
        this.passed = true;
        resolve(false);
      }, ms)
    );
  }

  /** Resolves `true` when `promise` settles in time, `false` at the deadline. */
  race(promise: Promise<unknown>): Promise<boolean> {
    return Promise.race([promise.then(() => true as const), this.#expired]);
  }

  /** Stops the timer; every wait still racing it is over. */
  clear(): void {
    clearTimeout(this.#timer);
    this.passed = true;
  }
}

/** How often a shutdown looks whether every client is gone. */
const DRAIN_POLL_MS = 20;
