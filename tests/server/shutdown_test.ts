import assert from "node:assert/strict";
import { spawnServer, TestClient } from "../support/helpers.ts";
import { connect, resetHandshakes, SilentClient } from "../support/hostile.ts";

const STOPPED = /INFO: Server stopped\.$/;

Deno.test("while shutting down, /healthz answers 503 stopping and new upgrades get 503", async () => {
  const { child, port } = await spawnServer(["--shutdown-timeout", "1"]);
  await using _ = child;
  // A client that never answers the 1001 keeps the server draining.
  using silent = await SilentClient.open({ port });
  assert.equal(silent.status, 101);
  await child.waitForLine(/Client \S+ connected/);
  child.process.kill("SIGTERM");
  await child.waitForLine(/INFO: Shutting down\.\.\.$/);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 503);
  assert.equal((await health.json()).status, "stopping");
  using late = await SilentClient.open({ port });
  assert.equal(late.status, 503);
  assert.match(late.head, /server shutting down/);
  const status = await child.exit();
  assert.equal(status.code, 0);
  const log = child.stderr.join("\n");
  assert.match(
    log,
    /WARNING: Shutdown timed out after 1 s: dropping 1 client and 1 connection/,
  );
  assert.match(child.stderr.at(-1) ?? "", STOPPED);
});

Deno.test("a request body that never ends cannot hold a shutdown past --shutdown-timeout", async () => {
  const { child, port } = await spawnServer(["--shutdown-timeout", "0.5"]);
  await using _ = child;
  const socket = await connect({ port });
  try {
    socket.write("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
    await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.body?.cancel());
    child.process.kill("SIGTERM");
    const status = await child.exit();
    assert.equal(status.code, 0);
    assert.match(child.stderr.join("\n"), /Shutdown timed out after 0\.5 s: dropping 0 clients/);
    assert.match(child.stderr.at(-1) ?? "", STOPPED);
  } finally {
    socket.destroy();
  }
});

Deno.test("handshakes reset before the 101 cannot hold a shutdown past --shutdown-timeout", async () => {
  const { child, port } = await spawnServer([
    "--shutdown-timeout",
    "0.5",
    "--handshake-timeout",
    "0.2",
  ]);
  await using _ = child;
  await resetHandshakes({ port }, 5);
  await child.waitForLine(/never opened/, "stderr", 10_000, 5);
  child.process.kill("SIGTERM");
  const status = await child.exit();
  assert.equal(status.code, 0);
  assert.match(child.stderr.join("\n"), /Shutdown timed out after 0\.5 s: dropping 0 clients/);
  assert.match(child.stderr.at(-1) ?? "", STOPPED);
});

Deno.test("a shutdown whose clients all answer does not wait for the timeout", async () => {
  const { child, url } = await spawnServer(["--shutdown-timeout", "60"]);
  await using _ = child;
  const { client } = await TestClient.connect(url);
  await using _client = client;
  child.process.kill("SIGTERM");
  assert.equal((await client.closedWithin(10_000, "the server to close its client")).code, 1001);
  // Bounded well below the 60 s timeout by exit()'s own 10 s limit.
  const status = await child.exit();
  assert.equal(status.code, 0);
  assert.doesNotMatch(child.stderr.join("\n"), /timed out/);
  assert.match(child.stderr.at(-1) ?? "", STOPPED);
});

Deno.test("SIGHUP to a server without --api-keys logs nothing to reload, and it keeps serving", async () => {
  const { child, port, url } = await spawnServer();
  await using _ = child;
  const { client } = await TestClient.connect(url);
  await using _client = client;
  child.process.kill("SIGHUP");
  await child.waitForLine(/INFO: SIGHUP: nothing to reload \(only --api-keys is reloaded\)$/);
  child.process.kill("SIGHUP");
  await child.waitForLine(/SIGHUP: nothing to reload/, "stderr", 10_000, 2);
  // The client connected before is still served, and a new one is accepted.
  client.send("{");
  assert.equal((await client.next() as { code: string }).code, "invalid_json");
  const late = await TestClient.connect(url);
  await using _late = late.client;
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  child.process.kill("SIGTERM");
  assert.equal((await child.exit()).code, 0, child.stderr.join("\n"));
  assert.match(child.stderr.at(-1) ?? "", STOPPED);
});
