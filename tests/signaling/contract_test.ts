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
import { generateKey, hashKey, type KeyRecord } from "../../lib/auth/key_file.ts";
import { TurnCredentials, turnKey, turnPassword } from "../../lib/server/turn/credentials.ts";
import { LogCapture, TestClient, testServer } from "../support/helpers.ts";
import { RawWebSocket } from "../support/raw_websocket.ts";
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

  /** The `n`th server, round the ring: with one server, always that one. */
  server(n: number): RunningServer {
    const { servers } = this.cluster;
    return servers[n % servers.length]!;
  }

  /** Connects `n` more clients, each to the next server in turn (with `key`, when given). */
  async connect(n: number, key?: string): Promise<Client[]> {
    const added: Client[] = [];
    for (let i = 0; i < n; i++) {
      added.push(await this.connectTo(this.#clients.length, key));
    }
    return added;
  }

  /** Connects one client to the `n`th server (with `key`, when given). */
  async connectTo(n: number, key?: string): Promise<Client> {
    const options = key === undefined ? undefined : { headers: { authorization: `Bearer ${key}` } };
    const client = await TestClient.connect(this.server(n).url, options);
    this.#clients.push(client);
    return client;
  }

  /** A resumable client on the `n`th server, over raw TCP so that it can drop abruptly. */
  async resumable(n: number, key?: string): Promise<Resumable> {
    const ws = await this.#raw(n, "/?resumable=1", key);
    const first = await ws.next() as Message;
    assert.equal(first.type, "your_id");
    const session = await ws.next() as Message;
    assert.equal(session.type, "session");
    return { ws, id: String(first.id), token: String(session.resume_token) };
  }

  /** Presents `token` to the `n`th server: the new connection, its first messages unread. */
  resume(n: number, token: string, key?: string): Promise<RawWebSocket> {
    return this.#raw(n, `/?resume=${encodeURIComponent(token)}`, key);
  }

  async #raw(n: number, path: string, key?: string): Promise<RawWebSocket> {
    const headers: Record<string, string> = key === undefined
      ? {}
      : { authorization: `Bearer ${key}` };
    const ws = await RawWebSocket.connect(this.server(n).addr.port, path, headers);
    this.#raws.push(ws);
    return ws;
  }

  readonly #raws: RawWebSocket[] = [];

  /**
   * A resumable client on the first server (with `key`, when given), paired
   * with a partner on the second (same key), then dropped abruptly: the
   * partner has heard `peer_reconnecting`.
   */
  async awayFromPartner(key?: string): Promise<[Resumable, Client]> {
    const a = await this.resumable(0, key);
    const b = await this.connectTo(1, key);
    await pairResumable(a, b);
    a.ws.drop();
    assert.deepEqual(await next(b), { type: "peer_reconnecting", peer: a.id });
    return [a, b];
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
    for (const ws of this.#raws) ws.drop();
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

/** A resumable client, with its id and token. */
interface Resumable {
  ws: RawWebSocket;
  id: string;
  token: string;
}

/** Two API keys, `a` and `b`, as key strings and the records a server accepts. */
function twoKeys(maxClients?: number): { a: string; b: string; records: KeyRecord[] } {
  const a = generateKey();
  const b = generateKey();
  const record = (label: string, key: string): KeyRecord => ({
    label,
    sha256: hashKey(key),
    createdAt: "2026-01-01T00:00:00.000Z",
    ...(maxClients === undefined ? {} : { maxClients }),
  });
  return { a, b, records: [record("acme", a), record("globex", b)] };
}

const KEYS = twoKeys();
const CAPPED = twoKeys(2);
const TURN_SECRET = "contract-secret";
const TURN = await TurnCredentials.create({
  urls: ["turn:127.0.0.1:3478"],
  secret: TURN_SECRET,
  ttlSeconds: 600,
});

/** Waits until `test` holds, checking every few ms; fails naming `what` after `ms`. */
async function until(test: () => boolean | Promise<boolean>, what: string, ms = 5000) {
  const deadline = performance.now() + ms;
  while (!(await test())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Pairs resumable `a` (asking) with plain `b` (accepting). */
async function pairResumable(a: Resumable, b: Client): Promise<void> {
  await a.ws.send({ type: "pair_request", target: b.id });
  assert.deepEqual(await next(b), { type: "pair_request", from: a.id });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(await a.ws.next(), { type: "paired", peer: b.id, initiator: true });
  assert.deepEqual(await next(b), { type: "paired", peer: a.id, initiator: false });
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
  {
    name:
      "tenants: a client reaches only its own key's clients; another key's id answers exactly like an unknown one",
    options: { apiKeys: KEYS.records },
    run: async (scene) => {
      const a = await scene.connectTo(0, KEYS.a);
      const b = await scene.connectTo(1, KEYS.b);
      const c = await scene.connectTo(1, KEYS.a);
      const unknown = crypto.randomUUID();
      a.client.send({ type: "pair_request", target: b.id });
      const other = await next(a);
      a.client.send({ type: "pair_request", target: unknown });
      const none = await next(a);
      assert.equal(other.code, "unknown_peer");
      assert.equal(other.message, String(none.message).replace(unknown, b.id));
      b.client.send({ type: "pair_accept", from: a.id });
      assert.deepEqual(await nextError(b), { type: "error", code: "no_pending_request" });
      a.client.send({ type: "pair_request", target: c.id });
      assert.deepEqual(await next(c), { type: "pair_request", from: a.id });
    },
  },
  {
    name:
      "a key's client limit holds on every instance: the next client gets key_limit and 1013, and a freed place is taken again",
    options: { apiKeys: CAPPED.records },
    run: async (scene) => {
      const first = await scene.connectTo(0, CAPPED.a);
      await scene.connectTo(1, CAPPED.a);
      for (const n of [0, 1]) {
        const refused = new TestClient(scene.server(n).url, {
          headers: { authorization: `Bearer ${CAPPED.a}` },
        });
        const message = await refused.next() as Message;
        assert.equal(message.code, "key_limit");
        assert.equal((await refused.closedWithin()).code, 1013);
      }
      // Another key is not counted against this one.
      await scene.connectTo(1, CAPPED.b);
      first.client.socket.close(1000);
      await first.client.closedWithin();
      await until(async () => {
        const client = new TestClient(scene.server(1).url, {
          headers: { authorization: `Bearer ${CAPPED.a}` },
        });
        const message = await client.next() as Message;
        const ok = message.type === "your_id";
        client.socket.close(1000);
        await client.closedWithin();
        return ok;
      }, "the freed place");
    },
  },
  {
    name: "TURN credentials in paired are each partner's own, whichever instance it is on",
    options: { turn: TURN },
    run: async (scene) => {
      const [a, b] = await scene.requested();
      b.client.send({ type: "pair_accept", from: a.id });
      const key = await turnKey(TURN_SECRET);
      for (const [client, peer] of [[a, b], [b, a]] as const) {
        const paired = await next(client);
        assert.equal(paired.type, "paired");
        assert.equal(paired.peer, peer.id);
        const [server] = paired.iceServers as { username: string; credential: string }[];
        assert.match(server!.username, new RegExp(`^\\d+:${client.id}$`));
        assert.equal(server!.credential, await turnPassword(key, server!.username));
      }
      a.client.send({ type: "offer", sdp: "v=0" });
      assert.deepEqual(await next(b), { type: "offer", sdp: "v=0", from: a.id });
    },
  },
  {
    name:
      "resume: a client that drops resumes on another instance; its partner hears peer_reconnecting, then peer_back, and what was sent meanwhile arrives once, in order",
    options: { resumeGrace: 10 },
    run: async (scene) => {
      const [a, b] = await scene.awayFromPartner();
      for (let n = 1; n <= 5; n++) b.client.send({ type: "relay", data: { n } });
      b.client.send({ type: "pair_request", target: a.id });
      assert.deepEqual(await nextError(b), { type: "error", code: "peer_unavailable" });
      const back = await scene.resume(1, a.token);
      assert.deepEqual(await back.next(), { type: "your_id", id: a.id });
      const session = await back.next() as Message;
      assert.equal(session.type, "session");
      assert.notEqual(session.resume_token, a.token);
      for (let n = 1; n <= 5; n++) {
        assert.deepEqual(await back.next(), { type: "relay", data: { n }, from: b.id });
      }
      assert.deepEqual(await next(b), { type: "peer_back", peer: a.id });
      await back.send({ type: "relay", data: "back" });
      assert.deepEqual(await next(b), { type: "relay", data: "back", from: a.id });
      b.client.send({ type: "relay", data: "welcome" });
      assert.deepEqual(await back.next(), { type: "relay", data: "welcome", from: b.id });
      // The spent token is gone for good.
      const again = await scene.resume(0, a.token);
      assert.equal((await again.next() as Message).type, "your_id");
      assert.equal((await again.next() as Message).type, "session");
      assert.equal((await again.next() as Message).code, "resume_failed");
    },
  },
  {
    name:
      "resume: a partner that leaves while the client is away: it hears peer_left after its session on resume, and is unpaired",
    options: { resumeGrace: 10 },
    run: async (scene) => {
      const [a, b] = await scene.awayFromPartner();
      b.client.send({ type: "relay", data: "bye" });
      b.client.send({ type: "unpair" });
      // Unpaired: b's next relay is refused, so the unpair was done before a is back.
      b.client.send({ type: "relay", data: "anyone?" });
      assert.deepEqual(await nextError(b), { type: "error", code: "not_paired" });
      const back = await scene.resume(1, a.token);
      assert.deepEqual(await back.next(), { type: "your_id", id: a.id });
      assert.equal((await back.next() as Message).type, "session");
      assert.deepEqual(await back.next(), { type: "relay", data: "bye", from: b.id });
      assert.deepEqual(await back.next(), { type: "peer_left", peer: b.id, reason: "unpaired" });
      await back.send({ type: "relay", data: "hello?" });
      assert.equal((await back.next() as Message).code, "not_paired");
    },
  },
  {
    name:
      "resume: a token presented with another key fails like an unknown one and leaves the session to its owner",
    options: { resumeGrace: 10, apiKeys: KEYS.records },
    run: async (scene) => {
      const [a, b] = await scene.awayFromPartner(KEYS.a);
      const thief = await scene.resume(1, a.token, KEYS.b);
      assert.notEqual((await thief.next() as Message).id, a.id);
      assert.equal((await thief.next() as Message).type, "session");
      assert.equal((await thief.next() as Message).code, "resume_failed");
      b.client.send({ type: "relay", data: "still here" });
      const owner = await scene.resume(0, a.token, KEYS.a);
      assert.deepEqual(await owner.next(), { type: "your_id", id: a.id });
      assert.equal((await owner.next() as Message).type, "session");
      assert.deepEqual(await owner.next(), { type: "relay", data: "still here", from: b.id });
      assert.deepEqual(await next(b), { type: "peer_back", peer: a.id });
    },
  },
  {
    name: "resume: an away client is peer_unavailable to its own key and unknown_peer to others",
    options: { resumeGrace: 10, apiKeys: KEYS.records },
    run: async (scene) => {
      const [a] = await scene.awayFromPartner(KEYS.a);
      const mine = await scene.connectTo(1, KEYS.a);
      const other = await scene.connectTo(1, KEYS.b);
      mine.client.send({ type: "pair_request", target: a.id });
      const unavailable = await next(mine);
      assert.equal(unavailable.code, "peer_unavailable");
      assert.match(String(unavailable.message), /lost its connection and may be back shortly/);
      other.client.send({ type: "pair_request", target: a.id });
      assert.deepEqual(await nextError(other), { type: "error", code: "unknown_peer" });
    },
  },
  {
    name:
      "resume: two connections racing with one token — exactly one gets the session, the other a new id",
    options: { resumeGrace: 10 },
    run: async (scene) => {
      const a = await scene.resumable(0);
      a.ws.drop();
      await until(
        () => scene.cluster.servers.every((server) => server.registry.get(a.id) === undefined),
        "the loss to be noticed",
      );
      const [x, y] = await Promise.all([scene.resume(0, a.token), scene.resume(1, a.token)]);
      const ids = [(await x.next() as Message).id, (await y.next() as Message).id];
      assert.equal(ids.filter((id) => id === a.id).length, 1, `ids: ${ids}`);
    },
  },
  {
    name:
      "resume: when the window ends the partner hears peer_left (timeout) exactly once, and the token is spent",
    options: { resumeGrace: 0.3 },
    run: async (scene) => {
      const [a, b] = await scene.awayFromPartner();
      assert.deepEqual(await next(b), { type: "peer_left", peer: a.id, reason: "timeout" });
      b.client.send({ type: "relay", data: "anyone?" });
      assert.deepEqual(await nextError(b), { type: "error", code: "not_paired" });
      const late = await scene.resume(0, a.token);
      assert.notEqual((await late.next() as Message).id, a.id);
    },
  },
  {
    name:
      "resume: past the queue's bound the session ends and the partner hears peer_left (disconnected)",
    options: { resumeGrace: 10, resumeQueue: 3 },
    run: async (scene) => {
      const [a, b] = await scene.awayFromPartner();
      for (let n = 1; n <= 4; n++) b.client.send({ type: "relay", data: { n } });
      assert.deepEqual(await next(b), { type: "peer_left", peer: a.id, reason: "disconnected" });
    },
  },
  {
    name:
      "revoking a key closes its clients on every instance with 1008 and ends its away sessions",
    options: { resumeGrace: 10, apiKeys: twoKeys().records },
    run: async (scene) => {
      const keys = twoKeys();
      const records = keys.records;
      for (const server of scene.cluster.servers) await server.reloadKeys(records);
      const [away, partner] = await scene.awayFromPartner(keys.a);
      const other = await scene.connectTo(0, keys.a);
      const kept = await scene.connectTo(1, keys.b);
      const started = performance.now();
      const reloaded = scene.server(0).reloadKeys([records[1]!]);
      // Here: the away session, and the key's clients on this instance.
      const here = scene.cluster.servers.length === 1 ? 3 : 2;
      assert.deepEqual(await reloaded, { keys: 1, revoked: here });
      // The away session ends first, so its partner hears peer_left before its own 1008.
      assert.deepEqual(await next(partner), {
        type: "peer_left",
        peer: away.id,
        reason: "disconnected",
      });
      for (const client of [partner, other]) {
        const closed = await client.client.closedWithin(2000);
        assert.deepEqual([closed.code, closed.reason], [1008, "key revoked"]);
      }
      assert.ok(performance.now() - started < 1000, "closed within a second");
      if (scene.cluster.servers.length > 1) {
        await scene.logs.waitFor(/Revoked on another instance: acme; closed 1 client here\./);
      }
      kept.client.send({ type: "pair_request", target: away.id });
      assert.deepEqual(await nextError(kept), { type: "error", code: "unknown_peer" });
      await assert.rejects(scene.resume(1, away.token, keys.a), /401/);
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
