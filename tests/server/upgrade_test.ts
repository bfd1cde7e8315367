import assert from "node:assert/strict";
import { Access } from "../../lib/auth/access.ts";
import type { KeyRecord } from "../../lib/auth/key_file.ts";
import { Metrics } from "../../lib/metrics.ts";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "../../lib/server/config.ts";
import type { ServerState } from "../../lib/server/connection.ts";
import { RefusalLog } from "../../lib/server/refusal_log.ts";
import { SocketTracker } from "../../lib/server/socket_tracker.ts";
import { upgrade } from "../../lib/server/upgrade.ts";
import { HANDSHAKE_HEADERS } from "../support/helpers.ts";

// An upgrade that succeeds needs a real connection: start_test.ts has those.
// Here are the refusals, which answer before any WebSocket exists.

/** What the upgrade path reads of a server, and its refusal log to close. */
function serverState(changes: Partial<ServerOptions> = {}, apiKeys?: KeyRecord[]) {
  const metrics = new Metrics();
  const state = {
    config: { ...DEFAULT_SERVER_OPTIONS, ...changes },
    metrics,
    sockets: new SocketTracker(metrics, {
      maxPerAddress: changes.maxClientsPerIp ?? 0,
      openDeadlineMs: 1000,
      closeDeadlineMs: 1000,
    }),
    stopping: false,
    refusalLog: new RefusalLog(10, 10_000),
    access: new Access(apiKeys),
  } as unknown as ServerState;
  return { state, [Symbol.dispose]: () => state.refusalLog.close() };
}

const peer: Deno.NetAddr = { transport: "tcp", hostname: "192.0.2.1", port: 5000 };

const request = (headers: Record<string, string> = {}) =>
  new Request("http://127.0.0.1/", { headers: { ...HANDSHAKE_HEADERS, ...headers } });

Deno.test("upgrade() refuses a disallowed origin with 403, and counts it", async () => {
  using server = serverState({ allowedOrigins: ["https://ok.example"] });
  const refused = await upgrade(
    server.state,
    [],
    request({ origin: "https://evil.example" }),
    peer,
  );
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /\n$/);
  assert.equal(server.state.metrics.refusedHandshakes.get(403), 1);
});

Deno.test("upgrade() refuses a handshake without a key with 401 and a challenge", async () => {
  using server = serverState({}, []);
  const refused = await upgrade(server.state, [], request(), peer);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("www-authenticate"), 'Bearer realm="switchboard"');
});

Deno.test("upgrade() refuses with 503 while the server shuts down", async () => {
  using server = serverState();
  server.state.stopping = true;
  const refused = await upgrade(server.state, [], request(), peer);
  assert.equal(refused.status, 503);
  assert.equal(await refused.text(), "server shutting down\n");
});

Deno.test("upgrade() refuses an address over --max-clients-per-ip with 429", async () => {
  using server = serverState({ maxClientsPerIp: 1 });
  server.state.sockets.track(new EventTarget() as WebSocket, "192.0.2.1", "192.0.2.1:4000");
  const refused = await upgrade(server.state, [], request(), peer);
  assert.equal(refused.status, 429);
  assert.equal(await refused.text(), "too many connections from 192.0.2.1 (limit 1)\n");
  server.state.sockets.stop();
});
