/**
 * Switchboard's signaling server.
 *
 * ```sh
 * deno run --allow-net server.ts --port 8765
 * deno run --allow-net --allow-read=keys.json server.ts --api-keys keys.json
 * deno task keys new --label acme
 * ```
 *
 * @module
 */

import type { KeyRecord } from "./lib/auth/key_file.ts";
import { readKeyFile } from "./lib/auth/key_file_io.ts";
import { runKeysCommand } from "./lib/auth/keys_command.ts";
import { parseServerFlags, SERVER_USAGE, UsageError, usageError } from "./lib/server/flags.ts";
import { getLogger } from "./lib/runtime/deps.ts";
import { setupLogging } from "./lib/runtime/logging.ts";
import { errorText, plural } from "./lib/runtime/safe_text.ts";
import {
  ICE_CREDENTIAL_ENV,
  iceServersFromUrls,
  needsCredential,
} from "./lib/protocol/ice_servers.ts";
import type { TlsFiles } from "./lib/server/config.ts";
import { readSecretEnv } from "./lib/runtime/permissions.ts";
import { ListenError, type RunningServer, startServer } from "./lib/server/start.ts";
import type { SignalingFactory } from "./lib/signaling/memory.ts";
import { parseRedisUrl, REDIS_PASSWORD_ENV } from "./lib/signaling/redis/url.ts";
import { TurnCredentials } from "./lib/server/turn/credentials.ts";
import { readTurnSecret } from "./lib/server/turn/secret.ts";
import { readTlsFiles } from "./lib/server/tls.ts";

const logger = getLogger(["switchboard", "server"]);

export { type RunningServer, type ServerOptions, startServer } from "./lib/server/start.ts";

/**
 * Runs the server until SIGINT or SIGTERM, then shuts it down gracefully;
 * a second signal exits at once with 130. With `--api-keys`, SIGHUP reloads
 * the keys file; without, it is logged and changes nothing. `server.ts keys
 * ...` manages keys files instead.
 *
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "keys") {
    return await runKeysCommand(args.slice(1), {
      stdout: (line) => console.log(line),
      stderr: (line) => console.error(line),
    });
  }
  let flags;
  try {
    flags = parseServerFlags(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(usageError(SERVER_USAGE, error.message));
    return 2;
  }
  if (flags.help) {
    console.log(SERVER_USAGE);
    return 0;
  }
  setupLogging({ format: flags.logFormat });
  let credential: string | undefined;
  if (needsCredential(flags.iceUrls)) {
    try {
      credential = await readSecretEnv(ICE_CREDENTIAL_ENV);
    } catch (error) {
      logger.error("Cannot start: {error}", { error: errorText(error) });
      return 1;
    }
  }
  const iceServers = iceServersFromUrls(flags.iceUrls, flags.iceUsername, credential);
  let turn: TurnCredentials | undefined;
  if (flags.turnUrls.length > 0) {
    try {
      turn = await TurnCredentials.create({
        urls: flags.turnUrls,
        secret: await readTurnSecret(flags.turnSecretFile),
        ttlSeconds: flags.turnTtl,
      });
    } catch (error) {
      logger.error("Cannot start: {error}", { error: errorText(error) });
      return 1;
    }
    logger.info("Issuing TURN credentials valid for {ttl} s for {urls}.", {
      ttl: flags.turnTtl,
      urls: flags.turnUrls.join(" "),
    });
  }
  let shared: { signaling?: SignalingFactory } = {};
  let closeStore = (): Promise<void> => Promise.resolve();
  if (flags.redis !== undefined) {
    const target = parseRedisUrl(flags.redis);
    try {
      // The store module and the Redis client load only here.
      const { connectRedisStore } = await import("./lib/signaling/redis/store.ts");
      const password = target.password ?? await optionalEnv(REDIS_PASSWORD_ENV);
      const store = await connectRedisStore({ target, password });
      shared = { signaling: store.signaling };
      closeStore = store.close;
      logger.info("Sharing clients through Redis at {url} as instance {instance}", {
        url: target.display,
        instance: store.instance,
      });
      if (flags.resumeGrace > 0) {
        logger.info("Sessions are not resumable with --redis: a lost connection ends its session.");
      }
    } catch (error) {
      logger.error("Cannot use Redis at {url}: {error}", {
        url: target.display,
        error: redisHint(errorText(error)),
      });
      return 1;
    }
  }
  let apiKeys: KeyRecord[] | undefined;
  let tls: TlsFiles | undefined;
  try {
    if (flags.apiKeysFile !== undefined) {
      apiKeys = await readKeyFile(flags.apiKeysFile, "--api-keys");
    }
    if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
      tls = await readTlsFiles(flags.tlsCert, flags.tlsKey);
    }
  } catch (error) {
    logger.error("Cannot start: {error}", { error: errorText(error) });
    return 1;
  }
  let server: RunningServer;
  try {
    server = startServer({ ...flags, iceServers, turn, apiKeys, tls }, shared);
  } catch (error) {
    await closeStore();
    if (error instanceof ListenError) {
      logger.error("Cannot listen on {address}: {error}", {
        address: error.address,
        error: error.reason,
      });
    } else {
      logger.error("Cannot start: {error}", { error: errorText(error) });
    }
    return 1;
  }
  const stopper = new SignalStopper(() => server.shutdown(), (code) => Deno.exit(code));
  const onSignal = (): void => stopper.signal();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, onSignal);
  }
  const keysFile = flags.apiKeysFile;
  const running = server;
  // One reload at a time, in the order the signals came.
  let reloading = Promise.resolve();
  // Operators send SIGHUP to reload out of habit; its default action would
  // kill a server that has nothing to reload.
  const onHangup = keysFile === undefined
    ? () => logger.info("SIGHUP: nothing to reload (only --api-keys is reloaded)")
    : () => reloading = reloading.then(() => reloadKeys(running, keysFile));
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

/** An environment variable's value when this process may read it; never a prompt. */
async function optionalEnv(name: string): Promise<string | undefined> {
  const status = await Deno.permissions.query({ name: "env", variable: name });
  return status.state === "granted" ? Deno.env.get(name) || undefined : undefined;
}

/** Redis's answer, with where a missing password goes. */
function redisHint(error: string): string {
  return /NOAUTH|WRONGPASS|AUTH/.test(error)
    ? `${error} (give the password in the URL or in ${REDIS_PASSWORD_ENV}, with --allow-env=${REDIS_PASSWORD_ENV})`
    : error;
}

/**
 * Reloads the keys file into a running server; a file that cannot be read
 * or parsed keeps the keys the server has, with one error line.
 */
async function reloadKeys(server: RunningServer, file: string): Promise<void> {
  let keys;
  try {
    keys = await readKeyFile(file, "--api-keys");
  } catch (error) {
    // The error names the file, and where in it, never what it holds.
    logger.error("Kept the old keys: {error}", { file, error: errorText(error) });
    return;
  }
  const result = server.reloadKeys(keys);
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
 * import { SignalStopper } from "./server.ts";
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

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
