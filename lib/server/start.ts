/**
 * The signaling server's composition root: it builds the parts (clients,
 * access control, signaling, resume windows, socket tracking), listens, and
 * wires each request to the upgrade path (`upgrade.ts`) or the HTTP routes
 * (`routes.ts`). Each connection's life is in `connection.ts`, the graceful
 * shutdown in `shutdown.ts`, the key reload in `key_reload.ts`.
 *
 * @module
 */

import { Access } from "../auth/access.ts";
import type { KeyRecord } from "../auth/key_file.ts";
import { Metrics } from "../metrics.ts";
import { Registry } from "../registry.ts";
import { getLogger } from "../runtime/deps.ts";
import { plural } from "../runtime/safe_text.ts";
import { memorySignaling } from "../signaling/memory.ts";
import type {
  PairEvents,
  SessionService,
  SignalingFactory,
  SignalingOptions,
  SignalingService,
} from "../signaling/service.ts";
import { trustedRanges } from "./client_address.ts";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "./config.ts";
import { Connection, type ServerState } from "./connection.ts";
import { wantsUpgrade } from "./handshake.ts";
import { reloadKeys, revokeShared } from "./key_reload.ts";
import { formatAddr, ListenError, Listeners } from "./listeners.ts";
import { CodeLimits, codeLimitsOf } from "./code_limits.ts";
import { RefusalLog } from "./refusal_log.ts";
import { serverRoutes } from "./routes.ts";
import { shutdownOnce } from "./shutdown.ts";
import { SocketTracker } from "./socket_tracker.ts";
import { logAccess, logListening } from "./start_log.ts";
import { stuckSocketLog } from "./stuck_sockets.ts";
import { upgrade } from "./upgrade.ts";
import type { Webhooks } from "./webhooks/webhooks.ts";

export { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "./config.ts";
export { ListenError } from "./listeners.ts";

const logger = getLogger(["switchboard", "server"]);

/** A server that is listening. */
export interface RunningServer {
  /** The bound address (the real port when `port` was 0). */
  readonly addr: Deno.NetAddr;
  /** `ws://host:port`, for clients: the first address listened on. */
  readonly url: string;
  /** Every address listened on: `localhost` is both `127.0.0.1` and `::1`. */
  readonly addrs: readonly Deno.NetAddr[];
  /** Where `/metrics` is served with `metricsListen`; else on the main port. */
  readonly metricsAddr: Deno.NetAddr | undefined;
  /** The connected clients. */
  readonly registry: Registry<Connection>;
  /** The server's counters. */
  readonly metrics: Metrics;
  /** Pairing and relay between clients. */
  readonly signaling: SignalingService;
  /** Sessions waiting for their clients to resume. */
  readonly sessions: SessionService;
  /** Every WebSocket the runtime still holds, per client address. */
  readonly sockets: SocketTracker;
  /**
   * Replaces the accepted API keys (the keys file was reloaded): new keys
   * work at once, and clients of keys no longer there are closed with 1008
   * `key revoked`, and those away in a resume window have it ended at once.
   * Only for a server started with `apiKeys`.
   *
   * @returns How many keys there are now, and how many clients were closed
   *   or, away, had their session ended.
   * @throws {TypeError} On a server started without API keys (the promise rejects).
   */
  reloadKeys(keys: readonly KeyRecord[]): Promise<{ keys: number; revoked: number }>;
  /**
   * Closes every client with 1001 while still listening (so `/healthz` says
   * 503 `stopping`), stops listening once they are gone, and resolves when
   * every disconnect has been handled or `shutdownTimeout` has passed,
   * whichever comes first. Safe to call more than once.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Starts a server. It is listening when this returns. Pairing and relay are
 * in memory unless `shared.signaling` builds them on a shared store.
 *
 * @throws {TypeError} When that signaling cannot honour what the options ask.
 * @example
 * ```ts ignore
 * import { startServer } from "./start.ts";
 * const server = startServer({ port: 0 });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export function startServer(
  options: Partial<ServerOptions> = {},
  shared: { signaling?: SignalingFactory } = {},
): RunningServer {
  const config: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const trusted = trustedRanges(config.trustProxy);
  const registry = new Registry<Connection>();
  const metrics = new Metrics(() =>
    signaling.metricsText() + (config.webhooks?.metricsText() ?? "")
  );
  const access = new Access(config.apiKeys, config.tokens);
  const turn = config.turn;
  // Only what is configured is asked for: a signaling that cannot honour an option refuses it.
  const signalingOptions: SignalingOptions = {
    pairTimeoutMs: config.pairTimeout * 1000,
    codeTtlMs: config.codeTtl * 1000,
    iceServers: config.iceServers,
    ...(turn ? { iceServersFor: (id: string) => turn.iceServers(id) } : {}),
    // Another key's (or tenant's) client answers exactly like an unknown id.
    ...(access.keyed ? { tenantOf: (id: string) => access.tenantOf(id) } : {}),
    // So does one a token's grants do not let it pair with.
    ...(access.takesTokens
      ? {
        mayReach: (a: string, b: string) => access.mayReach(a, b),
        grantOf: (id: string) => access.grantOf(id),
      }
      : {}),
    ...(config.resumeGrace > 0
      ? {
        resume: {
          graceS: config.resumeGrace,
          maxQueued: config.resumeQueue,
          // What may wait for an away client is what a connected one may leave unread.
          maxQueuedBytes: config.maxBufferedBytes,
          metrics,
          released: (id: string) => access.leave(id),
        },
      }
      : {}),
    ...(config.webhooks ? { pairEvents: pairWebhooks(config.webhooks) } : {}),
    cluster: {
      superseded: (id) => registry.get(id)?.socket.movedAway(),
      keysRevoked: (tenants) => {
        // Only keys this instance's file still has matter here; the rest it refuses already.
        const labels = tenants.flatMap((tenant) => access.keyOf(tenant)?.label ?? []);
        const closed = revokeShared(state, tenants);
        if (labels.length === 0) return;
        logger.info("Revoked on another instance: {keys}; closed {closedCount} here.", {
          keys: labels.join(", "),
          closed,
          closedCount: plural(closed, "client"),
        });
      },
    },
  };
  // In memory unless the caller brings a shared store (several instances).
  const signaling: SignalingService = (shared.signaling ?? memorySignaling)(
    registry,
    signalingOptions,
  );
  const sockets = new SocketTracker(metrics, {
    maxPerAddress: config.maxClientsPerIp,
    openDeadlineMs: config.handshakeTimeout * 1000,
    closeDeadlineMs: config.closeTimeout * 1000,
    onStuck: stuckSocketLog(config.closeTimeout),
  });
  const state: ServerState = {
    config,
    registry,
    metrics,
    signaling,
    sockets,
    stopping: false,
    // A stranger can cause refusals as fast as it can connect: cap their lines.
    refusalLog: new RefusalLog(10, 10_000),
    codeLimits: new CodeLimits(codeLimitsOf(config.codeRate)),
    access,
  };

  logger.info("Server starting...");
  const routes = serverRoutes(state, trusted, performance.now());
  const listeners = Listeners.open({
    host: config.host,
    port: config.port,
    tls: config.tls,
    handler: (request, info) =>
      wantsUpgrade(request)
        ? upgrade(state, trusted, request, info.remoteAddr)
        : routes.serve(request, info.remoteAddr.hostname),
    announce: true,
  });
  // A separate listener for Prometheus, in plain HTTP: it is for an internal address.
  let metricsListeners: Listeners | undefined;
  try {
    metricsListeners = config.metricsListen && Listeners.open({
      ...config.metricsListen,
      handler: (request) => routes.serveMetrics(request),
    });
  } catch (error) {
    // Not awaited: the caller gets the error, and no server to wait on.
    listeners.shutdown();
    if (!(error instanceof ListenError)) throw error;
    throw new ListenError(`${error.address} (--metrics-listen)`, error.reason);
  }
  logListening(config, listeners.addrs, metricsListeners?.addrs);
  logAccess(config);

  let stopped: () => void = () => {};
  // A shutdown that gave up on connections the runtime holds has still finished.
  const finished = Promise.race([
    listeners.finished,
    new Promise<void>((resolve) => stopped = resolve),
  ]);
  const scheme = config.tls === undefined ? "ws" : "wss";
  return {
    addr: listeners.addrs[0]!,
    url: `${scheme}://${formatAddr(listeners.addrs[0]!)}`,
    addrs: listeners.addrs,
    metricsAddr: metricsListeners?.addrs[0],
    registry,
    metrics,
    signaling,
    sessions: signaling.sessions,
    sockets,
    reloadKeys: (keys) => reloadKeys(state, keys),
    shutdown: shutdownOnce(state, [listeners, metricsListeners], () => stopped()),
    finished,
  };
}

/** Pairs made and ended, as webhook events. */
function pairWebhooks(webhooks: Webhooks): PairEvents {
  return {
    paired: (initiator, responder, by) =>
      webhooks.emit("pair.created", { clients: [initiator, responder], by }),
    ended: (a, b, reason) => webhooks.emit("pair.ended", { clients: [a, b], reason }),
  };
}
