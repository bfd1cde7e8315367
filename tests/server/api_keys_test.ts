import assert from "node:assert/strict";
import { generateKey, hashKey, type KeyRecord } from "../../lib/auth/key_file.ts";
import {
  HANDSHAKE_HEADERS,
  rawRequest,
  TestClient,
  testServer,
  within,
} from "../support/helpers.ts";

const AT = "2026-11-26T03:41:22.123Z";

/** A key and its entry in the keys file. */
function makeKey(
  label: string,
  limits: Partial<KeyRecord> = {},
): { key: string; record: KeyRecord } {
  const key = generateKey();
  return { key, record: { label, sha256: hashKey(key), createdAt: AT, ...limits } };
}

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

async function refusal(port: number, headers: Record<string, string>) {
  const { status, head, conn } = await rawRequest(port, { ...HANDSHAKE_HEADERS, ...headers });
  conn.close();
  return { status, head };
}

Deno.test("a server with keys refuses a handshake without a key, or with a wrong one, with 401 and a challenge", async () => {
  const acme = makeKey("acme");
  await using t = testServer({ apiKeys: [acme.record] });
  const wrong = generateKey();
  for (const headers of [{}, { authorization: `Bearer ${wrong}` }, { authorization: "Basic x" }]) {
    const { status, head } = await refusal(t.port, headers);
    assert.equal(status, 401, head);
    assert.match(head, /\r\nwww-authenticate: Bearer realm="switchboard"\r\n/i);
    assert.ok(!head.includes(wrong));
  }
  assert.equal(t.server.registry.size, 0);
  assert.match(
    t.logs.lines.join("\n"),
    /Refused a handshake from 127\.0\.0\.1:\d+: 401 API key required/,
  );
  assert.match(t.logs.lines.join("\n"), /: 401 API key not valid/);
  assert.match(
    t.server.metrics.render(0),
    /switchboard_refused_handshakes_total\{status="401"\} 3/,
  );
  // The runtime's client says so too.
  const client = new TestClient(t.url);
  await assert.rejects(client.openedWithin(5000, "the runtime's client to be refused"));
  // The body is one line.
  const response = await fetch(`http://127.0.0.1:${t.port}/`, { headers: HANDSHAKE_HEADERS });
  assert.equal(response.status, 401);
  assert.equal(await response.text(), "API key required\n");
});

Deno.test("a key in the Authorization header connects, and the log names the key's label, not the key", async () => {
  const acme = makeKey("acme");
  await using t = testServer({ apiKeys: [acme.record] });
  const { client, id } = await TestClient.connect(t.url, bearer(acme.key));
  await using _ = client;
  assert.equal(client.socket.protocol, "");
  await t.logs.waitFor(
    new RegExp(`INFO: Client ${id} \\(key "acme"\\) connected from 127\\.0\\.0\\.1:\\d+$`),
  );
  assert.ok(!t.logs.lines.join("\n").includes(acme.key));
});

Deno.test("a key in the subprotocol connects, and the server answers with the subprotocol switchboard", async () => {
  const acme = makeKey("acme");
  await using t = testServer({ apiKeys: [acme.record] });
  const { client } = await TestClient.connect(t.url, [
    "switchboard",
    `switchboard.key.${acme.key}`,
  ]);
  await using _ = client;
  assert.equal(client.socket.protocol, "switchboard");
  // The raw answer names switchboard only, never the key.
  const raw = await rawRequest(t.port, {
    ...HANDSHAKE_HEADERS,
    "sec-websocket-protocol": `switchboard, switchboard.key.${acme.key}`,
  });
  raw.conn.close();
  assert.equal(raw.status, 101);
  assert.match(raw.head, /\r\nsec-websocket-protocol: switchboard\r\n/i);
  assert.ok(!raw.head.includes(acme.key));
  // Offered without switchboard, the key cannot be answered for.
  const alone = await refusal(t.port, { "sec-websocket-protocol": `switchboard.key.${acme.key}` });
  assert.equal(alone.status, 400);
  assert.ok(!alone.head.includes(acme.key));
});

Deno.test("an open server says so, and still answers a browser that offers the subprotocol", async () => {
  await using t = testServer();
  assert.equal(
    t.logs.lines[2],
    "INFO: Open to any client that can reach it: no --api-keys, no --token-key",
  );
  const { client } = await TestClient.connect(t.url, ["switchboard"]);
  await using _ = client;
  assert.equal(client.socket.protocol, "switchboard");
  const config = await fetch(`http://127.0.0.1:${t.port}/config.json`);
  assert.deepEqual(await config.json(), { auth: false, tokens: false });
});

Deno.test("a server with keys tells the page so at /config.json", async () => {
  await using t = testServer({ apiKeys: [makeKey("acme").record] });
  assert.equal(t.logs.lines[2], "INFO: Clients need an API key (keys loaded: 1)");
  const config = await fetch(`http://127.0.0.1:${t.port}/config.json`);
  assert.equal(config.headers.get("content-type"), "application/json; charset=utf-8");
  assert.deepEqual(await config.json(), { auth: true, tokens: false });
});

Deno.test("another key's client answers exactly like an unknown id: unknown_peer", async () => {
  const acme = makeKey("acme");
  const globex = makeKey("globex");
  await using t = testServer({ apiKeys: [acme.record, globex.record] });
  const a = await TestClient.connect(t.url, bearer(acme.key));
  const a2 = await TestClient.connect(t.url, bearer(acme.key));
  const g = await TestClient.connect(t.url, bearer(globex.key));
  await using _a = a.client;
  await using _a2 = a2.client;
  await using _g = g.client;

  a.client.send({ type: "pair_request", target: g.id });
  const acrossTenants = await a.client.next();
  const nobody = crypto.randomUUID();
  a.client.send({ type: "pair_request", target: nobody });
  const unknown = await a.client.next();
  assert.deepEqual(
    JSON.parse(JSON.stringify(acrossTenants).replaceAll(g.id, nobody)),
    unknown,
  );
  assert.equal((unknown as { code: string }).code, "unknown_peer");
  // And the other way round; nothing reached the other tenant.
  g.client.send({ type: "pair_request", target: a.id });
  assert.equal((await g.client.next() as { code: string }).code, "unknown_peer");
  g.client.send({ type: "pair_accept", from: a.id });
  assert.equal((await g.client.next() as { code: string }).code, "no_pending_request");

  // Within one key, pairing and relay work as ever.
  a.client.send({ type: "pair_request", target: a2.id });
  assert.deepEqual(await a2.client.next(), { type: "pair_request", from: a.id });
  a2.client.send({ type: "pair_accept", from: a.id });
  assert.equal((await a.client.next() as { type: string }).type, "paired");
  assert.equal((await a2.client.next() as { type: string }).type, "paired");
  a.client.send({ type: "relay", data: "hello" });
  assert.deepEqual(await a2.client.next(), { type: "relay", data: "hello", from: a.id });
  // Nothing ever went to the other tenant.
  await assert.rejects(g.client.next(200), /Timed out/);
});

Deno.test("a key's client limit refuses one more with key_limit and 1013, and spares other keys", async () => {
  const small = makeKey("small", { maxClients: 2 });
  const other = makeKey("other");
  await using t = testServer({ apiKeys: [small.record, other.record] });
  const first = await TestClient.connect(t.url, bearer(small.key));
  const second = await TestClient.connect(t.url, bearer(small.key));
  await using _1 = first.client;
  await using _2 = second.client;
  const third = new TestClient(t.url, bearer(small.key));
  await using _3 = third;
  assert.deepEqual(await third.next(), {
    type: "error",
    code: "key_limit",
    message: "This API key has 2 clients connected, its limit; try again later.",
  });
  const closed = await third.closedWithin(5000, "the client past the key's limit to be closed");
  assert.equal(closed.code, 1013);
  assert.equal(closed.reason, "key limit");
  await t.logs.waitFor(
    /WARNING: Refused a client from 127\.0\.0\.1:\d+: key "small" has 2 clients, its limit/,
  );
  // Another key is not counted against it.
  const elsewhere = await TestClient.connect(t.url, bearer(other.key));
  await using _4 = elsewhere.client;
  // A place freed is a place taken.
  first.client.socket.close(1000);
  await first.client.closedWithin();
  await t.logs.waitFor(new RegExp(`Client ${first.id} disconnected`));
  const again = await TestClient.connect(t.url, bearer(small.key));
  await using _5 = again.client;
  const metrics = t.server.metrics.render(t.server.registry.size, undefined);
  assert.doesNotMatch(metrics, /switchboard_key_clients/, "rendered only when given");
  const served = await (await fetch(`http://127.0.0.1:${t.port}/metrics`)).text();
  assert.match(served, /# TYPE switchboard_key_clients gauge\n/);
  assert.match(served, /\nswitchboard_key_clients\{key="small"\} 2\n/);
  assert.match(served, /\nswitchboard_key_clients\{key="other"\} 1\n/);
  assert.ok(!served.includes(small.key) && !served.includes(small.record.sha256));
});

Deno.test("a key's rate limit applies to its clients on top of the server's", async () => {
  const slow = makeKey("slow", { rateLimit: 0.001 });
  const fast = makeKey("fast");
  await using t = testServer({
    apiKeys: [slow.record, fast.record],
    rateLimit: 1000,
    rateBurst: 2,
  });
  const s = await TestClient.connect(t.url, bearer(slow.key));
  const f = await TestClient.connect(t.url, bearer(fast.key));
  await using _s = s.client;
  await using _f = f.client;
  for (const { client } of [s, f]) {
    for (let i = 0; i < 2; i++) {
      client.send({ type: "unpair" });
      assert.equal((await client.next() as { code: string }).code, "not_paired");
    }
  }
  // Long enough for the server's 1000/s to refill, and far too short for the key's.
  const start = performance.now();
  await within(
    (async () => {
      while (performance.now() - start < 20) await new Promise((r) => setTimeout(r, 5));
    })(),
    1000,
    "20 ms to pass",
  );
  f.client.send({ type: "unpair" });
  assert.equal((await f.client.next() as { code: string }).code, "not_paired");
  s.client.send({ type: "unpair" });
  const closed = await s.client.closedWithin(
    5000,
    "the slow key's client to be closed for its rate",
  );
  assert.equal(closed.code, 1008);
  assert.equal(closed.reason, "rate limit exceeded");
});

Deno.test("reloadKeys() takes new keys at once and closes a revoked key's clients with 1008, leaving others alone", async () => {
  const acme = makeKey("acme");
  const globex = makeKey("globex");
  const initech = makeKey("initech");
  await using t = testServer({ apiKeys: [acme.record, globex.record] });
  const a1 = await TestClient.connect(t.url, bearer(acme.key));
  const a2 = await TestClient.connect(t.url, bearer(acme.key));
  const g1 = await TestClient.connect(t.url, bearer(globex.key));
  const g2 = await TestClient.connect(t.url, bearer(globex.key));
  await using _a1 = a1.client;
  await using _a2 = a2.client;
  await using _g1 = g1.client;
  await using _g2 = g2.client;
  for (const [x, y] of [[a1, a2], [g1, g2]] as const) {
    x.client.send({ type: "pair_request", target: y.id });
    await y.client.next();
    y.client.send({ type: "pair_accept", from: x.id });
    await x.client.next();
    await y.client.next();
  }
  assert.equal(
    (await refusal(t.port, { authorization: `Bearer ${initech.key}` })).status,
    401,
  );

  assert.deepEqual(await t.server.reloadKeys([globex.record, initech.record]), {
    keys: 2,
    revoked: 2,
  });
  const [c1, c2] = await within(
    Promise.all([a1.client.closed, a2.client.closed]),
    5000,
    "both clients of the revoked key to be closed",
  );
  for (const closed of [c1, c2]) {
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, "key revoked");
  }
  // The partner closed second heard peer_left first.
  assert.deepEqual(await a2.client.next(), {
    type: "peer_left",
    peer: a1.id,
    reason: "disconnected",
  });
  assert.match(
    t.logs.lines.join("\n"),
    new RegExp(`Client ${a1.id} at [^:]+:\\d+: key "acme" revoked; closing with 1008`),
  );
  assert.equal(t.server.registry.size, 2);
  // The other key's pair did not notice.
  g1.client.send({ type: "relay", data: "still here" });
  assert.deepEqual(await g2.client.next(), { type: "relay", data: "still here", from: g1.id });
  // The new key works at once, the revoked one no longer does.
  const i = await TestClient.connect(t.url, bearer(initech.key));
  await using _i = i.client;
  assert.equal((await refusal(t.port, { authorization: `Bearer ${acme.key}` })).status, 401);
});

Deno.test("keys over plain ws:// on a non-loopback host get a warning at start", async () => {
  await using t = testServer({ apiKeys: [], host: "0.0.0.0" });
  await t.logs.waitFor(
    /WARNING: API keys without TLS on 0\.0\.0\.0: anyone on the network path can read them/,
  );
  await using quiet = testServer({ apiKeys: [] });
  assert.equal(quiet.logs.matching(/without TLS/).length, 0);
});
