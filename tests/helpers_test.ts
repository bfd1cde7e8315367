import assert from "node:assert/strict";
import { getLogger } from "../lib/deps.ts";
import { setupLogging } from "../lib/logging.ts";
import { LogCapture, TestClient, testServer } from "./helpers.ts";

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
