import assert from "node:assert/strict";
import { spawnPeer, TestClient } from "../../support/helpers.ts";
import { eventually } from "../../support/hostile.ts";
import { holding, meeting, next, usingCode } from "../../support/code_clients.ts";
import {
  haveRedis,
  redisCli,
  type RedisInstance,
  redisInstances,
  RedisServer,
} from "../../support/redis.ts";

const ignore = !haveRedis();

async function metricsOf(port: number): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

Deno.test({
  name: "a nameplate held on one instance pairs a client of another by code, once, in Redis",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 2);
    const [s1, s2] = c.servers as [RedisInstance, RedisInstance];
    const holder = await holding(s1.url);
    await using _h = holder.client;
    assert.match(await metricsOf(s1.port), /^switchboard_nameplates 1$/m);
    const { client: user, id: userId } = await usingCode(s2.url, holder);
    await using _u = user;
    user.send({ type: "pake", share: "04ab" });
    assert.deepEqual(await next(holder.client), { type: "pake", share: "04ab", from: userId });
    assert.match(await metricsOf(s1.port), /^switchboard_nameplates 0$/m);
    assert.match(await metricsOf(s2.port), /^switchboard_code_pairings_total 1$/m);

    // Spent, for every instance.
    for (const url of [s1.url, s2.url]) {
      const { client: late } = await TestClient.connect(url);
      await using _l = late;
      late.send({ type: "code_use", nameplate: holder.nameplate });
      assert.equal((await next(late)).code, "unknown_nameplate");
    }
  },
});

Deno.test({
  name: "on a cluster a nameplate expires for its holder and in Redis, and one that left is gone",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 2, ["--code-ttl", "0.5"]);
    const [s1, s2] = c.servers as [RedisInstance, RedisInstance];
    const expiring = await holding(s1.url);
    await using _e = expiring.client;
    assert.deepEqual(await next(expiring.client), {
      type: "nameplate_expired",
      nameplate: expiring.nameplate,
    });
    const { client: user } = await TestClient.connect(s2.url);
    await using _u = user;
    user.send({ type: "code_use", nameplate: expiring.nameplate });
    assert.equal((await next(user)).code, "unknown_nameplate");
    assert.match(await metricsOf(s1.port), /^switchboard_nameplates_expired_total 1$/m);

    // A holder that leaves takes its nameplate with it at once, not at its expiry.
    await using longer = await redisInstances(redis, 1);
    const [s3] = longer.servers as [RedisInstance];
    const leaving = await holding(s3.url);
    leaving.client.socket.close();
    await leaving.client.closed;
    await eventually(
      async () => /^switchboard_nameplates 0$/m.test(await metricsOf(s3.port)),
      5000,
      "the instance to forget the nameplate of a client that left",
    );
    // Its instance tells Redis a moment later (a client typing the code meanwhile would
    // be paired with one that is leaving, and hear peer_left): wait for Redis to let go.
    await eventually(
      async () => await redisCli(redis.port, "EXISTS", `switchboard:nph:${leaving.id}`) === "0",
      5000,
      "Redis to forget the nameplate of a client that left",
    );
    user.send({ type: "code_use", nameplate: leaving.nameplate });
    assert.equal((await next(user)).code, "unknown_nameplate");
  },
});

Deno.test({
  name: "two CLI peers on two instances pair by code and open a proven channel",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 2);
    const [s1, s2] = c.servers as [RedisInstance, RedisInstance];
    await using holder = spawnPeer("--url", s1.url, "--code");
    const [, code = ""] = await holder.waitForLine(
      /^\*\*\* Your code: (\d+-[a-z]+-[a-z]+) /,
      "stdout",
      15_000,
    );
    await using user = spawnPeer("--url", s2.url, code);
    await user.waitForLine(/^\*\*\* The code matched: /, "stdout", 15_000);
    await holder.waitForLine(/^\*\*\* The code matched: /, "stdout", 15_000);
    await user.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
    await holder.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
    await user.type("send across instances, by code");
    await holder.waitForLine(/: across instances, by code$/, "stdout");
  },
});

Deno.test({
  name: "two remembered devices on two instances meet under their rendezvous, in Redis",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using c = await redisInstances(redis, 2);
    const [s1, s2] = c.servers as [RedisInstance, RedisInstance];
    const rendezvous = "ef".repeat(32);
    const { client: first, id: firstId } = await TestClient.connect(s1.url);
    await using _f = first;
    first.send({ type: "meet", rendezvous });
    assert.deepEqual(await next(first), { type: "meet_waiting", expires_s: 300 });
    assert.match(await metricsOf(s1.port), /^switchboard_nameplates 0$/m, "a wait is no code");
    const { client: second } = await meeting(s2.url, rendezvous, { client: first, id: firstId });
    await using _s = second;
  },
});
