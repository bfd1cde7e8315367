import assert from "node:assert/strict";
import { getLogger } from "../../lib/runtime/deps.ts";
import { setupLogging } from "../../lib/runtime/logging.ts";
import {
  connectedClients,
  LogCapture,
  outputWithin,
  pairedClients,
  TestClient,
  testServer,
} from "./helpers.ts";

Deno.test("TestClient.next() keeps a message that arrives after an earlier call timed out", async () => {
  await using t = testServer();
  const { client } = await TestClient.connect(t.url);
  await using _ = client;
  await assert.rejects(client.next(20), /Timed out/);
  // The answer arrives while no call is waiting, between the timeout and the next call.
  const arrived = new Promise((resolve) => client.socket.addEventListener("message", resolve));
  client.send("{");
  await arrived;
  assert.equal((await client.next() as { code: string }).code, "invalid_json");
});

Deno.test("LogCapture.waitFor() forgets a waiter that timed out", async () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  await assert.rejects(logs.waitFor(/never logged/, 1, 20), /Timed out/);
  assert.equal(logs.pendingWaiters, 0);
  const waiting = logs.waitFor(/^INFO: hello$/);
  assert.equal(logs.pendingWaiters, 1);
  getLogger(["switchboard", "test"]).info("hello");
  await waiting;
  assert.equal(logs.pendingWaiters, 0);
});

Deno.test("TestClient.closedWithin() fails naming the socket's address, never its query, when it stays open", async () => {
  await using t = testServer();
  const client = new TestClient(`${t.url}/?resume=secret-token`);
  await using _ = client;
  await client.openedWithin();
  const error = await client.closedWithin(50).then(() => undefined, (e: Error) => e);
  assert.equal(error?.message, `Timed out after 50 ms: the WebSocket to ${t.url}/ to close`);
  await assert.rejects(
    client.closedWithin(50, "the server to close it"),
    /: the server to close it$/,
  );
  client.socket.close(1000);
  assert.equal((await client.closedWithin()).code, 1000);
});

Deno.test("TestClient.openedWithin() rejects at once for a refused connection", async () => {
  await using t = testServer({ apiKeys: [] });
  const client = new TestClient(t.url);
  await assert.rejects(client.openedWithin(5000), /closed before open/);
});

Deno.test("outputWithin() returns a command's output, and kills one that overruns, naming it", async () => {
  const done = await outputWithin(
    Deno.execPath(),
    { args: ["eval", "console.log(1)"] },
    10_000,
    "eval",
  );
  assert.equal(new TextDecoder().decode(done.stdout), "1\n");
  const started = performance.now();
  await assert.rejects(
    outputWithin(
      Deno.execPath(),
      { args: ["eval", "console.error('still going'); setTimeout(() => {}, 60_000)"] },
      1000,
      "a command that never ends",
    ),
    /^Error: Timed out after 1000 ms: a command that never ends; stderr:\nstill going/,
  );
  assert.ok(performance.now() - started < 5000, "killed, not waited for");
});

Deno.test("pairedClients() pairs two clients, the first as initiator, and closes both with the group", async () => {
  await using t = testServer();
  const { a, b } = await (async () => {
    await using pair = await pairedClients(t.url);
    assert.equal(t.server.signaling.partnerOf(pair.a.id), pair.b.id);
    assert.deepEqual(pair.a.paired, { type: "paired", peer: pair.b.id, initiator: true });
    assert.deepEqual(pair.b.paired, { type: "paired", peer: pair.a.id, initiator: false });
    return pair;
  })();
  assert.equal(a.client.socket.readyState, WebSocket.CLOSED);
  assert.equal(b.client.socket.readyState, WebSocket.CLOSED);
});

Deno.test("pairedClients() closes the clients it opened when pairing fails", async () => {
  await using t = testServer();
  // Nothing listens on port 1, so the second client never connects.
  await assert.rejects(pairedClients(t.url, "ws://127.0.0.1:1"), /closed before open/);
  await t.logs.waitFor(/disconnected/);
  assert.equal(t.server.registry.size, 0);
});

Deno.test("connectedClients() connects n clients with distinct ids and closes them as one group", async () => {
  await using t = testServer();
  {
    await using group = await connectedClients(t.url, 3);
    assert.equal(new Set(group.clients.map(({ id }) => id)).size, 3);
    assert.equal(t.server.registry.size, 3);
  }
  await t.logs.waitFor(/disconnected/, 3);
  assert.equal(t.server.registry.size, 0);
});
