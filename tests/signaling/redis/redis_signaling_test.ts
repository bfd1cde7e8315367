import assert from "node:assert/strict";
import { generateKey, hashKey, type KeyRecord } from "../../../lib/auth/key_file.ts";
import { type RunningServer, startServer } from "../../../lib/server/start.ts";
import { connectRedisStore } from "../../../lib/signaling/redis/store.ts";
import { parseRedisUrl } from "../../../lib/signaling/redis/url.ts";
import { Child, TestClient, within } from "../../support/helpers.ts";
import { eventually } from "../../support/hostile.ts";
import {
  freePort,
  haveRedis,
  type RedisInstance,
  redisInstances,
  RedisServer,
  redisServerArgs,
  spawnRedisInstance,
} from "../../support/redis.ts";

type Message = Record<string, unknown>;

const ignore = !haveRedis();

async function next(client: TestClient, ms = 5000): Promise<Message> {
  return await client.next(ms) as Message;
}

/** `a` on one server asks `b` on another, who accepts; both have heard `paired`. */
async function pairAcross(urlA: string, urlB: string) {
  const a = await TestClient.connect(urlA);
  const b = await TestClient.connect(urlB);
  a.client.send({ type: "pair_request", target: b.id });
  assert.deepEqual(await next(b.client), { type: "pair_request", from: a.id });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(await next(a.client), { type: "paired", peer: b.id, initiator: true });
  assert.deepEqual(await next(b.client), { type: "paired", peer: a.id, initiator: false });
  return { a, b };
}

/** The text of the server's /metrics on `port`. */
async function metricsOf(port: number): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

async function health(port: number): Promise<{ status: number; body: Message }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: await response.json() };
}

Deno.test({
  name:
    "a relay across instances is counted in /metrics, with the Redis families after the server's",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 2);
    const [s1, s2] = c.servers as [RedisInstance, RedisInstance];
    const { a, b } = await pairAcross(s1.url, s2.url);
    await using _a = a.client;
    await using _b = b.client;
    a.client.send({ type: "relay", data: "there" });
    assert.deepEqual(await next(b.client), { type: "relay", data: "there", from: a.id });
    b.client.send({ type: "relay", data: "back" });
    assert.deepEqual(await next(a.client), { type: "relay", data: "back", from: b.id });
    const metrics = await metricsOf(s1.port);
    assert.match(metrics, /^switchboard_cross_instance_messages_total\{direction="sent"\} 1$/m);
    assert.match(metrics, /^switchboard_cross_instance_messages_total\{direction="received"\} 1$/m);
    assert.match(metrics, /^switchboard_redis_round_trip_seconds_count [1-9]\d*$/m);
    assert.match(metrics, /^switchboard_redis_up 1$/m);
    assert.match(metrics, /^switchboard_unavailable_total 0$/m);
  },
});

Deno.test({
  name:
    "200 pairs over three instances relay 20 messages each: none lost, doubled, reordered or misrouted",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 3);
    const urls = c.servers.map((s) => s.url);
    const PAIRS = 200;
    const MESSAGES = 20;
    const clients: { client: TestClient; id: string }[] = [];
    try {
      for (let i = 0; i < PAIRS * 2; i += 20) {
        clients.push(
          ...await Promise.all(
            Array.from({ length: 20 }, (_, j) => TestClient.connect(urls[(i + j) % 3]!)),
          ),
        );
      }
      // Pair i with PAIRS + i: servers (i % 3) and ((PAIRS + i) % 3), mostly different.
      await Promise.all(Array.from({ length: PAIRS }, async (_, i) => {
        const a = clients[i]!;
        const b = clients[PAIRS + i]!;
        a.client.send({ type: "pair_request", target: b.id });
        assert.deepEqual(await next(b.client, 20_000), { type: "pair_request", from: a.id });
        b.client.send({ type: "pair_accept", from: a.id });
        assert.equal((await next(a.client, 20_000)).type, "paired");
        assert.equal((await next(b.client, 20_000)).type, "paired");
      }));
      for (let i = 0; i < PAIRS; i++) {
        for (let n = 0; n < MESSAGES; n++) {
          clients[i]!.client.send({ type: "relay", data: { n, pair: i } });
          clients[PAIRS + i]!.client.send({ type: "relay", data: { n, pair: i } });
        }
      }
      await Promise.all(clients.map(async ({ client }, k) => {
        const pair = k % PAIRS;
        const partner = clients[k < PAIRS ? PAIRS + k : k - PAIRS]!;
        for (let n = 0; n < MESSAGES; n++) {
          assert.deepEqual(await next(client, 20_000), {
            type: "relay",
            data: { n, pair },
            from: partner.id,
          });
        }
      }));
      // Nothing more arrives: no duplicates.
      const probe = clients[0]!;
      clients[PAIRS]!.client.send({ type: "relay", data: "last" });
      assert.deepEqual(await next(probe.client), {
        type: "relay",
        data: "last",
        from: clients[PAIRS]!.id,
      });
    } finally {
      await Promise.all(clients.map(({ client }) => client[Symbol.asyncDispose]()));
    }
  },
});

Deno.test({
  name:
    "an instance killed with SIGKILL is noticed: partners and requesters elsewhere are told, its ids are unknown",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 3);
    const [s1, s2, s3] = c.servers as [RedisInstance, RedisInstance, RedisInstance];
    const { a, b } = await pairAcross(s1.url, s2.url);
    await using _b = b.client;
    const doomed = await TestClient.connect(s1.url);
    const waiting = await TestClient.connect(s3.url);
    await using _w = waiting.client;
    waiting.client.send({ type: "pair_request", target: doomed.id });
    assert.deepEqual(await next(doomed.client), { type: "pair_request", from: waiting.id });
    const killedAt = performance.now();
    s1.child.process.kill("SIGKILL");
    await s1.child.exit();
    assert.deepEqual(await next(b.client), {
      type: "peer_left",
      peer: a.id,
      reason: "disconnected",
    });
    const noticedMs = performance.now() - killedAt;
    assert.deepEqual(await next(waiting.client), {
      type: "pair_rejected",
      peer: doomed.id,
      reason: "peer_left",
    });
    console.log(`peer_left ${noticedMs.toFixed(0)} ms after SIGKILL`);
    // Pairing with an id that lived on the dead instance.
    b.client.send({ type: "pair_request", target: a.id });
    assert.equal((await next(b.client)).code, "unknown_peer");
    const removed = /Instance \S+ stopped answering; removed its 2 clients\./;
    // One instance or the other says it removed the dead one.
    await Promise.any([s2, s3].map((s) => s.child.waitForLine(removed, "stderr", 10_000)));
  },
});

Deno.test({
  name: "SIGTERM of an instance tells partners elsewhere at once and leaves Redis",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 2);
    const [s1, s2] = c.servers as [RedisInstance, RedisInstance];
    const { a, b } = await pairAcross(s1.url, s2.url);
    await using _a = a.client;
    await using _b = b.client;
    s1.child.process.kill("SIGTERM");
    assert.equal((await a.client.closedWithin(10_000, "s1 to close its client")).code, 1001);
    assert.deepEqual(await next(b.client, 1000), {
      type: "peer_left",
      peer: a.id,
      reason: "disconnected",
    });
    assert.equal((await s1.child.exit()).code, 0);
    b.client.send({ type: "pair_request", target: a.id });
    assert.equal((await next(b.client)).code, "unknown_peer");
    // It left on its own: nobody had to find it dead.
    assert.doesNotMatch(s2.child.stderr.join("\n"), /stopped answering/);
  },
});

Deno.test({
  name:
    "Redis stopped under load: degraded, 1013 for newcomers, local pairs carry on; back by itself when Redis returns",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 2);
    const [s1, s2] = c.servers as [RedisInstance, RedisInstance];
    const local = await pairAcross(s1.url, s1.url);
    const across = await pairAcross(s1.url, s2.url);
    await using _la = local.a.client;
    await using _lb = local.b.client;
    await using _xa = across.a.client;
    await using _xb = across.b.client;
    // Traffic flows in both pairs while Redis goes away.
    let n = 0;
    const load = setInterval(() => {
      local.a.client.send({ type: "relay", data: n++ });
    }, 100);
    try {
      await redis.stop();
      assert.deepEqual(await next(across.a.client), {
        type: "peer_left",
        peer: across.b.id,
        reason: "disconnected",
      });
      assert.deepEqual(await next(across.b.client), {
        type: "peer_left",
        peer: across.a.id,
        reason: "disconnected",
      });
      await eventually(async () => (await health(s1.port)).status === 503, 10_000, "s1 degraded");
      assert.equal((await health(s1.port)).body.status, "degraded");
      const late = new TestClient(s1.url);
      const closed = await late.closedWithin(5000, "the degraded s1 to refuse a new client");
      assert.equal(closed.code, 1013);
      assert.equal(closed.reason, "try again later");
      // The pair within s1 still relays, in order.
      const first = await next(local.b.client);
      assert.equal(first.type, "relay");
      assert.equal(first.from, local.a.id);
      const second = await next(local.b.client);
      assert.equal(second.data, (first.data as number) + 1);
      // Nothing from the former pair across instances reaches anyone.
      across.a.client.send({ type: "relay", data: "lost pair" });
      const lost = await next(across.a.client);
      assert.equal(lost.code, "not_paired", JSON.stringify(lost));

      await redis.restart();
      await eventually(async () => (await health(s1.port)).status === 200, 15_000, "s1 back");
      await eventually(async () => (await health(s2.port)).status === 200, 15_000, "s2 back");
      await s1.child.waitForLine(/registered 3 clients again/);
      // Clients that stayed are registered again: one across instances can pair with them.
      across.b.client.send({ type: "pair_request", target: across.a.id });
      assert.deepEqual(await next(across.a.client), {
        type: "pair_request",
        from: across.b.id,
      });
      across.a.client.send({ type: "pair_accept", from: across.b.id });
      assert.equal((await next(across.b.client)).type, "paired");
      assert.equal((await next(across.a.client)).type, "paired");
      across.a.client.send({ type: "relay", data: "again" });
      assert.deepEqual(await next(across.b.client), {
        type: "relay",
        data: "again",
        from: across.a.id,
      });
      // The pair within s1 is a pair in Redis too: others get peer_busy.
      across.b.client.send({ type: "unpair" });
      await next(across.a.client);
      across.b.client.send({ type: "pair_request", target: local.b.id });
      assert.equal((await next(across.b.client)).code, "peer_busy");
      // Newcomers are welcome again.
      const { client } = await TestClient.connect(s1.url);
      await client[Symbol.asyncDispose]();
    } finally {
      clearInterval(load);
    }
    const metrics = await metricsOf(s1.port);
    assert.match(metrics, /^switchboard_redis_losses_total 1$/m);
    assert.match(metrics, /^switchboard_unavailable_total [1-9]/m);
  },
});

Deno.test({
  name: "Redis unreachable at start: one line and exit 1",
  ignore,
  fn: async () => {
    const port = freePort();
    await using child = new Child(redisServerArgs(`redis://:hunter2@127.0.0.1:${port}`));
    const status = await child.exit(15_000);
    assert.equal(status.code, 1);
    const lines = child.stderr.filter((line) => line.trim() !== "");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0]!,
      new RegExp(`ERROR: Cannot use Redis at redis://127\\.0\\.0\\.1:${port}:`),
    );
    assert.doesNotMatch(lines[0]!, /hunter2/);
  },
});

Deno.test({
  name:
    "a password comes from the URL or from SWITCHBOARD_REDIS_PASSWORD, and never reaches the log",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start(["--requirepass", "hunter2"]);
    const base = new URL(redis.url);
    // Without it: refused, with a hint where it goes.
    await using bare = new Child(redisServerArgs(redis.url));
    assert.equal((await bare.exit(15_000)).code, 1);
    assert.match(bare.stderr.join("\n"), /SWITCHBOARD_REDIS_PASSWORD/);
    // In the URL.
    const withPassword = `redis://:hunter2@${base.host}`;
    const { child, url } = await spawnRedisInstance(redis.url, ["--redis", withPassword]);
    await using _ = child;
    const { client } = await TestClient.connect(url);
    await client[Symbol.asyncDispose]();
    assert.doesNotMatch(child.stderr.join("\n"), /hunter2/);
    // From the environment, with the narrow permission.
    const fromEnv = new Deno.Command(Deno.execPath(), {
      args: redisServerArgs(redis.url, `--allow-env=SWITCHBOARD_REDIS_PASSWORD`),
      cwd: new URL("../../..", import.meta.url).pathname,
      env: { NO_COLOR: "1", SWITCHBOARD_REDIS_PASSWORD: "hunter2" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = fromEnv.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    try {
      await within(
        (async () => {
          while (!/Server listening/.test(seen)) {
            const { value, done } = await reader.read();
            if (done) break;
            seen += value;
          }
        })(),
        15_000,
        "the server to listen",
      );
      assert.match(seen, /Sharing clients through Redis at redis:\/\/127\.0\.0\.1:\d+ as instance/);
      assert.doesNotMatch(seen, /hunter2/);
    } finally {
      fromEnv.kill("SIGKILL");
      await reader.cancel();
      await fromEnv.status;
    }
  },
});

/** Two in-process servers with API keys on one Redis store each, and their logs. */
async function keyedPair(redis: RedisServer, keys: KeyRecord[]) {
  const stack = new AsyncDisposableStack();
  const servers: RunningServer[] = [];
  for (let i = 0; i < 2; i++) {
    const store = await connectRedisStore({ target: parseRedisUrl(redis.url) });
    const server = startServer(
      { host: "127.0.0.1", port: 0, apiKeys: keys, resumeGrace: 0 },
      { signaling: store.signaling },
    );
    stack.defer(() => server.shutdown());
    servers.push(server);
  }
  return { servers, [Symbol.asyncDispose]: () => stack.disposeAsync() };
}

function keyRecord(label: string, key: string): KeyRecord {
  return { label, sha256: hashKey(key), createdAt: "2026-01-01T00:00:00.000Z" };
}

Deno.test({
  name: "an instance started after a key was revoked in the cluster starts, and refuses that key",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    const key = generateKey();
    const other = generateKey();
    const records = [keyRecord("acme", key), keyRecord("globex", other)];
    {
      await using first = await keyedPair(redis, records);
      await first.servers[0]!.reloadKeys([records[1]!]);
    }
    // Its own file still has the key; the cluster's record says it is revoked.
    await using later = await keyedPair(redis, records);
    const refused = new TestClient(later.servers[0]!.url, {
      headers: { authorization: `Bearer ${key}` },
    });
    await assert.rejects(refused.openedWithin(), /closed before open|401|refused/i);
    const { client } = await TestClient.connect(later.servers[1]!.url, {
      headers: { authorization: `Bearer ${other}` },
    });
    client.socket.close(1000);
    await client.closedWithin();
  },
});

Deno.test({
  name:
    "a key revoked while Redis is unreachable is revoked on the other instances once Redis is back",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    const key = generateKey();
    const records = [keyRecord("acme", key), keyRecord("globex", generateKey())];
    await using pair = await keyedPair(redis, records);
    const [a, b] = pair.servers as [RunningServer, RunningServer];
    const { client } = await TestClient.connect(b.url, {
      headers: { authorization: `Bearer ${key}` },
    });
    Deno.kill(redis.pid!, "SIGSTOP");
    try {
      // The call times out (2 s): the revocation waits for Redis.
      assert.deepEqual(await a.reloadKeys([records[1]!]), { keys: 1, revoked: 0 });
    } finally {
      Deno.kill(redis.pid!, "SIGCONT");
    }
    const closed = await client.closedWithin(15_000, "b to close the revoked key's client");
    assert.deepEqual([closed.code, closed.reason], [1008, "key revoked"]);
  },
});
