import assert from "node:assert/strict";
import { meantUpgrade, routeHttp, type Routes, upgradeRequired } from "../../lib/server/router.ts";

const routes: Routes = {
  "/": { GET: upgradeRequired },
  "/healthz": { GET: () => new Response("ok") },
  "/upload": { POST: () => new Response("stored", { status: 201 }) },
};

function get(path: string, init: RequestInit = {}): Response {
  return routeHttp(new Request(`http://127.0.0.1${path}`, init), routes);
}

Deno.test("routeHttp() runs the path's handler for its method, and GET's for HEAD", async () => {
  assert.equal(await get("/healthz").text(), "ok");
  assert.equal(get("/healthz", { method: "HEAD" }).status, 200);
  assert.equal(get("/upload", { method: "POST" }).status, 201);
});

Deno.test("routeHttp() answers another method on a known path with 405 and Allow", () => {
  const response = get("/healthz", { method: "DELETE" });
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "GET, HEAD");
  assert.equal(get("/upload").headers.get("allow"), "POST");
});

Deno.test("routeHttp() answers an unknown path with 404, or 426 when an upgrade was meant", () => {
  assert.equal(get("/nope").status, 404);
  assert.equal(get("/__proto__").status, 404);
  assert.equal(get("/toString").status, 404);
  assert.equal(get("/nope", { headers: { connection: "Upgrade" } }).status, 426);
});

Deno.test("meantUpgrade() sees Upgrade, Connection: upgrade and Sec-WebSocket-* headers", () => {
  const request = (headers: Record<string, string>) => new Request("http://h/", { headers });
  assert.ok(meantUpgrade(request({ upgrade: "h2c" })));
  assert.ok(meantUpgrade(request({ connection: "keep-alive, Upgrade" })));
  assert.ok(meantUpgrade(request({ "sec-websocket-key": "x" })));
  assert.ok(!meantUpgrade(request({ connection: "keep-alive", accept: "*/*" })));
});
