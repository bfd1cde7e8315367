/**
 * What a server process does on signals: SIGINT or SIGTERM shut it down
 * gracefully (a second one exits at once with 130), and SIGHUP reloads the
 * keys file of `--api-keys`.
 *
 * @module
 */

import { readKeyFile } from "../auth/key_file_io.ts";
import { getLogger } from "../runtime/deps.ts";
import { errorText, plural } from "../runtime/safe_text.ts";
import type { RunningServer } from "./start.ts";

const logger = getLogger(["switchboard", "server"]);

/**
 * Runs `server` until SIGINT or SIGTERM has shut it down, reloading
 * `keysFile` on each SIGHUP; without one, SIGHUP is logged and changes
 * nothing.
 *
 * @returns The process exit code: 0 once stopped, 1 when the shutdown failed.
 */
export async function runUntilSignalled(
  server: RunningServer,
  keysFile: string | undefined,
): Promise<number> {
  const stopper = new SignalStopper(() => server.shutdown(), (code) => Deno.exit(code));
  const onSignal = (): void => stopper.signal();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, onSignal);
  }
  // One reload at a time, in the order the signals came.
  let reloading = Promise.resolve();
  // Operators send SIGHUP to reload out of habit; its default action would
  // kill a server that has nothing to reload.
  const onHangup = keysFile === undefined
    ? () => logger.info("SIGHUP: nothing to reload (only --api-keys is reloaded)")
    : () => reloading = reloading.then(() => reloadKeyFile(server, keysFile));
  Deno.addSignalListener("SIGHUP", onHangup);
  await server.finished;
  Deno.removeSignalListener("SIGHUP", onHangup);
  try {
    // "Server stopped." is logged once every disconnect has been.
    await stopper.stopped;
  } catch (error) {
    logger.error("Shutdown failed: {error}", {
      error: errorText(error),
    });
    return 1;
  }
  return 0;
}

/**
 * Reloads the keys file into a running server; a file that cannot be read
 * or parsed keeps the keys the server has, with one error line.
 */
export async function reloadKeyFile(server: RunningServer, file: string): Promise<void> {
  let keys;
  try {
    keys = await readKeyFile(file, "--api-keys");
  } catch (error) {
    // The error names the file, and where in it, never what it holds.
    logger.error("Kept the old keys: {error}", { file, error: errorText(error) });
    return;
  }
  const result = await server.reloadKeys(keys);
  logger.info("Reloaded {file}: {keyCount}; closed {revokedCount} of revoked keys", {
    file,
    ...result,
    keyCount: plural(result.keys, "key"),
    revokedCount: plural(result.revoked, "client"),
  });
}

/**
 * What SIGINT and SIGTERM do: the first starts a graceful shutdown, a second
 * exits at once with 130, for an operator who will not wait. One signal often
 * arrives twice (Ctrl+C reaches both `deno task` and the server, and
 * `deno task` forwards it too), so a repeat within half a second is the same
 * signal, not a second one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SignalStopper } from "./signals.ts";
 * let now = 0;
 * let shutdowns = 0;
 * const exits: number[] = [];
 * const stopper = new SignalStopper(
 *   () => (shutdowns++, Promise.resolve()),
 *   (code) => exits.push(code),
 *   () => now,
 * );
 * stopper.signal(); // starts the graceful shutdown
 * stopper.signal(); // the same signal, delivered twice: ignored
 * assert.equal(shutdowns, 1);
 * assert.deepEqual(exits, []);
 * now = 1000;
 * stopper.signal(); // a second signal: the operator will not wait
 * assert.deepEqual(exits, [130]);
 * ```
 */
export class SignalStopper {
  #stopped: Promise<void> | undefined;
  #firstAt = 0;

  /**
   * @param shutdown Starts the graceful shutdown.
   * @param exit Ends the process with a code.
   * @param now The clock, in milliseconds; `performance.now` by default.
   */
  constructor(
    readonly shutdown: () => Promise<void>,
    readonly exit: (code: number) => void,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** Handles one signal. */
  signal(): void {
    if (this.#stopped) {
      if (this.now() - this.#firstAt >= DUPLICATE_SIGNAL_MS) this.exit(130);
      return;
    }
    this.#firstAt = this.now();
    this.#stopped = this.shutdown();
    // Awaited by the caller; this keeps an early failure from going unhandled meanwhile.
    this.#stopped.catch(() => {});
  }

  /** The shutdown under way, once a signal has come. */
  get stopped(): Promise<void> | undefined {
    return this.#stopped;
  }
}

/** Repeats of a signal closer together than this are one signal. */
const DUPLICATE_SIGNAL_MS = 500;
