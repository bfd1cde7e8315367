/**
 * The server's plain HTTP paths: the page and its files (or 426 with
 * `--no-web`), `/healthz`, `/metrics` (on its own listener with
 * `--metrics-listen`, else here for clients on this machine only) and the
 * page's `/config.json`.
 *
 * @module
 */

import type { Cidr } from "./client_address.ts";
import type { ServerState } from "./connection.ts";
import { metricsReadable } from "./metrics_access.ts";
import { assetResponse, ASSETS, contentSecurityPolicy } from "./page_assets.ts";
import { type Route, routeHttp, type Routes, upgradeRequired } from "./router.ts";

/** The answers to plain HTTP, for the clients' listeners and the metrics one. */
export interface ServerRoutes {
  /** Answers a request that is not an upgrade; `peer` is the TCP peer's address. */
  serve(request: Request, peer: string): Response;
  /** Answers a request on the metrics listener: `/metrics` and `/healthz`. */
  serveMetrics(request: Request): Response;
}

/**
 * The server's paths, read from `server` at each request.
 *
 * @param trusted The proxies' ranges (`--trust-proxy`), for who may read `/metrics`.
 * @param startedAt When the server started, from `performance.now()`, for `uptime_s`.
 */
export function serverRoutes(
  server: ServerState,
  trusted: readonly Cidr[],
  startedAt: number,
): ServerRoutes {
  const { config, registry, metrics, signaling, access } = server;
  const csp = contentSecurityPolicy(config.embedOrigins);
  const page: Routes = config.web
    ? Object.fromEntries(
      [...ASSETS.keys()].map((path) => [path, { GET: () => assetResponse(path, csp)! }]),
    )
    : { "/": { GET: upgradeRequired } };
  const health: Route = {
    GET: () => {
      const status = server.stopping ? "stopping" : signaling.available ? "ok" : "degraded";
      return Response.json({
        status,
        clients: registry.size,
        uptime_s: Math.floor((performance.now() - startedAt) / 1000),
      }, { status: status === "ok" ? 200 : 503 });
    },
  };
  const metricsRoute: Route = {
    GET: () =>
      new Response(metrics.render(registry.size, access.clientsPerKey()), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      }),
  };
  const metricsRoutes: Routes = { "/metrics": metricsRoute, "/healthz": health };
  const routes: Record<string, Route> = { ...page, "/healthz": health };
  if (config.metricsListen === undefined) routes["/metrics"] = metricsRoute;
  if (config.web) {
    // The page asks for a key only when the server wants one: a browser
    // cannot read why a WebSocket handshake failed.
    const body = JSON.stringify({
      auth: access.takesKeys,
      tokens: access.takesTokens,
      ...(config.embedOrigins.length > 0 ? { embed: config.embedOrigins } : {}),
    });
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
  return {
    serve(request, peer) {
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
    },
    serveMetrics: (request) => routeHttp(request, metricsRoutes),
  };
}
