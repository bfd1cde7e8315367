import assert from "node:assert/strict";
import { pairedClients } from "../../support/helpers.ts";
import { next } from "../../support/code_clients.ts";
import { eventually } from "../../support/hostile.ts";
import {
  haveRedis,
  type RedisInstance,
  RedisServer,
  spawnRedisInstance,
} from "../../support/redis.ts";
import { WebhookReceiverServer, webhookSecret } from "../../support/webhook_receiver.ts";

const ignore = !haveRedis();

Deno.test({
  name:
    "on a cluster, a pair made and ended across instances is one pair.created and one pair.ended",
  ignore,
  fn: async () => {
    const secret = webhookSecret();
    await using receiver = new WebhookReceiverServer(secret.bytes);
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/webhook-secret`;
      await Deno.writeTextFile(file, secret.text);
      await using redis = await RedisServer.start();
      const start = () =>
        spawnRedisInstance(
          redis.url,
          ["--webhook", receiver.url, "--webhook-secret-file", file],
          [`--allow-read=${file}`],
        );
      const [s1, s2] = await Promise.all([start(), start()]) as [RedisInstance, RedisInstance];
      await using _s1 = s1.child;
      await using _s2 = s2.child;
      {
        await using pair = await pairedClients(s1.url, s2.url);
        pair.a.client.send({ type: "unpair" });
        assert.equal((await next(pair.b.client)).type, "peer_left");
      }
      await receiver.accepting(6);
      // Every event of both instances out, none left to come late.
      const delivered = async (port: number) => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        if (!/^switchboard_webhook_queued\{receiver="1"\} 0$/m.test(text)) return NaN;
        return Number(
          /^switchboard_webhook_delivered_total\{receiver="1"\} (\d+)$/m.exec(text)?.[1],
        );
      };
      await eventually(
        async () => (await delivered(s1.port)) + (await delivered(s2.port)) === 6,
        10_000,
        "both instances to have delivered everything",
      );
      const deliveries = receiver.accepted;
      const count = (type: string) => receiver.types().filter((t) => t === type).length;
      assert.equal(count("client.connected"), 2);
      assert.equal(count("pair.created"), 1);
      assert.equal(count("pair.ended"), 1);
      assert.equal(count("client.disconnected"), 2);
      const created = deliveries.find((d) => d.body.type === "pair.created")!;
      assert.equal((created.body.data.clients as string[]).length, 2);
      const ended = deliveries.find((d) => d.body.type === "pair.ended")!;
      assert.equal(ended.body.data.reason, "unpaired");
      assert.ok(deliveries.every((d) => d.signatureValid));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
