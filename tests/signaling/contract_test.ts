/**
 * The signaling contract, as clients see it: the same scenarios run against
 * every implementation — in memory, Redis with one instance, and Redis with
 * two instances where neighbouring clients land on different instances — and
 * must give the same messages, refusals and log lines.
 */

import assert from "node:assert/strict";
import { setupLogging } from "../../lib/runtime/logging.ts";
import type { RunningServer, ServerOptions } from "../../lib/server/start.ts";
import { startServer } from "../../lib/server/start.ts";
import { connectRedisStore } from "../../lib/signaling/redis/store.ts";
import { parseRedisUrl } from "../../lib/signaling/redis/url.ts";
import { LogCapture, TestClient, testServer } from "../support/helpers.ts";
import { haveRedis, RedisServer } from "../support/redis.ts";

type Message = Record<string, unknown>;

/** Servers sharing one signaling state, and the log of them all. */
interface Cluster extends AsyncDisposable {
  servers: RunningServer[];
  logs: LogCapture;
}

/** One implementation under test. */
interface Implementation {
  name: string;
  ignore: boolean;
  start(options: Partial<ServerOptions>): Promise<Cluster>;
}

const inMemory: Implementation = {
  name: "in memory",
  ignore: false,
  start: (options) => {
    const t = testServer(options);
    return Promise.resolve({
      servers: [t.server],
      logs: t.logs,
      [Symbol.asyncDispose]: () => t[Symbol.asyncDispose](),
    });
  },
};

/** Redis with `instances` servers on it, each with its own store. */
function onRedis(instances: number): Implementation {
  return {
    name: instances === 1 ? "Redis" : `Redis, ${instances} instances`,
    ignore: !haveRedis(),
    start: async (options) => {
      const logs = new LogCapture();
      setupLogging({ sink: logs.sink, level: "debug" });
      const redis = await RedisServer.start();
      const servers: RunningServer[] = [];
      const dispose = async () => {
        await Promise.all(servers.map((server) => server.shutdown()));
        await redis.stop();
      };
      try {
        for (let i = 0; i < instances; i++) {
          const store = await connectRedisStore({ target: parseRedisUrl(redis.url) });
          try {
            servers.push(startServer(
              { host: "127.0.0.1", port: 0, resumeGrace: 0, ...options },
              { signaling: store.signaling },
            ));
          } catch (error) {
            await store.close();
            throw error;
          }
        }
      } catch (error) {
        await dispose();
        throw error;
      }
      return { servers, logs, [Symbol.asyncDispose]: dispose };
    },
  };
}

const IMPLEMENTATIONS = [inMemory, onRedis(1), onRedis(2)];

/** A client of the cluster: the `n`th client connects to the `n`th server, round the ring. */
interface Client {
  client: TestClient;
  id: string;
}

/** What every scenario gets: its servers, and clients spread over them. */
class Scene implements AsyncDisposable {
  readonly cluster: Cluster;
  readonly #clients: Client[] = [];

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  get logs(): LogCapture {
    return this.cluster.logs;
  }

  /** Connects `n` more clients, each to the next server in turn. */
  async connect(n: number): Promise<Client[]> {
    const { servers } = this.cluster;
    const added: Client[] = [];
    for (let i = 0; i < n; i++) {
      const server = servers[this.#clients.length % servers.length]!;
      const client = await TestClient.connect(server.url);
      this.#clients.push(client);
      added.push(client);
    }
    return added;
  }

  /** Connects two clients, and the first asks the second; the second has received the request. */
  async requested(): Promise<[Client, Client]> {
    const [a, b] = await this.connect(2) as [Client, Client];
    a.client.send({ type: "pair_request", target: b.id });
    assert.deepEqual(await next(b), { type: "pair_request", from: a.id });
    return [a, b];
  }

  /** Connects two clients and pairs them: the first asks, the second accepts. */
  async paired(): Promise<[Client, Client]> {
    const [a, b] = await this.requested();
    b.client.send({ type: "pair_accept", from: a.id });
    assert.deepEqual(await next(a), { type: "paired", peer: b.id, initiator: true });
    assert.deepEqual(await next(b), { type: "paired", peer: a.id, initiator: false });
    return [a, b];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#clients.map(({ client }) => client[Symbol.asyncDispose]()));
    await this.cluster[Symbol.asyncDispose]();
  }
}

async function next({ client }: Client, ms = 5000): Promise<Message> {
  return await client.next(ms) as Message;
}

/** The type and code of an error, to compare without its sentence. */
async function nextError(client: Client): Promise<Message> {
  const message = await next(client);
  return { type: message.type, code: message.code };
}

/** One behaviour every implementation must have. */
interface Scenario {
  name: string;
  options?: Partial<ServerOptions>;
  run(scene: Scene): Promise<void>;
}

const SCENARIOS: Scenario[] = [
  {
    name: "pair_request then pair_accept pairs both clients, the requester as initiator",
    run: async (scene) => {
      const [a, b] = await scene.paired();
      await scene.logs.waitFor(new RegExp(`INFO: Client ${a.id} asked to pair with ${b.id}\\.`));
      await scene.logs.waitFor(new RegExp(`INFO: Clients ${a.id} and ${b.id} paired\\.`));
    },
  },
  {
    name: "offer, answer, candidate and relay reach the partner with the server's from",
    run: async (scene) => {
      const [a, b] = await scene.paired();
      a.client.send({ type: "offer", sdp: "v=0 offer", from: "forged" });
      assert.deepEqual(await next(b), { type: "offer", sdp: "v=0 offer", from: a.id });
      b.client.send({ type: "answer", sdp: "v=0 answer" });
      assert.deepEqual(await next(a), { type: "answer", sdp: "v=0 answer", from: b.id });
      const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" };
      a.client.send({ type: "candidate", candidate });
      assert.deepEqual(await next(b), { type: "candidate", candidate, from: a.id });
      b.client.send({ type: "candidate", candidate: null, from: a.id });
      assert.deepEqual(await next(a), { type: "candidate", candidate: null, from: b.id });
      b.client.send({ type: "relay", data: { n: [1, 2] }, extra: "dropped" });
      assert.deepEqual(await next(a), { type: "relay", data: { n: [1, 2] }, from: b.id });
      // SDP bodies stay out of the info log.
      assert.equal(scene.logs.matching(/^INFO: .*v=0/).length, 0);
    },
  },
  {
    name: "pair_reject tells the requester, and a later accept finds no request",
    run: async (scene) => {
      const [a, b] = await scene.requested();
      b.client.send({ type: "pair_reject", from: a.id });
      assert.deepEqual(await next(a), { type: "pair_rejected", peer: b.id, reason: "rejected" });
      b.client.send({ type: "pair_accept", from: a.id });
      assert.deepEqual(await nextError(b), { type: "error", code: "no_pending_request" });
      await scene.logs.waitFor(new RegExp(`INFO: Client ${b.id} rejected pairing with ${a.id}\\.`));
    },
  },
  {
    name:
      "a pending request times out: the requester hears pair_rejected, the target pair_cancelled",
    options: { pairTimeout: 0.2 },
    run: async (scene) => {
      const [a, b] = await scene.requested();
      assert.deepEqual(await next(a), { type: "pair_rejected", peer: b.id, reason: "timeout" });
      assert.deepEqual(await next(b), { type: "pair_cancelled", from: a.id, reason: "timeout" });
      b.client.send({ type: "pair_accept", from: a.id });
      assert.deepEqual(await nextError(b), { type: "error", code: "no_pending_request" });
      await scene.logs.waitFor(
        new RegExp(`INFO: Pair request from ${a.id} to ${b.id} timed out\\.`),
      );
    },
  },
  {
    name:
      "pair_request is refused for an unknown id, for oneself, for a busy client, and while paired",
    run: async (scene) => {
      const [a, b] = await scene.paired();
      const [c] = await scene.connect(1) as [Client];
      c.client.send({ type: "pair_request", target: crypto.randomUUID() });
      const unknown = await next(c);
      assert.equal(unknown.code, "unknown_peer");
      assert.match(String(unknown.message), /no client has the id/);
      c.client.send({ type: "pair_request", target: c.id });
      assert.deepEqual(await nextError(c), { type: "error", code: "self_pair" });
      c.client.send({ type: "pair_request", target: a.id });
      assert.deepEqual(await nextError(c), { type: "error", code: "peer_busy" });
      a.client.send({ type: "pair_request", target: c.id });
      assert.deepEqual(await nextError(a), { type: "error", code: "already_paired" });
      // Nothing reached b.
      b.client.send("{");
      assert.deepEqual(await nextError(b), { type: "error", code: "invalid_json" });
    },
  },
  {
    name: "asking the same target again refreshes the request without telling it twice",
    run: async (scene) => {
      const [a, b] = await scene.connect(2) as [Client, Client];
      a.client.send({ type: "pair_request", target: b.id });
      a.client.send({ type: "pair_request", target: b.id });
      assert.deepEqual(await next(b), { type: "pair_request", from: a.id });
      b.client.send({ type: "pair_accept", from: a.id });
      // b's next message is paired: no second pair_request came before it.
      assert.deepEqual(await next(b), { type: "paired", peer: a.id, initiator: false });
      assert.equal(scene.logs.matching(/asked to pair/).length, 1);
    },
  },
  {
    name: "relaying or unpairing without a partner is refused with not_paired and reaches nobody",
    run: async (scene) => {
      const [a, b] = await scene.connect(2) as [Client, Client];
      for (const message of [{ type: "relay", data: "x" }, { type: "offer", sdp: "x" }]) {
        a.client.send(message);
        const refused = await next(a);
        assert.equal(refused.code, "not_paired");
        assert.equal(refused.message, `pair before sending "${message.type}"`);
      }
      a.client.send({ type: "unpair" });
      assert.deepEqual(await nextError(a), { type: "error", code: "not_paired" });
      // b heard nothing: the next thing it receives is the answer to its own message.
      b.client.send("{");
      assert.deepEqual(await nextError(b), { type: "error", code: "invalid_json" });
      // An ordinary refusal, not bad input: counted apart and logged at debug level only.
      const metrics = scene.cluster.servers[0]!.metrics.render(0);
      assert.match(metrics, /^switchboard_refused_requests_total\{code="not_paired"\} 3$/m);
      assert.doesNotMatch(metrics, /bad_messages_total\{code="not_paired"\}/);
      assert.equal(scene.logs.matching(new RegExp(`Bad message from client ${a.id}`)).length, 0);
      assert.equal(
        scene.logs.matching(/^DEBUG: Refused relay from client .*: pair before sending/).length,
        1,
      );
    },
  },
  {
    name: "unpair tells the partner peer_left (unpaired) and ends the relay",
    run: async (scene) => {
      const [a, b] = await scene.paired();
      a.client.send({ type: "unpair" });
      assert.deepEqual(await next(b), { type: "peer_left", peer: a.id, reason: "unpaired" });
      b.client.send({ type: "relay", data: "still there?" });
      assert.deepEqual(await nextError(b), { type: "error", code: "not_paired" });
      await scene.logs.waitFor(new RegExp(`INFO: Client ${a.id} unpaired from ${b.id}\\.`));
    },
  },
  {
    name:
      "a partner that disconnects: the other hears peer_left (disconnected), and its id is unknown",
    run: async (scene) => {
      const [a, b] = await scene.paired();
      a.client.socket.close(1000);
      assert.deepEqual(await next(b), { type: "peer_left", peer: a.id, reason: "disconnected" });
      await scene.logs.waitFor(
        new RegExp(`INFO: Client ${a.id} left; told its partner ${b.id}\\.`),
      );
      b.client.send({ type: "pair_request", target: a.id });
      assert.deepEqual(await nextError(b), { type: "error", code: "unknown_peer" });
    },
  },
  {
    name: "a target that leaves ends the requests to it with pair_rejected (peer_left)",
    run: async (scene) => {
      const [a, b] = await scene.requested();
      b.client.socket.close(1000);
      assert.deepEqual(await next(a), { type: "pair_rejected", peer: b.id, reason: "peer_left" });
      await scene.logs.waitFor(
        new RegExp(`INFO: Pair request from ${a.id} to ${b.id} ended: the target left\\.`),
      );
    },
  },
  {
    name: "a requester that leaves withdraws its request and the target hears pair_cancelled",
    run: async (scene) => {
      const [a, b] = await scene.requested();
      a.client.socket.close(1000);
      assert.deepEqual(await next(b), { type: "pair_cancelled", from: a.id, reason: "peer_left" });
      b.client.send({ type: "pair_accept", from: a.id });
      assert.deepEqual(await nextError(b), { type: "error", code: "no_pending_request" });
    },
  },
  {
    name: "accepting one request ends the competing ones with pair_rejected",
    run: async (scene) => {
      const [a, b, c] = await scene.connect(3) as [Client, Client, Client];
      a.client.send({ type: "pair_request", target: b.id });
      assert.deepEqual(await next(b), { type: "pair_request", from: a.id });
      c.client.send({ type: "pair_request", target: b.id });
      assert.deepEqual(await next(b), { type: "pair_request", from: c.id });
      b.client.send({ type: "pair_accept", from: a.id });
      assert.equal((await next(a)).type, "paired");
      assert.deepEqual(await next(c), { type: "pair_rejected", peer: b.id, reason: "rejected" });
      await scene.logs.waitFor(
        new RegExp(
          `INFO: Pair request from ${c.id} to ${b.id} ended: the target paired with another\\.`,
        ),
      );
    },
  },
  {
    name:
      "asking another client cancels the first request: its target hears pair_cancelled (replaced)",
    run: async (scene) => {
      const [a, b] = await scene.requested();
      const [c] = await scene.connect(1) as [Client];
      a.client.send({ type: "pair_request", target: c.id });
      assert.deepEqual(await next(b), { type: "pair_cancelled", from: a.id, reason: "replaced" });
      assert.deepEqual(await next(c), { type: "pair_request", from: a.id });
      b.client.send({ type: "pair_accept", from: a.id });
      assert.deepEqual(await nextError(b), { type: "error", code: "no_pending_request" });
      await scene.logs.waitFor(
        new RegExp(`INFO: Pair request from ${a.id} to ${b.id} cancelled \\(replaced\\)\\.`),
      );
    },
  },
  {
    name:
      "a requester that pairs with someone else cancels its request: its target hears pair_cancelled (paired)",
    run: async (scene) => {
      const [a, b] = await scene.requested();
      const [c] = await scene.connect(1) as [Client];
      c.client.send({ type: "pair_request", target: a.id });
      assert.deepEqual(await next(a), { type: "pair_request", from: c.id });
      a.client.send({ type: "pair_accept", from: c.id });
      assert.deepEqual(await next(a), { type: "paired", peer: c.id, initiator: false });
      assert.deepEqual(await next(b), { type: "pair_cancelled", from: a.id, reason: "paired" });
      await scene.logs.waitFor(
        new RegExp(`INFO: Pair request from ${a.id} to ${b.id} cancelled \\(paired\\)\\.`),
      );
    },
  },
  {
    name: "a request to the initiator ends with pair_rejected naming the initiator when it pairs",
    run: async (scene) => {
      const [a, b] = await scene.requested();
      const [d] = await scene.connect(1) as [Client];
      d.client.send({ type: "pair_request", target: a.id });
      assert.deepEqual(await next(a), { type: "pair_request", from: d.id });
      b.client.send({ type: "pair_accept", from: a.id });
      assert.deepEqual(await next(d), { type: "pair_rejected", peer: a.id, reason: "rejected" });
    },
  },
  {
    name: "100 pairs relay 20 messages each: every one reaches its partner, in order",
    run: async (scene) => {
      const PAIRS = 100;
      const MESSAGES = 20;
      const pairs = await Promise.all(Array.from({ length: PAIRS }, () => scene.paired()));
      await Promise.all(pairs.map(async ([a, b]) => {
        for (let n = 0; n < MESSAGES; n++) a.client.send({ type: "relay", data: { n } });
        for (let n = 0; n < MESSAGES; n++) {
          assert.deepEqual(await next(b), { type: "relay", data: { n }, from: a.id });
        }
      }));
    },
  },
];

for (const implementation of IMPLEMENTATIONS) {
  for (const scenario of SCENARIOS) {
    Deno.test({
      name: `${implementation.name}: ${scenario.name}`,
      ignore: implementation.ignore,
      fn: async () => {
        await using scene = new Scene(await implementation.start(scenario.options ?? {}));
        await scenario.run(scene);
      },
    });
  }
}
