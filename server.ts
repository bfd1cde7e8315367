/**
 * Switchboard's signaling server.
 *
 * ```sh
 * deno run --allow-net server.ts --port 8765
 * ```
 *
 * @module
 */

import { parseServerFlags, SERVER_USAGE, UsageError } from "./lib/flags.ts";
import { getLogger } from "./lib/deps.ts";
import { setupLogging } from "./lib/logging.ts";
import { type RunningServer, startServer } from "./lib/server.ts";

const logger = getLogger(["switchboard", "server"]);

export { type RunningServer, type ServerOptions, startServer } from "./lib/server.ts";

/**
 * Runs the server until SIGINT or SIGTERM, then shuts it down gracefully;
 * a second signal exits at once with 130.
 *
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseServerFlags(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${SERVER_USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(SERVER_USAGE);
    return 0;
  }
  setupLogging({ format: flags.logFormat });
  let server: RunningServer;
  try {
    server = startServer(flags);
  } catch (error) {
    logger.error("Cannot listen on {host}:{port}: {error}", {
      host: flags.host,
      port: flags.port,
      error: error instanceof Error ? error.message : String(error),
    });
    return 1;
  }
  let stopped: Promise<void> | undefined;
  const onSignal = (): void => {
    if (stopped) Deno.exit(130);
    stopped = server.shutdown();
    // Awaited below; this keeps an early failure from going unhandled meanwhile.
    stopped.catch(() => {});
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, onSignal);
  }
  await server.finished;
  try {
    // "Server stopped." is logged once every disconnect has been.
    await stopped;
  } catch (error) {
    logger.error("Shutdown failed: {error}", {
      error: error instanceof Error ? error.message : String(error),
    });
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
