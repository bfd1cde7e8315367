import assert from "node:assert/strict";
import { uuidVersion, validateUuid } from "../../lib/runtime/deps.ts";
import {
  Child,
  HANDSHAKE_HEADERS,
  rawRequest,
  ROOT,
  spawnServer,
  TestClient,
  testServer,
  within,
} from "../support/helpers.ts";

const DISCONNECTED = /^INFO: Client \S+ disconnected/;

Deno.test("the first message is your_id with a v4 UUID, and it is logged", async () => {
  await using t = testServer();
  const client = new TestClient(t.url);
  await using _ = client;
  const first = await client.next() as Record<string, unknown>;
  assert.deepEqual(Object.keys(first), ["type", "id"]);
  assert.equal(first.type, "your_id");
  assert.ok(typeof first.id === "string" && validateUuid(first.id));
  assert.equal(uuidVersion(first.id as string), 4);
  assert.ok(t.server.registry.has(first.id as string));
  assert.match(
    t.logs.lines.join("\n"),
    new RegExp(`INFO: Client ${first.id} connected from 127\\.0\\.0\\.1:\\d+`),
  );
});

Deno.test("the server logs starting and the real listening address", async () => {
  await using t = testServer();
  assert.deepEqual(t.logs.lines.slice(0, 2), [
    "INFO: Server starting...",
    `INFO: Server listening on ws://127.0.0.1:${t.port}; the page is at http://127.0.0.1:${t.port}/`,
  ]);
  assert.notEqual(t.port, 0);
});

Deno.test("500 concurrent clients get 500 distinct ids, and the registry empties after clean closes", async () => {
  await using t = testServer();
  const clients = await Promise.all(
    Array.from({ length: 500 }, () => TestClient.connect(t.url)),
  );
  assert.equal(new Set(clients.map((c) => c.id)).size, 500);
  assert.equal(t.server.registry.size, 500);
  for (const { client } of clients) client.socket.close(1000);
  await Promise.all(clients.map(({ client }) => within(client.closed, 5000, "close")));
  await t.logs.waitFor(DISCONNECTED, 500);
  assert.equal(t.server.registry.size, 0);
  assert.equal(t.logs.matching(/disconnected \(code 1000, clean\)/).length, 500);
});

Deno.test("clients killed with SIGKILL are all unregistered", async () => {
  await using t = testServer();
  await using holder = new Child([
    "run",
    "--allow-net",
    "--no-prompt",
    "tests/support/fixtures/hold_connections.ts",
    t.url,
    "50",
  ]);
  await holder.waitForLine(/^ready 50$/, "stdout");
  assert.equal(t.server.registry.size, 50);
  holder.process.kill("SIGKILL");
  await t.logs.waitFor(DISCONNECTED, 50, 3000);
  assert.equal(t.server.registry.size, 0);
  assert.equal(t.logs.matching(/disconnected \(code \d+, abrupt\)/).length, 50);
  assert.match(t.server.metrics.render(0), /disconnections_total\{reason="abrupt"\} 50/);
});

Deno.test("a client that stops answering pings is dropped after the idle timeout", async () => {
  await using t = testServer({ idleTimeout: 1 });
  // A raw TCP peer completes the handshake and then never answers a ping.
  const { status, conn } = await rawRequest(t.port, HANDSHAKE_HEADERS);
  try {
    assert.equal(status, 101);
    await t.logs.waitFor(/connected from/);
    assert.equal(t.server.registry.size, 1);
    await t.logs.waitFor(DISCONNECTED, 1, 5000);
    assert.equal(t.server.registry.size, 0);
    assert.equal(t.logs.matching(/disconnected \(code 1001, timeout\)/).length, 1);
  } finally {
    conn.close();
  }
});

Deno.test("invalid JSON gets an invalid_json error and the connection stays open", async () => {
  await using t = testServer();
  const { client } = await TestClient.connect(t.url);
  await using _ = client;
  client.send("{not json");
  assert.deepEqual(
    pick(await client.next(), "type", "code"),
    { type: "error", code: "invalid_json" },
  );
  client.send('{"type":"hello"}');
  assert.deepEqual(pick(await client.next(), "code"), { code: "unknown_type" });
  assert.equal(client.socket.readyState, WebSocket.OPEN);
  await t.logs.waitFor(/^WARNING: Bad message from client \S+ at 127\.0\.0\.1:\d+: not valid JSON/);
});

Deno.test("a binary frame gets binary_not_supported and others keep working", async () => {
  await using t = testServer();
  const a = await TestClient.connect(t.url);
  const b = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  a.client.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(pick(await a.client.next(), "code"), { code: "binary_not_supported" });
  b.client.send("[]");
  assert.deepEqual(pick(await b.client.next(), "code"), { code: "invalid_message" });
  await using c = new TestClient(t.url);
  assert.equal(pick(await c.next(), "type").type, "your_id");
  assert.equal(t.server.registry.size, 3);
});

Deno.test("an oversized message closes that client with 1009 while another keeps working", async () => {
  await using t = testServer({ maxMessageBytes: 1024 });
  const big = await TestClient.connect(t.url);
  const other = await TestClient.connect(t.url);
  await using _ = other.client;
  big.client.send(JSON.stringify({ type: "x", pad: "é".repeat(600) }));
  const closed = await within(big.client.closed, 5000, "the 1009 close");
  assert.equal(closed.code, 1009);
  other.client.send("{");
  assert.deepEqual(pick(await other.client.next(), "code"), { code: "invalid_json" });
  await t.logs.waitFor(/disconnected \(code \d+, limit\)/);
  assert.equal(t.server.registry.size, 1);
  assert.equal(
    t.logs.matching(new RegExp(`^WARNING: Client ${big.id} at .+ bytes \\(limit 1024\\)`)).length,
    1,
  );
});

Deno.test("a client over the rate limit is closed with 1008 and logged once", async () => {
  await using t = testServer({ rateLimit: 0.001, rateBurst: 5 });
  const { client } = await TestClient.connect(t.url);
  // Each message is answered, so waiting for the answer paces the frames.
  for (let i = 0; i < 5; i++) {
    client.send("{}");
    assert.deepEqual(pick(await client.next(), "code"), { code: "invalid_message" });
  }
  client.send("{}");
  const closed = await within(client.closed, 5000, "the 1008 close");
  assert.equal(closed.code, 1008);
  assert.equal(closed.reason, "rate limit exceeded");
  await t.logs.waitFor(DISCONNECTED);
  assert.equal(t.logs.matching(/exceeded .* closing with 1008/).length, 1);
  assert.match(t.server.metrics.render(0), /bad_messages_total\{code="rate_limited"\} 1/);
});

Deno.test("a flood cannot fill the log: one warning, the rest counted", async () => {
  await using t = testServer({ rateLimit: 0.001, rateBurst: 5 });
  const { client } = await TestClient.connect(t.url);
  for (let i = 0; i < 2000; i++) client.send("{}");
  await within(client.closed, 5000, "the close");
  await t.logs.waitFor(DISCONNECTED);
  assert.equal(t.logs.matching(/closing with 1008/).length, 1);
  assert.equal(t.logs.matching(/^WARNING/).length <= 7, true, t.logs.lines.join("\n"));
  assert.equal(t.server.registry.size, 0);
});

Deno.test("a client that keeps sending bad messages under the rate limit is logged five times, then counted", async () => {
  await using t = testServer();
  const { client, id } = await TestClient.connect(t.url);
  for (let i = 0; i < 12; i++) {
    client.send("{");
    assert.deepEqual(pick(await client.next(), "code"), { code: "invalid_json" });
  }
  client.socket.close(1000);
  await t.logs.waitFor(/sent 12 bad messages in all/);
  assert.equal(t.logs.matching(/^WARNING: Bad message from client/).length, 5);
  assert.equal(t.logs.matching(new RegExp(`Client ${id} .* keeps sending bad messages`)).length, 1);
  assert.match(t.server.metrics.render(0), /bad_messages_total\{code="invalid_json"\} 12/);
});

Deno.test("a partner that stops reading is closed with 1008 and the sender hears peer_left", async () => {
  await using t = testServer({ maxBufferedBytes: 64 * 1024, rateBurst: 1000, idleTimeout: 1 });
  // A raw peer completes the handshake, reads its id, pairs, then never reads again.
  const { conn } = await rawRequest(t.port, HANDSHAKE_HEADERS);
  try {
    await t.logs.waitFor(/connected from/);
    const [slowId] = [...t.server.registry].map((entry) => entry.id);
    assert.ok(slowId);
    const { client } = await TestClient.connect(t.url);
    await using _ = client;
    client.send({ type: "pair_request", target: slowId });
    await t.logs.waitFor(/asked to pair/);
    // The raw peer accepts by writing one masked text frame.
    await conn.write(
      maskedTextFrame(JSON.stringify({
        type: "pair_accept",
        from: [...t.server.registry].map((e) => e.id).find((id) => id !== slowId),
      })),
    );
    assert.equal(pick(await client.next(), "type").type, "paired");
    const chunk = "x".repeat(60_000);
    let left: Record<string, unknown> | undefined;
    // A round trip paces the sender, and collects whatever came before its answer.
    const roundTrip = async (): Promise<void> => {
      client.send("{");
      for (let message = await client.next();; message = await client.next()) {
        const { type, code } = pick(message, "type", "code");
        if (type === "peer_left") left = pick(message, "type", "peer", "reason");
        if (code === "invalid_json") return;
      }
    };
    for (let i = 0; i < 200 && left === undefined; i++) {
      client.send({ type: "relay", data: chunk });
      if (i % 10 === 9) await roundTrip();
    }
    await roundTrip();
    await t.logs.waitFor(/is not reading \(\d+ bytes waiting\); closing with 1008/);
    assert.deepEqual(left, { type: "peer_left", peer: slowId, reason: "disconnected" });
    assert.equal(t.server.registry.has(slowId), false);
  } finally {
    conn.close();
  }
});

Deno.test("past --max-clients a client gets server_full and 1013, and the registry stays at the limit", async () => {
  await using t = testServer({ maxClients: 2 });
  const a = await TestClient.connect(t.url);
  const b = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  const third = new TestClient(t.url);
  assert.deepEqual(pick(await third.next(), "type", "code"), {
    type: "error",
    code: "server_full",
  });
  assert.equal((await within(third.closed, 5000, "the 1013 close")).code, 1013);
  assert.equal(t.server.registry.size, 2);
  await t.logs.waitFor(/^WARNING: Refused a client from 127\.0\.0\.1:\d+: server full/);
  // A flood of refused clients is logged ten times per window, not once each.
  for (let i = 0; i < 15; i++) {
    const refused = new TestClient(t.url);
    assert.equal((await within(refused.closed, 5000, "the 1013 close")).code, 1013);
  }
  assert.equal(t.logs.matching(/Refused a client from .*: server full/).length, 10);
  assert.equal(t.server.registry.size, 2);
  assert.match(t.server.metrics.render(2), /^switchboard_server_full_total 16$/m);
});

Deno.test("an origin that is not allowed gets 403 before any WebSocket exists", async () => {
  await using t = testServer({ allowedOrigins: ["https://app.example"] });
  const refused = await rawRequest(t.port, {
    ...HANDSHAKE_HEADERS,
    origin: "https://evil.example",
  });
  refused.conn.close();
  assert.equal(refused.status, 403);
  const accepted = await rawRequest(t.port, {
    ...HANDSHAKE_HEADERS,
    origin: "https://app.example",
  });
  accepted.conn.close();
  assert.equal(accepted.status, 101);
  // A non-browser client sends no Origin, and is no hijacking risk.
  await using plain = new TestClient(t.url);
  assert.equal((await plain.next() as { type: string }).type, "your_id");
  assert.equal(t.server.metrics.connections, 2);
  await t.logs.waitFor(/Refused a handshake from .*: 403 origin "https:\/\/evil\.example"/);
  await t.logs.waitFor(DISCONNECTED);
  assert.match(t.server.metrics.render(0), /refused_handshakes_total\{status="403"\} 1/);
});

Deno.test("refused handshakes cannot flood the log: ten per window, the rest counted", async () => {
  await using t = testServer();
  for (let i = 0; i < 30; i++) {
    const { status, conn } = await rawRequest(t.port, {
      ...HANDSHAKE_HEADERS,
      "sec-websocket-version": "8",
    });
    conn.close();
    assert.equal(status, 426);
  }
  assert.equal(t.logs.matching(/Refused a handshake/).length, 10);
  assert.match(t.server.metrics.render(0), /refused_handshakes_total\{status="426"\} 30/);
});

Deno.test("a bad handshake gets 400 or 426 with a reason, and the server keeps serving", async () => {
  await using t = testServer();
  const noKey = await rawRequest(t.port, { ...HANDSHAKE_HEADERS, "sec-websocket-key": undefined });
  noKey.conn.close();
  assert.equal(noKey.status, 400);
  assert.match(noKey.head, /Sec-WebSocket-Key/i);
  const v8 = await rawRequest(t.port, { ...HANDSHAKE_HEADERS, "sec-websocket-version": "8" });
  v8.conn.close();
  assert.equal(v8.status, 426);
  assert.match(v8.head, /^sec-websocket-version: 13\r$/im);
  await using client = new TestClient(t.url);
  assert.equal(pick(await client.next(), "type").type, "your_id");
});

Deno.test("with --no-web GET / gets 426 Upgrade Required and the page's files are gone", async () => {
  await using t = testServer({ web: false });
  const response = await fetch(`http://127.0.0.1:${t.port}/`);
  assert.equal(response.status, 426);
  assert.equal(response.headers.get("upgrade"), "websocket");
  assert.match(await response.text(), /^Upgrade Required.*\n$/);
  const app = await fetch(`http://127.0.0.1:${t.port}/app.js`);
  assert.equal(app.status, 404);
  await app.body?.cancel();
});

Deno.test("an unknown path gets 404, or 426 when it clearly meant a WebSocket upgrade", async () => {
  await using t = testServer();
  const plain = await fetch(`http://127.0.0.1:${t.port}/favicon.ico`);
  assert.equal(plain.status, 404);
  assert.equal(await plain.text(), "Not Found\n");
  const meant = await fetch(`http://127.0.0.1:${t.port}/ws`, {
    headers: { "sec-websocket-version": "13" },
  });
  assert.equal(meant.status, 426);
  await meant.body?.cancel();
});

Deno.test("POST, PUT or DELETE on /healthz and /metrics gets 405 with Allow", async () => {
  await using t = testServer();
  for (const path of ["/healthz", "/metrics"]) {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const response = await fetch(`http://127.0.0.1:${t.port}${path}`, { method });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      await response.body?.cancel();
    }
    const head = await fetch(`http://127.0.0.1:${t.port}${path}`, { method: "HEAD" });
    assert.equal(head.status, 200, `HEAD ${path}`);
    await head.body?.cancel();
  }
});

Deno.test("an upgrade request without Host, as HTTP/1.0 clients send it, is refused with 400", async () => {
  await using t = testServer();
  const refused = await rawRequest(t.port, { ...HANDSHAKE_HEADERS, host: undefined }, "/", "1.0");
  refused.conn.close();
  assert.equal(refused.status, 400);
  assert.match(refused.head, /missing Host header/);
  assert.equal(t.server.metrics.connections, 0);
});

Deno.test("/healthz and /metrics move with connects and disconnects", async () => {
  await using t = testServer();
  const base = `http://127.0.0.1:${t.port}`;
  const health = async () => await (await fetch(`${base}/healthz`)).json();
  const metrics = async () => await (await fetch(`${base}/metrics`)).text();
  assert.deepEqual(pick(await health(), "status", "clients"), { status: "ok", clients: 0 });
  assert.equal(typeof (await health()).uptime_s, "number");
  const a = await TestClient.connect(t.url);
  const b = await TestClient.connect(t.url);
  await using _b = b.client;
  assert.equal((await health()).clients, 2);
  let text = await metrics();
  assert.match(text, /^switchboard_clients 2$/m);
  assert.match(text, /^switchboard_connections_total 2$/m);
  a.client.send("nope");
  await a.client.next();
  a.client.socket.close(1000);
  await t.logs.waitFor(DISCONNECTED);
  assert.equal((await health()).clients, 1);
  text = await metrics();
  assert.match(text, /^switchboard_clients 1$/m);
  assert.match(text, /^switchboard_disconnections_total\{reason="clean"\} 1$/m);
  assert.match(text, /^switchboard_messages_received_total 1$/m);
  assert.match(text, /^switchboard_bad_messages_total\{code="invalid_json"\} 1$/m);
});

Deno.test("shutdown() closes every client with 1001 and logs each disconnect", async () => {
  const t = testServer();
  const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(t.url)));
  await t.server.shutdown();
  for (const { client } of clients) {
    assert.equal((await within(client.closed, 5000, "close")).code, 1001);
  }
  assert.equal(t.server.registry.size, 0);
  assert.equal(t.logs.matching(/disconnected \(code 1001, shutdown\)/).length, 3);
  const lines = t.logs.lines;
  const first = lines.indexOf("INFO: Shutting down...");
  const last = lines.indexOf("INFO: Server stopped.");
  assert.ok(first >= 0 && last === lines.length - 1, lines.join("\n"));
  const disconnects = lines.flatMap((line, i) => /disconnected/.test(line) ? [i] : []);
  assert.ok(disconnects.every((i) => first < i && i < last));
  await t.server.shutdown(); // a second call is harmless
});

Deno.test("SIGTERM gives clients 1001, logs Server stopped. and exits 0", async () => {
  const { child, url } = await spawnServer();
  await using _ = child;
  const { client } = await TestClient.connect(url);
  child.process.kill("SIGTERM");
  assert.equal((await within(client.closed, 5000, "close")).code, 1001);
  const status = await child.exit();
  assert.equal(status.code, 0);
  const log = child.stderr.join("\n");
  assert.match(log, /INFO: Shutting down\.\.\./);
  assert.match(log, /INFO: Client \S+ disconnected \(code \d+, shutdown\)\./);
  assert.match(child.stderr.at(-1) ?? "", /INFO: Server stopped\.$/);
});

Deno.test("SIGTERM to deno task and the server at once still shuts down gracefully", async () => {
  // `timeout` signals deno task, which forwards the signal: the server often gets two.
  await using task = new Child(
    ["-c", `exec timeout -s TERM 1 "${Deno.execPath()}" task server --host 127.0.0.1 --port 0`],
    ROOT,
    false,
    "sh",
  );
  await task.waitForLine(/Server listening on/);
  await task.exit();
  await task.waitForLine(/Shutting down\.\.\./);
  assert.match(task.stderr.filter((l) => l.trim()).at(-1) ?? "", /INFO: Server stopped\.$/);
});

Deno.test("a server that runs out of file descriptors keeps its clients and listens again", async () => {
  // Few descriptors, so a burst of idle TCP connections exhausts them.
  const server = new Child(
    [
      "-c",
      `ulimit -n 96 && exec "${Deno.execPath()}" run --allow-net --no-prompt server.ts --host 127.0.0.1 --port 0`,
    ],
    ROOT,
    false,
    "sh",
  );
  await using _server = server;
  const [, port = ""] = await server.waitForLine(/listening on ws:\/\/[\d.]+:(\d+)/);
  const url = `ws://127.0.0.1:${port}`;
  const { client } = await TestClient.connect(url);
  await using _ = client;
  const conns: Deno.TcpConn[] = [];
  try {
    // Once the listener fails, further connects are refused or reset.
    for (let i = 0; i < 150; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: Number(port) }));
    }
  } catch {
    // Expected once the server has stopped accepting.
  }
  await server.waitForLine(/ERROR: Stopped accepting connections: .*Too many open files/);
  for (const conn of conns) conn.close();
  // The client that was already connected is still served...
  client.send("{");
  assert.equal((await client.next() as { code: string }).code, "invalid_json");
  // ...and new clients are accepted once the server listens again.
  await server.waitForLine(/Server listening on/, "stderr", 10_000, 2);
  await using late = new TestClient(url);
  assert.equal((await late.next() as { type: string }).type, "your_id");
  server.process.kill("SIGTERM");
  assert.equal((await server.exit()).code, 0, server.stderr.join("\n"));
});

Deno.test("the server writes JSON lines with --log-format json", async () => {
  const { child, url } = await spawnServer(["--log-format", "json"]);
  await using _ = child;
  const { client, id } = await TestClient.connect(url);
  client.send("{");
  assert.equal((await client.next() as { code: string }).code, "invalid_json");
  client.socket.close(1000);
  await child.waitForLine(/"message":"Client \S+ disconnected/);
  const records = child.stderr.filter((line) => line.startsWith("{")).map((l) => JSON.parse(l));
  const connected = records.find((r) => r.clientId === id && /connected from/.test(r.message));
  assert.equal(connected.level, "INFO");
  assert.match(connected.remoteAddr, /^127\.0\.0\.1:\d+$/);
  // One type per field: `code` is a close code, an error code is `errorCode`.
  const bad = records.find((r) => /Bad message/.test(r.message));
  assert.equal(bad.errorCode, "invalid_json");
  assert.equal(bad.code, undefined);
  const gone = records.find((r) => /disconnected/.test(r.message));
  assert.equal(gone.code, 1000);
  for (const r of records) {
    for (const field of ["code", "status", "skipped"]) {
      if (field in r) assert.equal(typeof r[field], "number", JSON.stringify(r));
    }
  }
});

Deno.test("the server runs from a URL with --allow-net alone", async () => {
  // Serve the checkout over HTTP, as a user's `deno run <url>/server.ts` sees it.
  const files = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    try {
      return new Response(await Deno.readFile(`${ROOT}${new URL(req.url).pathname}`), {
        headers: { "content-type": "application/typescript" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const base = `http://127.0.0.1:${files.addr.port}`;
    // From "/" with --no-config: nothing of the checkout's deno.json applies.
    const cwd = "/";
    const run = ["run", "--allow-net", "--no-prompt", "--no-config", `--reload=${base}`];
    await using server = new Child([...run, `${base}/server.ts`, "--port", "0"], cwd);
    const [, port] = await server.waitForLine(/listening on ws:\/\/[\d.]+:(\d+)/, "stderr", 30_000);
    const client = new Child(
      [...run, `${base}/client.ts`, "--once", "--url", `ws://127.0.0.1:${port}`],
      cwd,
    );
    const status = await client.exit(30_000);
    assert.equal(status.code, 0, client.stderr.join("\n"));
    assert.match(client.stdout.join("\n"), /^\*\*\* Your Client ID: [0-9a-f-]{36} \*\*\*$/);
  } finally {
    await files.shutdown();
  }
});

Deno.test("protocol violations are logged and counted as such, not as network drops", async () => {
  await using t = testServer();
  const cases: [string, Uint8Array, string, string][] = [
    [
      "invalid UTF-8",
      maskedFrame(0x81, new Uint8Array([0xff, 0xfe])),
      "Invalid UTF-8",
      "invalid_utf8",
    ],
    ["opcode 3", maskedFrame(0x83, new Uint8Array([1])), "Invalid value", "invalid_opcode"],
    [
      "RSV1 set",
      maskedFrame(0xc1, new TextEncoder().encode("{}")),
      "Reserved bits are not zero",
      "reserved_bits",
    ],
    [
      "a 200-byte ping",
      maskedFrame(0x89, new Uint8Array(200)),
      "Ping frame too large",
      "bad_control_frame",
    ],
    [
      "a fragmented ping",
      maskedFrame(0x09, new Uint8Array(2)),
      "Control frame must not be fragmented",
      "bad_control_frame",
    ],
  ];
  for (const [what, frame, error, kind] of cases) {
    const before = t.logs.matching(/connected from/).length;
    const { status, conn } = await rawRequest(t.port, HANDSHAKE_HEADERS);
    assert.equal(status, 101);
    await t.logs.waitFor(/connected from/, before + 1);
    await conn.write(frame);
    const line = new RegExp(
      `^WARNING: Client \\S+ at 127\\.0\\.0\\.1:\\d+ broke the WebSocket protocol \\(${error}\\)`,
    );
    await t.logs.waitFor(line, 1, 5000).catch((e) => {
      throw new Error(`${what}: ${e.message}`);
    });
    conn.close();
    assert.match(
      t.server.metrics.render(0),
      new RegExp(`^switchboard_protocol_violations_total\\{kind="${kind}"\\} \\d+$`, "m"),
      what,
    );
  }
  await t.logs.waitFor(/disconnected \(code \d+, violation\)/, cases.length);
  assert.equal(t.logs.matching(/disconnected \(code \d+, abrupt\)/).length, 0);
  assert.match(
    t.server.metrics.render(0),
    new RegExp(`^switchboard_disconnections_total\\{reason="violation"\\} ${cases.length}$`, "m"),
  );
});

Deno.test("--host localhost serves 127.0.0.1 and ::1 on one port, and the start line names both and the page's URL", async () => {
  let ipv6 = true;
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
  } catch {
    // A host without IPv6: the server leaves ::1 out with a warning.
    if (Deno.env.get("CI") === "true") throw new Error("CI=true but ::1 cannot be listened on");
    ipv6 = false;
  }
  await using child = new Child(
    ["run", "--allow-net", "--no-prompt", "server.ts", "--host", "localhost", "--port", "0"],
  );
  const [line, port] = await child.waitForLine(/Server listening on ws:\/\/127\.0\.0\.1:(\d+).*/);
  if (!ipv6) {
    assert.match(child.stderr.join("\n"), /WARNING: Not listening on \[::1\]:\d+/);
    return;
  }
  assert.equal(
    line,
    `Server listening on ws://127.0.0.1:${port} and ws://[::1]:${port}; the page is at http://localhost:${port}/`,
  );
  // `curl -6 http://localhost:PORT/`, and a WebSocket over IPv6.
  const page = await fetch(`http://[::1]:${port}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Switchboard<\/title>/);
  await using client = new TestClient(`ws://[::1]:${port}`);
  assert.equal((await client.next() as { type: string }).type, "your_id");
  await child.waitForLine(/Client \S+ connected from \[::1\]:\d+/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
});

Deno.test("the start line points a browser at localhost for a wildcard host, and leaves the page out with --no-web", async () => {
  {
    await using t = testServer({ host: "0.0.0.0" });
    assert.equal(
      t.logs.lines[1],
      `INFO: Server listening on ws://0.0.0.0:${t.port}; the page is at http://localhost:${t.port}/`,
    );
  }
  await using t = testServer({ web: false });
  assert.equal(t.logs.lines[1], `INFO: Server listening on ws://127.0.0.1:${t.port}`);
});

/** A client-to-server text frame: FIN, opcode 1, masked as RFC 6455 requires. */
/** A masked frame with any first byte (FIN, RSV bits, opcode) and payload. */
function maskedFrame(first: number, payload: Uint8Array): Uint8Array {
  if (payload.length > 65535) throw new RangeError("keep test frames short");
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const length = payload.length < 126
    ? [0x80 | payload.length]
    : [0x80 | 126, payload.length >> 8, payload.length & 0xff];
  const head = [first, ...length, ...mask];
  const frame = new Uint8Array(head.length + payload.length);
  frame.set(head);
  payload.forEach((byte, i) => frame[head.length + i] = byte ^ mask[i % 4]!);
  return frame;
}

function maskedTextFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  if (payload.length > 125) throw new RangeError("keep test frames short");
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(6 + payload.length);
  frame.set([0x81, 0x80 | payload.length, ...mask]);
  payload.forEach((byte, i) => frame[6 + i] = byte ^ mask[i % 4]!);
  return frame;
}

function pick(value: unknown, ...keys: string[]): Record<string, unknown> {
  const record = value as Record<string, unknown>;
  return Object.fromEntries(keys.map((key) => [key, record[key]]));
}
