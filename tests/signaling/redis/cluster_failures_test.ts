/**
 * The failure modes of a cluster, each with a real `redis-server` and real
 * `server.ts` instances as subprocesses: an instance killed under its
 * resumable clients, Redis restarted empty, Redis unreachable while a
 * session is away.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestClient } from "../../support/helpers.ts";
import { RawWebSocket } from "../../support/raw_websocket.ts";
import { haveRedis, type RedisInstance, redisInstances, RedisServer } from "../../support/redis.ts";

type Message = Record<string, unknown>;

const ignore = !haveRedis();

/** A `server.ts` subprocess on Redis. */
type Instance = RedisInstance;

/** Instances `a` and `b` on one Redis, with resume on (`grace` seconds), disposed together. */
async function twoInstances(redis: RedisServer, grace: number) {
  // Started together: each start is mostly loading the Redis client.
  const started = await redisInstances(redis, 2, ["--resume-grace", String(grace)]);
  const [a, b] = started.servers as [Instance, Instance];
  return { a, b, [Symbol.asyncDispose]: () => started[Symbol.asyncDispose]() };
}

/** A resumable client over raw TCP (so that it can drop like a network does), with id and token. */
interface Resumable {
  ws: RawWebSocket;
  id: string;
  token: string;
}

/** Raw sockets a test opened, dropped together at its end. */
class Sockets implements Disposable {
  readonly #all: RawWebSocket[] = [];

  /** Opens a resumable client on `instance`: `your_id`, then `session`. */
  async resumable(instance: Instance): Promise<Resumable> {
    const ws = await this.open(instance, "/?resumable=1");
    const first = await ws.next() as Message;
    assert.equal(first.type, "your_id");
    const session = await ws.next() as Message;
    assert.equal(session.type, "session");
    return { ws, id: String(first.id), token: String(session.resume_token) };
  }

  /** Presents `token` to `instance`; the connection's messages are left unread. */
  resume(instance: Instance, token: string): Promise<RawWebSocket> {
    return this.open(instance, `/?resume=${encodeURIComponent(token)}`);
  }

  /** Opens a raw WebSocket to `instance` at `path`. */
  async open(instance: Instance, path: string): Promise<RawWebSocket> {
    const ws = await RawWebSocket.connect(instance.port, path);
    this.#all.push(ws);
    return ws;
  }

  [Symbol.dispose](): void {
    for (const ws of this.#all) ws.drop();
  }
}

async function next(client: TestClient, ms = 5000): Promise<Message> {
  return await client.next(ms) as Message;
}

async function nextRaw(ws: RawWebSocket, ms = 5000): Promise<Message> {
  return await ws.next(ms) as Message;
}

/** Resumable `x` asks plain `y`, who accepts; both hear `paired`. */
async function pair(x: Resumable, y: { client: TestClient; id: string }): Promise<void> {
  await x.ws.send({ type: "pair_request", target: y.id });
  assert.deepEqual(await next(y.client), { type: "pair_request", from: x.id });
  y.client.send({ type: "pair_accept", from: x.id });
  assert.deepEqual(await x.ws.next(), { type: "paired", peer: y.id, initiator: true });
  assert.deepEqual(await next(y.client), { type: "paired", peer: x.id, initiator: false });
}

/** Reads a resume's first messages: the same id back, and a new token. */
async function resumedAs(ws: RawWebSocket, id: string, oldToken: string): Promise<void> {
  assert.deepEqual(await ws.next(), { type: "your_id", id });
  const session = await nextRaw(ws);
  assert.equal(session.type, "session");
  assert.notEqual(session.resume_token, oldToken);
}

/** Both directions of a pair relay after the resume. */
async function relaysBothWays(
  x: { ws: RawWebSocket; id: string },
  y: { client: TestClient; id: string },
): Promise<void> {
  await x.ws.send({ type: "relay", data: "from x" });
  assert.deepEqual(await next(y.client), { type: "relay", data: "from x", from: x.id });
  y.client.send({ type: "relay", data: "from y" });
  assert.deepEqual(await x.ws.next(), { type: "relay", data: "from y", from: y.id });
}

const BACK = /The shared registry is back; registered (\d+) clients? again\./;
const LOST = /Lost the shared registry/;

/**
 * Redis, instances `a` and `b` with resume on (`grace` seconds), a resumable
 * client `x` on `a` paired with a plain client `y` on `b`; all closed together.
 */
async function pairedAcross(grace: number) {
  const stack = new AsyncDisposableStack();
  try {
    const redis = stack.use(await RedisServer.start());
    const { a, b } = stack.use(await twoInstances(redis, grace));
    const sockets = stack.use(new Sockets());
    const x = await sockets.resumable(a);
    const y = await TestClient.connect(b.url);
    stack.use(y.client);
    await pair(x, y);
    const moved = stack.move();
    return { redis, a, b, sockets, x, y, [Symbol.asyncDispose]: () => moved.disposeAsync() };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

Deno.test({
  name:
    "an instance killed with SIGKILL: its resumable client resumes on another instance within the grace window; its partner hears peer_reconnecting then peer_back, and what the partner sent after the kill arrives once, in order",
  ignore,
  fn: async () => {
    await using scene = await pairedAcross(10);
    const { a, b, sockets, x, y } = scene;

    const killedAt = performance.now();
    a.child.process.kill("SIGKILL");
    await a.child.exit();
    assert.deepEqual(await next(y.client), { type: "peer_reconnecting", peer: x.id });
    console.log(`peer_reconnecting ${(performance.now() - killedAt).toFixed(0)} ms after SIGKILL`);
    for (let n = 1; n <= 5; n++) y.client.send({ type: "relay", data: { n } });

    const back = await sockets.resume(b, x.token);
    await resumedAs(back, x.id, x.token);
    for (let n = 1; n <= 5; n++) {
      assert.deepEqual(await back.next(), { type: "relay", data: { n }, from: y.id });
    }
    assert.deepEqual(await next(y.client), { type: "peer_back", peer: x.id });
    // Relays both ways also show nothing was doubled: the next message after the five is new.
    await relaysBothWays({ ws: back, id: x.id }, y);
  },
});

Deno.test({
  name:
    "a resume that reaches another instance before the death is noticed still gets its id and pairing",
  ignore,
  fn: async () => {
    await using scene = await pairedAcross(10);
    const { a, b, sockets, x, y } = scene;

    a.child.process.kill("SIGKILL");
    await a.child.exit();
    // At once: the heartbeat (every 250 ms) has most likely not looked yet.
    const back = await sockets.resume(b, x.token);
    await resumedAs(back, x.id, x.token);
    assert.deepEqual(await next(y.client), { type: "peer_reconnecting", peer: x.id });
    assert.deepEqual(await next(y.client), { type: "peer_back", peer: x.id });
    await relaysBothWays({ ws: back, id: x.id }, y);
    // Which path the race took: B removes A's clients that had not moved (0 when the resume won).
    const removed = await b.child.waitForLine(/Instance \S+ stopped answering; removed its (\d+)/);
    console.log(
      removed[1] === "0"
        ? "the resume came before the heartbeat noticed the death"
        : "the heartbeat noticed the death first this time",
    );
  },
});

Deno.test({
  name:
    "an instance killed with both partners on it: the resumable one resumes elsewhere and hears that the other left",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using cluster = await twoInstances(redis, 10);
    const { a, b } = cluster;
    using sockets = new Sockets();
    // Several pairs: the dead instance's clients are handled in whatever order Redis lists them.
    const pairs: [Resumable, { client: TestClient; id: string }][] = [];
    for (let i = 0; i < 4; i++) {
      const x = await sockets.resumable(a);
      const y = await TestClient.connect(a.url);
      pairs.push([x, y]);
      await pair(x, y);
    }
    a.child.process.kill("SIGKILL");
    await a.child.exit();
    await b.child.waitForLine(/Instance \S+ stopped answering; removed its 8 clients/);
    for (const [x, y] of pairs) {
      const back = await sockets.resume(b, x.token);
      await resumedAs(back, x.id, x.token);
      assert.deepEqual(await nextRaw(back), {
        type: "peer_left",
        peer: y.id,
        reason: "disconnected",
      });
      await y.client[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name:
    "Redis restarted empty: instances register their clients again; a connected client's session still resumes; a session that was away is lost and said as resume_failed",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using cluster = await twoInstances(redis, 20);
    const { a, b } = cluster;
    using sockets = new Sockets();
    const c = await sockets.resumable(a);
    const d = await sockets.resumable(a);
    const e = await TestClient.connect(b.url);
    await using _e = e.client;
    await pair(d, e);
    d.ws.drop();
    // Heard from Redis: d's window is recorded there before Redis goes.
    assert.deepEqual(await next(e.client), { type: "peer_reconnecting", peer: d.id });

    await redis.stop();
    await redis.restart();
    // Each instance holds one live client: c on A, e on B.
    assert.equal((await a.child.waitForLine(BACK, "stderr", 15_000))[1], "1");
    assert.equal((await b.child.waitForLine(BACK, "stderr", 15_000))[1], "1");
    // e's pair with an away client on another instance ended when Redis went.
    assert.deepEqual(await next(e.client), {
      type: "peer_left",
      peer: d.id,
      reason: "disconnected",
    });

    c.ws.drop();
    await a.child.waitForLine(new RegExp(`Keeping the session of client ${c.id} `));
    const cBack = await sockets.resume(b, c.token);
    await resumedAs(cBack, c.id, c.token);

    const dBack = await sockets.resume(a, d.token);
    const fresh = await nextRaw(dBack);
    assert.equal(fresh.type, "your_id");
    assert.notEqual(fresh.id, d.id);
    assert.equal((await nextRaw(dBack)).type, "session");
    assert.equal((await nextRaw(dBack)).code, "resume_failed");

    // c is registered in the new Redis: a client on the other instance can pair with it.
    const n = await TestClient.connect(a.url);
    await using _n = n.client;
    n.client.send({ type: "pair_request", target: c.id });
    assert.deepEqual(await cBack.next(), { type: "pair_request", from: n.id });
    await cBack.send({ type: "pair_accept", from: n.id });
    assert.deepEqual(await next(n.client), { type: "paired", peer: c.id, initiator: true });
    assert.deepEqual(await cBack.next(), { type: "paired", peer: n.id, initiator: false });
  },
});

Deno.test({
  name:
    "Redis unreachable while a session is away: the partner elsewhere hears peer_left; the instances refuse new clients with 1013 and answer a resume with 1013; when Redis answers again the session resumes if its window is still open",
  ignore,
  fn: async () => {
    await using scene = await pairedAcross(20);
    const { redis, a, b, sockets, x, y } = scene;
    x.ws.drop();
    assert.deepEqual(await next(y.client), { type: "peer_reconnecting", peer: x.id });

    // Stopped, not killed: its connections stay open and it keeps its data.
    const pid = redis.pid!;
    const stoppedAt = performance.now();
    Deno.kill(pid, "SIGSTOP");
    try {
      // A call unanswered for 2 s counts as a loss; the partner elsewhere hears it then.
      assert.deepEqual(await next(y.client, 10_000), {
        type: "peer_left",
        peer: x.id,
        reason: "disconnected",
      });
      console.log(`peer_left ${(performance.now() - stoppedAt).toFixed(0)} ms after SIGSTOP`);
      await a.child.waitForLine(LOST, "stderr", 10_000);
      await b.child.waitForLine(LOST, "stderr", 10_000);

      for (const instance of [a, b]) {
        const late = new TestClient(instance.url);
        const refused = await late.closedWithin(5000, "a degraded instance to refuse a new client");
        assert.equal(refused.code, 1013);
        assert.equal(refused.reason, "try again later");
      }
      // The session may still be in Redis: "try again later", not a new id.
      const early = await sockets.resume(a, x.token);
      assert.equal(await early.closed, 1013);
      assert.equal(await early.next(0).catch(() => "nothing"), "nothing");
    } finally {
      Deno.kill(pid, "SIGCONT");
    }
    console.log(`Redis unreachable for ${(performance.now() - stoppedAt).toFixed(0)} ms`);
    await a.child.waitForLine(BACK, "stderr", 15_000);
    await b.child.waitForLine(BACK, "stderr", 15_000);

    // Its window (20 s) is still open: x gets its id back.
    const back = await sockets.resume(a, x.token);
    await resumedAs(back, x.id, x.token);
    // Its partner was told the pair ended; so is x, from what waited for it (as on one instance).
    assert.deepEqual(await back.next(), { type: "peer_left", peer: y.id, reason: "disconnected" });
    // Both are free, and x is findable again by its old id.
    y.client.send({ type: "pair_request", target: x.id });
    assert.deepEqual(await back.next(), { type: "pair_request", from: y.id });
  },
});
