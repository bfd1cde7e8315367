import assert from "node:assert/strict";
import { RedisLink, RedisTimeout } from "../../../lib/signaling/redis/link.ts";
import { parseRedisUrl } from "../../../lib/signaling/redis/url.ts";
import { within } from "../../support/helpers.ts";
import { haveRedis, RedisServer } from "../../support/redis.ts";

const ignore = !haveRedis();

/** A link to `redis` for an instance that is not entered: enough to run scripts. */
async function link(redis: RedisServer, timeoutMs = 2000): Promise<RedisLink & AsyncDisposable> {
  const connected = await RedisLink.connect({
    target: parseRedisUrl(redis.url),
    instance: crypto.randomUUID(),
    timeoutMs,
    connectTimeoutMs: 5000,
    onEvent: () => {},
    onLost: () => {},
  });
  return Object.assign(connected, { [Symbol.asyncDispose]: () => connected.close() });
}

Deno.test({
  name:
    "RedisLink.batched() sends the joins and leaves of one turn in one call, each answered as its own",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using l = await link(redis);
    const instance = crypto.randomUUID();
    await l.call("enter", [instance, "5000"]);
    const before = l.metrics.calls;
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    const joins = await Promise.all(ids.map((id) => l.batched("join", [instance, id, "", ""])));
    assert.deepEqual(joins, ids.map(() => ["ok"]));
    assert.equal(l.metrics.calls - before, 1, "one round trip for twenty joins");
    // A leave for a client another instance holds is answered on its own: gone.
    const leaves = await Promise.all([
      l.batched("leave", [instance, ids[0]!]),
      l.batched("leave", ["another-instance", ids[1]!]),
    ]);
    assert.deepEqual(leaves, [["ok"], ["gone"]]);
    // Alone in its turn, a call goes as itself.
    assert.deepEqual(await l.batched("leave", [instance, ids[1]!]), ["ok"]);
    assert.equal(l.metrics.calls - before, 3);
  },
});

Deno.test({
  name: "RedisLink.call() gives up after its timeout on a Redis that stops answering mid-call",
  ignore,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using l = await link(redis, 300);
    await l.call("enter", [crypto.randomUUID(), "5000"]);
    // Stopped, not killed: the connection stays open and the command is written, but no reply comes.
    Deno.kill(redis.pid!, "SIGSTOP");
    try {
      const started = performance.now();
      await within(
        assert.rejects(l.call("heartbeat", ["x", "1000"]), RedisTimeout),
        3000,
        "the call to time out",
      );
      assert.ok(performance.now() - started < 2000);
      assert.equal(l.metrics.failures.get("timeout"), 1);
    } finally {
      Deno.kill(redis.pid!, "SIGCONT");
    }
  },
});
