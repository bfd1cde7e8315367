/**
 * Plain HTTP routing for the requests that are not WebSocket upgrades: a
 * table from path to handler, and the answers for everything else. Pure: a
 * `Request` in, a `Response` out.
 *
 * @module
 */

/** Answers a request for one path. */
export type Handler = (request: Request) => Response;

/** One path's handlers, by method (upper case). */
export type Route = Readonly<Record<string, Handler>>;

/** The server's paths and their handlers. */
export type Routes = Readonly<Record<string, Route>>;

/**
 * Answers a plain HTTP request from `routes`: the path's handler for the
 * method (`HEAD` is served by `GET`'s, the runtime drops the body); a known
 * path with another method gets `405` and `Allow`; an unknown path gets
 * `426 Upgrade Required` when the request clearly meant a WebSocket
 * ({@linkcode meantUpgrade}), else `404`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { routeHttp } from "./router.ts";
 * const routes = { "/healthz": { GET: () => new Response("ok") } };
 * const post = routeHttp(new Request("http://h/healthz", { method: "POST" }), routes);
 * assert.equal(post.status, 405);
 * assert.equal(post.headers.get("allow"), "GET, HEAD");
 * assert.equal(routeHttp(new Request("http://h/nope"), routes).status, 404);
 * ```
 */
export function routeHttp(request: Request, routes: Routes): Response {
  const path = new URL(request.url).pathname;
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (route === undefined) {
    return meantUpgrade(request) ? upgradeRequired() : text(404, "Not Found", {});
  }
  const method = request.method === "HEAD" ? "GET" : request.method;
  const handler = Object.hasOwn(route, method) ? route[method] : undefined;
  if (handler !== undefined) return handler(request);
  const allow = Object.keys(route).flatMap((m) => m === "GET" ? ["GET", "HEAD"] : [m]);
  return text(405, "Method Not Allowed", { allow: allow.join(", ") });
}

/**
 * Whether a request that is not a valid upgrade still clearly meant one: it
 * names an upgrade in `Connection` or `Upgrade`, or carries a
 * `Sec-WebSocket-*` header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meantUpgrade } from "./router.ts";
 * assert.ok(meantUpgrade(new Request("http://h/", { headers: { "sec-websocket-version": "13" } })));
 * assert.ok(!meantUpgrade(new Request("http://h/")));
 * ```
 */
export function meantUpgrade(request: Request): boolean {
  if (request.headers.has("upgrade")) return true;
  const connection = request.headers.get("connection") ?? "";
  if (connection.toLowerCase().split(/\s*,\s*/).includes("upgrade")) return true;
  for (const [name] of request.headers) {
    if (name.startsWith("sec-websocket-")) return true;
  }
  return false;
}

/** `426 Upgrade Required`, naming the plain HTTP paths. */
export function upgradeRequired(): Response {
  return text(
    426,
    "Upgrade Required: this is a WebSocket endpoint (try /healthz)",
    { upgrade: "websocket", connection: "Upgrade" },
  );
}

function text(status: number, body: string, headers: Record<string, string>): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
