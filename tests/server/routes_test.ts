import assert from "node:assert/strict";
import { Access } from "../../lib/auth/access.ts";
import { TokenVerifier } from "../../lib/auth/tokens.ts";
import { Metrics } from "../../lib/metrics.ts";
import { Registry } from "../../lib/registry.ts";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "../../lib/server/config.ts";
import type { ServerState } from "../../lib/server/connection.ts";
import { serverRoutes } from "../../lib/server/routes.ts";

/** Just what the routes read of a server. */
function server(changes: Partial<ServerOptions> = {}, available = true): ServerState {
  return {
    config: { ...DEFAULT_SERVER_OPTIONS, ...changes },
    registry: new Registry(),
    metrics: new Metrics(),
    signaling: { available },
    access: new Access(changes.apiKeys, changes.tokens),
    stopping: false,
  } as unknown as ServerState;
}

const get = (path: string, headers: HeadersInit = {}) =>
  new Request(`http://h${path}`, { headers });

Deno.test("serverRoutes() answers /healthz with ok, then 503 degraded or stopping", async () => {
  const up = server();
  const routes = serverRoutes(up, [], performance.now());
  const ok = routes.serve(get("/healthz"), "127.0.0.1");
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: "ok", clients: 0, uptime_s: 0 });
  const degraded = serverRoutes(server({}, false), [], performance.now());
  const answer = degraded.serve(get("/healthz"), "127.0.0.1");
  assert.equal(answer.status, 503);
  assert.equal((await answer.json()).status, "degraded");
  up.stopping = true;
  const stopping = routes.serve(get("/healthz"), "127.0.0.1");
  assert.equal(stopping.status, 503);
  assert.equal((await stopping.json()).status, "stopping");
});

Deno.test("serverRoutes() serves /metrics to this machine only, unless it has a listener of its own", async () => {
  const routes = serverRoutes(server(), [], 0);
  const local = routes.serve(get("/metrics"), "127.0.0.1");
  assert.equal(local.status, 200);
  assert.match(await local.text(), /^# HELP /m);
  const remote = routes.serve(get("/metrics"), "192.0.2.7");
  assert.equal(remote.status, 403);
  assert.match(await remote.text(), /see --metrics-listen/);
  const apart = serverRoutes(server({ metricsListen: { host: "127.0.0.1", port: 0 } }), [], 0);
  assert.equal(apart.serve(get("/metrics"), "127.0.0.1").status, 404);
  assert.equal(apart.serveMetrics(get("/metrics")).status, 200);
  assert.equal(apart.serveMetrics(get("/healthz")).status, 200);
  assert.equal(apart.serveMetrics(get("/")).status, 404);
});

Deno.test("serverRoutes() tells the page whether it needs a key or a token at /config.json", async () => {
  const open = serverRoutes(server(), [], 0).serve(get("/config.json"), "127.0.0.1");
  assert.deepEqual(await open.json(), { auth: false, tokens: false });
  assert.equal(open.headers.get("cache-control"), "no-cache");
  const keyed = serverRoutes(server({ apiKeys: [] }), [], 0).serve(get("/config.json"), "::1");
  assert.deepEqual(await keyed.json(), { auth: true, tokens: false });
  const tokens = await TokenVerifier.create({ kind: "secret", secret: new Uint8Array(32) });
  const both = serverRoutes(server({ apiKeys: [], tokens }), [], 0).serve(
    get("/config.json"),
    "::1",
  );
  assert.deepEqual(await both.json(), { auth: true, tokens: true });
});

Deno.test("serverRoutes() with --no-web answers / with 426 and has no /config.json", () => {
  const routes = serverRoutes(server({ web: false }), [], 0);
  assert.equal(routes.serve(get("/"), "127.0.0.1").status, 426);
  assert.equal(routes.serve(get("/config.json"), "127.0.0.1").status, 404);
});

Deno.test("serverRoutes() lets only --embed-origin apps frame the page, and names them at /config.json", async () => {
  const embedding = serverRoutes(server({ embedOrigins: ["https://app.example"] }), [], 0);
  const page = embedding.serve(get("/"), "127.0.0.1");
  assert.match(
    page.headers.get("content-security-policy") ?? "",
    /frame-ancestors https:\/\/app\.example$/,
  );
  assert.deepEqual(await embedding.serve(get("/config.json"), "::1").json(), {
    auth: false,
    tokens: false,
    embed: ["https://app.example"],
  });
  const alone = serverRoutes(server(), [], 0).serve(get("/page/app.js"), "127.0.0.1");
  assert.match(alone.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'$/);
});
