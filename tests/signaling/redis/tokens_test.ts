import assert from "node:assert/strict";
import { TestClient } from "../../support/helpers.ts";
import { next } from "../../support/code_clients.ts";
import { eventually } from "../../support/hostile.ts";
import {
  haveRedis,
  redisCli,
  type RedisInstance,
  RedisServer,
  spawnRedisInstance,
} from "../../support/redis.ts";
import { type Claims, TestIssuer } from "../../support/tokens.ts";

const ignore = !haveRedis();

const issuer = await TestIssuer.create("k1");

const BACK = /The shared registry is back; registered (\d+) clients? again\./;

/** Two instances sharing `redis` that take the test issuer's tokens, read from a JWKS file. */
async function tokenCluster(redis: RedisServer) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/keys.json`;
  await Deno.writeTextFile(file, JSON.stringify({ keys: [issuer.publicJwk] }));
  const start = () =>
    spawnRedisInstance(redis.url, ["--token-key", file], [`--allow-read=${file}`]);
  const servers = await Promise.all([start(), start()]) as [RedisInstance, RedisInstance];
  return {
    servers,
    async [Symbol.asyncDispose]() {
      await Promise.all(servers.map(({ child }) => child[Symbol.asyncDispose]()));
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function connect(url: string, claims: Claims) {
  const token = await issuer.mint(claims);
  return await TestClient.connect(url, { headers: { authorization: `Bearer ${token}` } });
}

Deno.test({
  name: "on a cluster, token tenants and grants.pair hold across instances, by id and by code",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await tokenCluster(redis);
    const [s1, s2] = c.servers;
    const ada = await connect(s1.url, { sub: "ada", tenant: "acme", grants: { pair: ["bob"] } });
    await using _a = ada.client;
    const bob = await connect(s2.url, { sub: "bob", tenant: "acme" });
    await using _b = bob.client;
    const eve = await connect(s2.url, { sub: "eve", tenant: "acme" });
    await using _e = eve.client;
    const mallory = await connect(s2.url, { sub: "bob", tenant: "globex" });
    await using _m = mallory.client;

    for (const [from, to] of [[ada, eve], [eve, ada], [mallory, ada]] as const) {
      from.client.send({ type: "pair_request", target: to.id });
      assert.equal((await next(from.client)).code, "unknown_peer");
    }
    ada.client.send({ type: "code_claim" });
    const { nameplate } = await next(ada.client) as unknown as { nameplate: string };
    eve.client.send({ type: "code_use", nameplate });
    assert.equal((await next(eve.client)).code, "unknown_nameplate");

    ada.client.send({ type: "pair_request", target: bob.id });
    assert.deepEqual(await next(bob.client), { type: "pair_request", from: ada.id });

    // A grant Redis cannot read grants nothing, and the instances carry on.
    await redisCli(redis.port, "HSET", "switchboard:grant", eve.id, "{not json");
    eve.client.send({ type: "pair_request", target: bob.id });
    assert.equal((await next(eve.client)).code, "unknown_peer");
    const health = await fetch(`http://127.0.0.1:${s2.port}/healthz`);
    assert.equal((await health.json()).status, "ok");
    assert.equal(
      await redisCli(redis.port, "HGET", "switchboard:grant", ada.id),
      '{"s":"ada","p":["bob"]}',
    );
  },
});

Deno.test({
  name:
    "on a cluster, grants are registered again when Redis comes back, and forgotten when a client leaves",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await tokenCluster(redis);
    const [s1, s2] = c.servers;
    const ada = await connect(s1.url, { sub: "ada", grants: { pair: ["bob"] } });
    await using _a = ada.client;
    const eve = await connect(s2.url, { sub: "eve" });
    await using _e = eve.client;
    await redis.stop();
    await redis.restart();
    await s1.child.waitForLine(BACK, "stderr", 15_000);
    await s2.child.waitForLine(BACK, "stderr", 15_000);
    eve.client.send({ type: "pair_request", target: ada.id });
    assert.equal((await next(eve.client)).code, "unknown_peer");

    ada.client.socket.close();
    await ada.client.closed;
    await s1.child.waitForLine(new RegExp(`Client ${ada.id} disconnected`), "stderr");
    await eventually(
      async () => await redisCli(redis.port, "HEXISTS", "switchboard:grant", ada.id) === "0",
      5000,
      "Redis to forget the grant of a client that left",
    );
  },
});
