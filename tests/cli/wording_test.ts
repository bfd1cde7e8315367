/**
 * Counted words in what operators and users read: one thing is singular.
 */
import assert from "node:assert/strict";
import { generateKey, hashKey } from "../../lib/auth/key_file.ts";
import { plural } from "../../lib/runtime/safe_text.ts";
import { TestClient, testServer } from "../support/helpers.ts";
import { RawWebSocket } from "../support/raw_websocket.ts";

type Message = Record<string, unknown>;

Deno.test("plural() says one thing in the singular and any other count in the plural", () => {
  assert.equal(plural(1, "message"), "1 message");
  assert.equal(plural(0, "message"), "0 messages");
  assert.equal(plural(2, "client"), "2 clients");
  assert.equal(plural(1, "entry", "entries"), "1 entry");
  assert.equal(plural(5, "entry", "entries"), "5 entries");
});

Deno.test("the resume log line says '1 message waited' for one message", async () => {
  await using t = testServer();
  const a = await RawWebSocket.connect(t.port, "/?resumable=1");
  const id = String((await a.next() as Message).id);
  const token = String((await a.next() as Message).resume_token);
  const b = await TestClient.connect(t.url);
  await using _b = b.client;
  await a.send({ type: "pair_request", target: b.id });
  await b.client.next();
  b.client.send({ type: "pair_accept", from: id });
  await a.next();
  await b.client.next();
  a.drop();
  await t.logs.waitFor(new RegExp(`Keeping the session of client ${id}`));
  b.client.send({ type: "relay", data: "while away" });
  await t.logs.waitFor(/Relayed relay from /);
  const back = await RawWebSocket.connect(t.port, `/?resume=${encodeURIComponent(token)}`);
  assert.deepEqual(await back.next(), { type: "your_id", id });
  await t.logs.waitFor(new RegExp(`Client ${id} resumed from \\S+ \\(1 message waited\\)\\.$`));
  back.drop();
});

Deno.test("a key limited to one client says '1 client' to the refused client and in the log", async () => {
  const key = generateKey();
  await using t = testServer({
    apiKeys: [{ label: "solo", sha256: hashKey(key), maxClients: 1, createdAt: "2026-01-01" }],
  });
  const headers = { headers: { authorization: `Bearer ${key}` } };
  const first = await TestClient.connect(t.url, headers);
  await using _ = first.client;
  await using second = new TestClient(t.url, headers);
  assert.deepEqual(await second.next(), {
    type: "error",
    code: "key_limit",
    message: "This API key has 1 client connected, its limit; try again later.",
  });
  await t.logs.waitFor(/key "solo" has 1 client, its limit$/);
});
