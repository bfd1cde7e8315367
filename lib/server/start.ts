/**
 * The signaling server: HTTP routing, the WebSocket handshake, health and
 * metrics, and shutdown. Each connection's life is in `connection.ts`.
 *
 * @module
 */

import { checkKey, SUBPROTOCOL } from "../auth/credentials.ts";
import type { KeyRecord } from "../auth/key_file.ts";
import { Keyring } from "../auth/keyring.ts";
import { Tenants } from "../auth/tenants.ts";
import { Connection, type ServerState } from "./connection.ts";
import { getLogger } from "../runtime/deps.ts";
import { checkUpgrade, offeredSubprotocols, type Refusal, wantsUpgrade } from "./handshake.ts";
import { LogLimit } from "./log_limit.ts";
import { ListenError, Listeners } from "./listeners.ts";
import { Metrics } from "../metrics.ts";
import { metricsReadable } from "./metrics_access.ts";
import { RefusalLog } from "./refusal_log.ts";
import { Registry } from "../registry.ts";
import { Resumption } from "./resume/resumption.ts";
import { resumeRequest } from "../protocol/resume_params.ts";
import { routeHttp, type Routes, upgradeRequired } from "./routes.ts";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "./config.ts";
import { Signaling, type SignalingFactory, type SignalingService } from "../signaling/memory.ts";
import { type Cidr, clientAddress, parseCidr } from "./client_address.ts";
import { SocketTracker, type StuckSocket } from "./socket_tracker.ts";
import { errorText, plural, printable, truncate } from "../runtime/safe_text.ts";
import { assetResponse, ASSETS } from "./page_assets.ts";

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
  readonly resumption: Resumption;
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
   * @throws {TypeError} On a server started without API keys.
   */
  reloadKeys(keys: readonly KeyRecord[]): { keys: number; revoked: number };
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
  const trusted = config.trustProxy.map(toCidr);
  const registry = new Registry<Connection>();
  const metrics = new Metrics();
  const tenants = new Tenants();
  const turn = config.turn;
  const signalingOptions = {
    pairTimeoutMs: config.pairTimeout * 1000,
    iceServers: config.iceServers,
    ...(turn ? { iceServersFor: (id: string) => turn.iceServers(id) } : {}),
    // Another key's client answers exactly like an unknown id.
    canReach: (from: string, to: string) => tenants.same(from, to),
  };
  // Sessions wait in this instance's memory, so resume works with the
  // in-memory signaling only; with a shared store it is off.
  const memory = shared.signaling === undefined;
  const resumption = new Resumption({
    graceS: memory ? config.resumeGrace : 0,
    maxQueued: config.resumeQueue,
    // What may wait for an away client is what a connected one may leave unread.
    maxQueuedBytes: config.maxBufferedBytes,
    metrics,
    onEnded: (id, why) => {
      tenants.leave(id);
      signaling.disconnected(id, why === "timeout" ? "timeout" : "disconnected");
    },
  });
  // In memory unless the caller brings a shared store (several instances).
  const signaling: SignalingService = shared.signaling?.(registry, signalingOptions, metrics) ??
    new Signaling(registry, { ...signalingOptions, absentees: resumption });
  // A stranger can get sockets stuck as fast as it can connect: cap their lines too.
  const stuckLog = new LogLimit(10, 10_000);
  const sockets = new SocketTracker(metrics, {
    maxPerAddress: config.maxClientsPerIp,
    openDeadlineMs: config.handshakeTimeout * 1000,
    closeDeadlineMs: config.closeTimeout * 1000,
    onStuck: (stuck) => logStuck(stuck),
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
    resumption,
    keyring: config.apiKeys === undefined ? undefined : new Keyring(config.apiKeys),
    tenants,
  };
  const scheme = config.tls === undefined ? "ws" : "wss";
  const startedAt = performance.now();
  let stopped: Promise<void> | undefined;

  logger.info("Server starting...");
  const handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response => {
    if (!wantsUpgrade(request)) return serveHttp(request, info.remoteAddr.hostname);
    const client = clientAddress(info.remoteAddr, request.headers, trusted);
    const remoteAddr = client.address;
    const refusal = checkUpgrade(request, config.allowedOrigins);
    if (refusal) return refuse(refusal, remoteAddr);
    let key: KeyRecord | undefined;
    if (state.keyring !== undefined) {
      const checked = checkKey(request.headers, state.keyring);
      if ("status" in checked) return refuse(checked, remoteAddr);
      key = checked.record;
    }
    // Refused before the upgrade, so no socket exists to get stuck.
    if (state.stopping) {
      return refuse({ status: 503, reason: "server shutting down" }, remoteAddr);
    }
    if (!sockets.admits(client.key)) {
      return refuse({
        status: 429,
        reason: `too many connections from ${client.key} (limit ${config.maxClientsPerIp})`,
      }, remoteAddr);
    }
    let upgrade;
    try {
      upgrade = Deno.upgradeWebSocket(request, { idleTimeout: config.idleTimeout });
    } catch (error) {
      return refuse({ status: 400, reason: truncate(printable(errorText(error))) }, remoteAddr);
    }
    // Browsers fail a handshake whose answer names none of the subprotocols
    // they offered. Set here, not with the runtime's `protocol` option, which
    // refuses a list written without spaces (`switchboard,switchboard.key.K`).
    if (offeredSubprotocols(request).includes(SUBPROTOCOL)) {
      upgrade.response.headers.set("sec-websocket-protocol", SUBPROTOCOL);
    }
    metrics.connections++;
    sockets.track(upgrade.socket, client.key, remoteAddr);
    new Connection(state, upgrade.socket, remoteAddr, resumeRequest(request.url), key);
    return upgrade.response;
  };
  const listeners = Listeners.open({
    host: config.host,
    port: config.port,
    tls: config.tls,
    handler,
    onRelisten: (addr) => {
      logger.info("Server listening on {url}", { url: `${scheme}://${formatAddr(addr)}` });
    },
  });
  const addr = listeners.addrs[0]!;
  const url = `${scheme}://${formatAddr(addr)}`;
  // A separate listener for Prometheus, in plain HTTP: it is for an internal address.
  let metricsListeners: Listeners | undefined;
  try {
    metricsListeners = config.metricsListen && Listeners.open({
      ...config.metricsListen,
      handler: (request) => routeHttp(request, metricsRoutes),
    });
  } catch (error) {
    // Not awaited: the caller gets the error, and no server to wait on.
    listeners.shutdown();
    if (!(error instanceof ListenError)) throw error;
    throw new ListenError(`${error.address} (--metrics-listen)`, error.reason);
  }
  logListening(config, listeners.addrs, metricsListeners?.addrs);
  logAccess(config);

  let stoppedListening: () => void = () => {};
  // A shutdown that gave up on connections the runtime holds has still finished.
  const finished = Promise.race([
    listeners.finished,
    new Promise<void>((resolve) => stoppedListening = resolve),
  ]);

  // Plain HTTP, by path and method; a WebSocket upgrade goes to any path.
  const page: Routes = config.web
    ? Object.fromEntries(
      [...ASSETS.keys()].map((path) => [path, { GET: () => assetResponse(path)! }]),
    )
    : { "/": { GET: upgradeRequired } };
  const routes: Record<string, Routes[string]> = {
    ...page,
    "/healthz": {
      GET: () => {
        const status = state.stopping ? "stopping" : signaling.available ? "ok" : "degraded";
        return Response.json({
          status,
          clients: registry.size,
          uptime_s: Math.floor((performance.now() - startedAt) / 1000),
        }, { status: status === "ok" ? 200 : 503 });
      },
    },
  };
  const metricsRoute: Routes[string] = {
    GET: () =>
      new Response(metrics.render(registry.size, keyClients()), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      }),
  };
  const metricsRoutes: Routes = { "/metrics": metricsRoute, "/healthz": routes["/healthz"]! };
  if (config.metricsListen === undefined) routes["/metrics"] = metricsRoute;

  if (config.web) {
    // The page asks for a key only when the server wants one: a browser
    // cannot read why a WebSocket handshake failed.
    const body = JSON.stringify({ auth: config.apiKeys !== undefined });
    routes["/config.json"] = {
      GET: () =>
        new Response(body, {
          headers: {
            "content-type": "application/json; charset=utf-8",
            "cache-control": "no-cache",
          },
        }),
    };
  }

  function keyClients(): [string, number][] | undefined {
    return state.keyring?.records.map((key) => [key.label, tenants.count(key.sha256)]);
  }

  function reloadKeys(keys: readonly KeyRecord[]): { keys: number; revoked: number } {
    if (state.keyring === undefined) {
      throw new TypeError("This server was started without API keys");
    }
    const keyring = state.keyring = new Keyring(keys);
    // Away sessions first, so a connected partner hears `peer_left` before its own 1008.
    let revoked = resumption.revoke((id) => {
      const tenant = tenants.tenantOf(id);
      return typeof tenant === "string" && keyring.byHash(tenant) === undefined;
    });
    for (const { socket: connection } of [...registry]) {
      if (connection.tenant !== undefined && keyring.byHash(connection.tenant) === undefined) {
        connection.revoke();
        revoked++;
      }
    }
    return { keys: keyring.size, revoked };
  }

  function serveHttp(request: Request, peer: string): Response {
    if (
      config.metricsListen === undefined && new URL(request.url).pathname === "/metrics" &&
      !metricsReadable(peer, request.headers, trusted)
    ) {
      return new Response(
        "Forbidden: /metrics answers clients on this machine only (see --metrics-listen)\n",
        { status: 403, headers: { "content-type": "text/plain; charset=utf-8" } },
      );
    }
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

  function logStuck(stuck: StuckSocket): void {
    const admission = stuckLog.admit(performance.now());
    if (!admission.log) return;
    const more = admission.skipped > 0 ? ` (${admission.skipped} more, not logged)` : "";
    if (stuck.kind === "unopened") {
      logger.warn(
        `A handshake from {remoteAddr} never opened (reset before the 101?); the runtime keeps its connection${more}`,
        { remoteAddr: stuck.address, skipped: admission.skipped },
      );
    } else {
      logger.warn(
        `The peer at {remoteAddr} did not answer the close within {seconds} s; its connection stays open until it does${more}`,
        { remoteAddr: stuck.address, seconds: config.closeTimeout, skipped: admission.skipped },
      );
    }
  }

  // Polled, during a shutdown only: the registry is plain state with no events.
  async function drain(deadline: Deadline): Promise<void> {
    while (registry.size > 0 && !deadline.passed) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  function shutdown(): Promise<void> {
    stopped ??= (async () => {
      state.stopping = true;
      logger.info("Shutting down...");
      sockets.stop();
      const deadline = new Deadline(config.shutdownTimeout * 1000);
      // Closed here rather than left to the runtime, which only knows the
      // clients of the listener it has now. The listener stays open until
      // they are gone, so health checks see 503 "stopping" meanwhile.
      for (const { socket: connection } of registry) connection.goAway();
      const drained = await deadline.race(drain(deadline));
      // The metrics listener too, so scrapes see the drain to its end.
      const closed = drained && await deadline.race(
        Promise.all([listeners.shutdown(), metricsListeners?.shutdown()]),
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
      await signaling.close();
      resumption.close();
      state.refusalLog.close();
      logger.info("Server stopped.");
      stoppedListening();
    })();
    return stopped;
  }

  return {
    addr,
    url,
    addrs: listeners.addrs,
    metricsAddr: metricsListeners?.addrs[0],
    registry,
    metrics,
    signaling,
    resumption,
    sockets,
    reloadKeys,
    shutdown,
    finished,
  };
}

/**
 * The start line: every address listened on, where a browser finds the page
 * (`localhost` for a wildcard host, which a browser cannot open), and where
 * Prometheus finds `/metrics` when it has a listener of its own.
 */
function logListening(
  config: ServerOptions,
  addrs: readonly Deno.NetAddr[],
  metricsAddrs: readonly Deno.NetAddr[] | undefined,
): void {
  const secure = config.tls === undefined ? "" : "s";
  const urls = addrs.map((addr) => `ws${secure}://${formatAddr(addr)}`).join(" and ");
  const port = addrs[0]!.port;
  const host = /^(0\.0\.0\.0|\[?::\]?)$/.test(config.host)
    ? "localhost"
    : config.host.includes(":") && !config.host.startsWith("[")
    ? `[${config.host}]`
    : config.host;
  const page = `http${secure}://${host}:${port}/`;
  const metrics = metricsAddrs?.map((addr) => `http://${formatAddr(addr)}/metrics`).join(" and ");
  const template = "Server listening on {url}" + (config.web ? "; the page is at {page}" : "") +
    (metrics === undefined ? "" : "; /metrics is at {metrics}");
  logger.info(template, {
    url: urls,
    ...(config.web ? { page } : {}),
    ...(metrics ? { metrics } : {}),
  });
}

/**
 * Says who may connect, after the listening line: anyone, or holders of a
 * key; and warns when keys would cross a network in the clear.
 */
function logAccess(config: ServerOptions): void {
  if (config.apiKeys === undefined) {
    logger.info("Open to any client that can reach it: no --api-keys");
    return;
  }
  logger.info("Clients need an API key (keys loaded: {keys})", { keys: config.apiKeys.length });
  if (config.tls === undefined && !isLoopback(config.host)) {
    logger.warn(
      "API keys without TLS on {host}: anyone on the network path can read them; add --tls-cert and --tls-key, or listen on loopback behind a TLS proxy",
      { host: config.host },
    );
  }
}

/**
 * Whether `host` is a loopback name or address, where plain `ws://` never
 * leaves the machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./start.ts";
 * assert.ok(isLoopback("localhost") && isLoopback("127.0.0.2") && isLoopback("::1"));
 * assert.ok(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.5"));
 * ```
 */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function toCidr(range: string): Cidr {
  const cidr = parseCidr(range);
  if (!cidr) throw new TypeError(`Not an IP address or CIDR range: "${range}"`);
  return cidr;
}

/** A time limit that several waits share. */
class Deadline {
  readonly #expired: Promise<false>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the time is up. */
  passed = false;

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

  clear(): void {
    clearTimeout(this.#timer);
    this.passed = true;
  }
}

/** How often a shutdown looks whether every client is gone. */
const DRAIN_POLL_MS = 20;

/** Formats an address as `ip:port`, bracketing IPv6. */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
