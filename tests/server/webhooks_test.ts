import assert from "node:assert/strict";
import { generateKey, hashKey, type KeyRecord } from "../../lib/auth/key_file.ts";
import { Webhooks } from "../../lib/server/webhooks/webhooks.ts";
import {
  Child,
  HANDSHAKE_HEADERS,
  pairedClients,
  rawRequest,
  ROOT,
  spawnServer,
  TestClient,
  testServer,
  within,
} from "../support/helpers.ts";
import { eventually } from "../support/hostile.ts";
import { TestIssuer, verifierFor } from "../support/tokens.ts";
import { WebhookReceiverServer, webhookSecret } from "../support/webhook_receiver.ts";

type Message = Record<string, unknown>;

function makeKey(label: string): { key: string; record: KeyRecord } {
  const key = generateKey();
  return { key, record: { label, sha256: hashKey(key), createdAt: "2026-12-05T00:00:00.000Z" } };
}

/** Webhooks to `receiver`, quick to retry, as a test's server takes them. */
function hooksTo(
  receiver: WebhookReceiverServer,
  secret: Uint8Array,
  options: { retryForMs?: number; timeoutMs?: number } = {},
): Webhooks {
  return new Webhooks({
    urls: [receiver.url],
    secret,
    retryForMs: options.retryForMs ?? 10_000,
    timeoutMs: options.timeoutMs ?? 2_000,
    retryBaseMs: 50,
  });
}

Deno.test("a session's events reach the receiver in order, signed, naming the key's label and never a secret", async () => {
  const secret = webhookSecret();
  await using receiver = new WebhookReceiverServer(secret.bytes);
  const acme = makeKey("acme");
  await using t = testServer({ apiKeys: [acme.record], webhooks: hooksTo(receiver, secret.bytes) });
  const auth = { headers: { authorization: `Bearer ${acme.key}` } };
  const a = await TestClient.connect(t.url, auth);
  const b = await TestClient.connect(t.url, auth);
  a.client.send({ type: "pair_request", target: b.id });
  await b.client.next();
  b.client.send({ type: "pair_accept", from: a.id });
  assert.equal(((await a.client.next()) as Message).type, "paired");
  assert.equal(((await b.client.next()) as Message).type, "paired");
  a.client.send({ type: "unpair" });
  assert.equal(((await b.client.next()) as Message).type, "peer_left");
  await a.client[Symbol.asyncDispose]();
  await b.client[Symbol.asyncDispose]();
  const deliveries = await receiver.accepting(6);
  assert.deepEqual(receiver.types(), [
    "client.connected",
    "client.connected",
    "pair.created",
    "pair.ended",
    "client.disconnected",
    "client.disconnected",
  ]);
  assert.ok(deliveries.every((d) => d.signatureValid && d.id === d.body.id), "signed");
  assert.deepEqual(deliveries[0]!.body.data, { client_id: a.id, tenant: "acme", key: "acme" });
  assert.deepEqual(deliveries[2]!.body.data, { clients: [a.id, b.id], by: "request" });
  assert.deepEqual(deliveries[3]!.body.data, { clients: [a.id, b.id], reason: "unpaired" });
  assert.deepEqual(deliveries[4]!.body.data, {
    client_id: a.id,
    tenant: "acme",
    key: "acme",
    code: 1000,
    reason: "clean",
    resumable: false,
  });
  const all = JSON.stringify(deliveries.map((d) => d.body));
  assert.ok(!all.includes(acme.key) && !all.includes(acme.record.sha256), "no key in an event");
  assert.equal(new Set(deliveries.map((d) => d.id)).size, 6);
});

Deno.test("a receiver that fails, then stalls, then recovers gets every event once, in order, and pairing never waits for it", async () => {
  const secret = webhookSecret();
  await using receiver = new WebhookReceiverServer(secret.bytes);
  receiver.mode = "fail";
  await using t = testServer({
    webhooks: hooksTo(receiver, secret.bytes, { timeoutMs: 300 }),
  });
  const started = performance.now();
  await using pair = await pairedClients(t.url);
  const pairedMs = performance.now() - started;
  assert.ok(pairedMs < 2000, `pairing took ${pairedMs} ms with a failing receiver`);
  await eventually(() => receiver.attempts >= 3, 5000, "a few failed attempts");
  receiver.mode = "stall";
  const stalledAt = receiver.attempts;
  await eventually(() => receiver.attempts > stalledAt, 5000, "an attempt that stalls");
  receiver.mode = "ok";
  const deliveries = await receiver.accepting(3);
  assert.deepEqual(receiver.types(), ["client.connected", "client.connected", "pair.created"]);
  assert.deepEqual(
    deliveries.slice(0, 2).map((d) => d.body.data.client_id),
    [pair.a.id, pair.b.id],
  );
  // Counted once the receiver's answer is back, a moment after it recorded the event.
  await eventually(
    () =>
      /^switchboard_webhook_delivered_total\{receiver="1"\} 3$/m.test(t.server.metrics.render(2)),
    5000,
    "three deliveries counted",
  );
  const metrics = t.server.metrics.render(t.server.registry.size);
  assert.match(metrics, /^switchboard_webhook_failed_attempts_total\{receiver="1"\} [3-9]\d*$/m);
  assert.match(metrics, /^switchboard_webhook_dropped_total\{receiver="1",reason="gave_up"\} 0$/m);
  const logs = t.logs.lines.join("\n");
  assert.equal(logs.match(/Webhook 1 \(http:\/\/127\.0\.0\.1:\d+\) failing/g)?.length, 1, logs);
  assert.ok(!logs.includes("/hooks/switchboard") && !logs.includes("secret-looking"));
});

Deno.test("an event past its retry time is dropped, counted and logged once, and delivery resumes", async () => {
  const secret = webhookSecret();
  await using receiver = new WebhookReceiverServer(secret.bytes);
  receiver.mode = "fail";
  await using t = testServer({
    webhooks: hooksTo(receiver, secret.bytes, { retryForMs: 400 }),
  });
  const first = await TestClient.connect(t.url);
  const second = await TestClient.connect(t.url);
  await eventually(
    () => /reason="gave_up"\} 2$/m.test(t.server.metrics.render(2)),
    5000,
    "both events to be given up",
  );
  assert.equal(t.logs.lines.filter((line) => line.includes("dropped client.connected")).length, 1);
  receiver.mode = "ok";
  const third = await TestClient.connect(t.url);
  const [delivered] = await receiver.accepting(1);
  assert.equal(delivered!.body.data.client_id, third.id);
  await t.logs.waitFor(/Webhook 1 \(.*\) delivers again; 2 events were dropped meanwhile/);
  for (const { client } of [first, second, third]) await client[Symbol.asyncDispose]();
});

Deno.test("key.revoked on a reload, and token.rejected at most ten per ten seconds, counting the rest", async () => {
  const secret = webhookSecret();
  await using receiver = new WebhookReceiverServer(secret.bytes);
  const issuer = await TestIssuer.create();
  const acme = makeKey("acme");
  await using t = testServer({
    apiKeys: [acme.record],
    tokens: await verifierFor(issuer),
    webhooks: hooksTo(receiver, secret.bytes),
  });
  await t.server.reloadKeys([]);
  const expired = await issuer.mint({ sub: "ada", expiresIn: -120 });
  for (let i = 0; i < 12; i++) {
    const { conn } = await rawRequest(t.port, {
      ...HANDSHAKE_HEADERS,
      authorization: `Bearer ${expired}`,
    });
    conn.close();
  }
  const deliveries = await receiver.accepting(11);
  assert.deepEqual(deliveries[0]!.body, { ...deliveries[0]!.body, type: "key.revoked" });
  assert.deepEqual(deliveries[0]!.body.data, { key: "acme" });
  assert.deepEqual(deliveries[1]!.body.data, { reason: "token expired", skipped: 0 });
  assert.equal(receiver.types().filter((type) => type === "token.rejected").length, 10);
  assert.ok(!JSON.stringify(deliveries).includes(expired));
});

Deno.test("server.ts --webhook signs with the secret from --webhook-secret-file, and names the flag a missing permission needs", async () => {
  const secret = webhookSecret();
  await using receiver = new WebhookReceiverServer(secret.bytes);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/webhook-secret`;
    await Deno.writeTextFile(file, `${secret.text}\n`);
    const args = ["--webhook", receiver.url, "--webhook-secret-file", file];
    const server = await spawnServer(args, 0, [`--allow-read=${file}`]);
    await using _server = server.child;
    const { client, id } = await TestClient.connect(server.url);
    const [delivery] = await receiver.accepting(1);
    assert.ok(delivery!.signatureValid);
    assert.equal(delivery!.body.data.client_id, id);
    await client[Symbol.asyncDispose]();

    await using refused = new Child(
      ["run", "--allow-net", "--no-prompt", "server.ts", "--port", "0", ...args],
      ROOT,
    );
    assert.equal((await within(refused.exit(), 30_000, "server.ts to exit")).code, 1);
    const said = refused.stderr.join("\n");
    assert.match(said, new RegExp(`--webhook-secret-file ${file} needs --allow-read=${file}`));
    assert.ok(!said.includes(secret.text));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
