/**
 * The signaling server: HTTP routing, the WebSocket handshake, health and
 * metrics, and shutdown. Each connection's life is in `connection.ts`.
 *
 * @module
 */

import { Connection, type ServerState } from "./connection.ts";
import { getLogger } from "./deps.ts";
import { checkUpgrade, type Refusal, wantsUpgrade } from "./handshake.ts";
import { Metrics } from "./metrics.ts";
import { RefusalLog } from "./refusal_log.ts";
import { Registry } from "./registry.ts";
import { routeHttp, type Routes, upgradeRequired } from "./routes.ts";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "./options.ts";
import { Signaling } from "./signaling.ts";
import { errorText, printable, truncate } from "./text.ts";
import { assetResponse, ASSETS } from "./web/assets.ts";

export { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "./options.ts";

const logger = getLogger(["switchboard", "server"]);

/** A server that is listening. */
export interface RunningServer {
  /** The bound address (the real port when `port` was 0). */
  readonly addr: Deno.NetAddr;
  /** `ws://host:port`, for clients. */
  readonly url: string;
  /** The connected clients. */
  readonly registry: Registry<Connection>;
  /** The server's counters. */
  readonly metrics: Metrics;
  /** Pairing and relay between clients. */
  readonly signaling: Signaling;
  /**
   * Closes every client with 1001, stops listening, and resolves once every
   * disconnect has been handled. Safe to call more than once.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Starts a server. It is listening when this returns.
 *
 * @example
 * ```ts ignore
 * import { startServer } from "./server.ts";
 * const server = startServer({ port: 0 });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export function startServer(options: Partial<ServerOptions> = {}): RunningServer {
  const config: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const registry = new Registry<Connection>();
  const metrics = new Metrics();
  const signaling = new Signaling(registry, {
    pairTimeoutMs: config.pairTimeout * 1000,
    iceServers: config.iceServers,
  });
  const state: ServerState = {
    config,
    registry,
    metrics,
    signaling,
    stopping: false,
    // A stranger can cause refusals as fast as it can connect: cap their lines.
    refusalLog: new RefusalLog(10, 10_000),
  };
  const startedAt = performance.now();
  let stopped: Promise<void> | undefined;

  logger.info("Server starting...");
  const handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response => {
    if (!wantsUpgrade(request)) return serveHttp(request);
    const remoteAddr = formatAddr(info.remoteAddr);
    const refusal = checkUpgrade(request, config.allowedOrigins);
    if (refusal) return refuse(refusal, remoteAddr);
    let upgrade;
    try {
      upgrade = Deno.upgradeWebSocket(request, {
        idleTimeout: config.idleTimeout,
      });
    } catch (error) {
      return refuse({ status: 400, reason: truncate(printable(errorText(error))) }, remoteAddr);
    }
    metrics.connections++;
    new Connection(state, upgrade.socket, remoteAddr);
    return upgrade.response;
  };
  const listen = (port: number): Deno.HttpServer<Deno.NetAddr> =>
    Deno.serve({
      hostname: config.host,
      port,
      onListen: (addr) => {
        logger.info("Server listening on {url}", { url: `ws://${formatAddr(addr)}` });
      },
    }, handler);
  let httpServer = listen(config.port);

  const addr = httpServer.addr;
  const url = `ws://${formatAddr(addr)}`;

  // When the process runs out of file descriptors the runtime stops accepting
  // for good, though open connections carry on: listen again once some close.
  const finished = (async () => {
    while (true) {
      try {
        await httpServer.finished;
        return;
      } catch (error) {
        if (state.stopping) return;
        logger.error("Stopped accepting connections: {error}. Listening again in {seconds} s.", {
          error: errorText(error),
          seconds: RELISTEN_DELAY_MS / 1000,
        });
        await new Promise((resolve) => setTimeout(resolve, RELISTEN_DELAY_MS));
        if (state.stopping) return;
        try {
          httpServer = listen(addr.port);
        } catch (error) {
          logger.error("Cannot listen again: {error}", { error: errorText(error) });
        }
      }
    }
  })();

  // Plain HTTP, by path and method; a WebSocket upgrade goes to any path.
  const page: Routes = config.web
    ? Object.fromEntries(
      [...ASSETS.keys()].map((path) => [path, { GET: () => assetResponse(path)! }]),
    )
    : { "/": { GET: upgradeRequired } };
  const routes: Routes = {
    ...page,
    "/healthz": {
      GET: () =>
        Response.json({
          status: state.stopping ? "stopping" : "ok",
          clients: registry.size,
          uptime_s: Math.floor((performance.now() - startedAt) / 1000),
        }, { status: state.stopping ? 503 : 200 }),
    },
    "/metrics": {
      GET: () =>
        new Response(metrics.render(registry.size), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
    },
  };

  function serveHttp(request: Request): Response {
    return routeHttp(request, routes);
  }

  function refuse(refusal: Refusal, remoteAddr: string): Response {
    metrics.refused(refusal.status);
    const admission = state.refusalLog.admit(performance.now());
    if (admission.log) {
      logger.warn(
        admission.skipped > 0
          ? "Refused a handshake from {remoteAddr}: {status} {reason} ({skipped} more refused, not logged)"
          : "Refused a handshake from {remoteAddr}: {status} {reason}",
        { remoteAddr, status: refusal.status, reason: refusal.reason, skipped: admission.skipped },
      );
    }
    return new Response(`${refusal.reason}\n`, {
      status: refusal.status,
      headers: refusal.headers ?? {},
    });
  }

  function shutdown(): Promise<void> {
    stopped ??= (async () => {
      state.stopping = true;
      logger.info("Shutting down...");
      // Closed here rather than left to the runtime, which only knows the
      // clients of the listener it has now.
      for (const { socket: connection } of registry) connection.goAway();
      try {
        await httpServer.shutdown();
      } catch {
        // A listener that already failed has nothing left to shut down.
      }
      signaling.close();
      state.refusalLog.close();
      logger.info("Server stopped.");
    })();
    return stopped;
  }

  return {
    addr,
    url,
    registry,
    metrics,
    signaling,
    shutdown,
    finished,
  };
}

/** How long to wait before listening again after the listener failed. */
const RELISTEN_DELAY_MS = 1000;

/** Formats an address as `ip:port`, bracketing IPv6. */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
