import assert from "node:assert/strict";
import { Webhooks } from "../../../lib/server/webhooks/webhooks.ts";
import { within } from "../../support/helpers.ts";
import { WebhookReceiverServer, webhookSecret } from "../../support/webhook_receiver.ts";

/** Webhooks to `urls`, quick to retry. */
function hooksTo(
  urls: string[],
  secret: Uint8Array,
  options: { retryForMs?: number; maxQueue?: number } = {},
): Webhooks {
  return new Webhooks({
    urls,
    secret,
    retryForMs: options.retryForMs ?? 5_000,
    ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
    timeoutMs: 1_000,
    retryBaseMs: 20,
  });
}

Deno.test("every receiver gets each event under the same id, signed", async () => {
  const secret = webhookSecret();
  await using first = new WebhookReceiverServer(secret.bytes);
  await using second = new WebhookReceiverServer(secret.bytes);
  await using third = new WebhookReceiverServer(secret.bytes);
  const receivers = [first, second, third];
  const hooks = hooksTo(receivers.map((receiver) => receiver.url), secret.bytes);
  const connected = hooks.emit("client.connected", { client_id: "c1", tenant: "acme" });
  const revoked = hooks.emit("key.revoked", { key: "acme" });
  assert.notEqual(connected.id, revoked.id);
  assert.match(connected.id, /^msg_[0-9a-f]{32}$/);
  await within(hooks.idle(), 5_000, "every delivery");
  for (const receiver of receivers) {
    const deliveries = await receiver.accepting(2);
    assert.deepEqual(deliveries.map((d) => d.id), [connected.id, revoked.id]);
    assert.deepEqual(deliveries.map((d) => d.body.id), [connected.id, revoked.id]);
    assert.ok(deliveries.every((d) => d.signatureValid), "signed");
    assert.deepEqual(deliveries[0]!.body, JSON.parse(JSON.stringify(connected)));
  }
  hooks.stop();
});

Deno.test("a receiver's name is its number and origin only, never its path, query, fragment or user info", () => {
  const urls = [
    "https://alice:hunter2@hooks.example:8443/tenant/acme/hook?token=s3cr3t#frag",
    "http://127.0.0.1:9/hooks/switchboard?secret-looking=1",
    "https://hooks.example:443/x",
    "https://token-in-user@[::1]:8080/",
  ];
  const hooks = hooksTo(urls, webhookSecret().bytes);
  assert.deepEqual(hooks.names, [
    "1 (https://hooks.example:8443)",
    "2 (http://127.0.0.1:9)",
    "3 (https://hooks.example)",
    "4 (https://[::1]:8080)",
  ]);
  const shown = hooks.names.join("\n") + hooks.metricsText();
  for (
    const part of ["alice", "hunter2", "/tenant", "acme", "s3cr3t", "frag", "token", "/hooks/"]
  ) {
    assert.ok(!shown.includes(part), `${part} is shown:\n${shown}`);
  }
  hooks.stop();
});

Deno.test("token.rejected goes out at most ten times per ten seconds; the first of the next window says how many were skipped", async () => {
  const secret = webhookSecret();
  await using receiver = new WebhookReceiverServer(secret.bytes);
  const hooks = hooksTo([receiver.url], secret.bytes);
  const start = 1_000_000;
  for (let i = 0; i < 10; i++) hooks.tokenRejected(`first window ${i}`, start + i);
  hooks.tokenRejected("skipped 1", start + 10);
  hooks.tokenRejected("skipped 2", start + 5_000);
  hooks.tokenRejected("skipped 3", start + 9_999);
  hooks.tokenRejected("second window", start + 10_000);
  for (let i = 1; i < 10; i++) hooks.tokenRejected(`second window ${i}`, start + 10_001);
  hooks.tokenRejected("skipped 4", start + 19_999);
  // A quiet spell longer than a window: the next one starts at this event.
  hooks.tokenRejected("third window", start + 60_000);
  hooks.tokenRejected("third window again", start + 69_999);

  await within(hooks.idle(), 5_000, "every token.rejected delivery");
  const deliveries = await receiver.accepting(22);
  assert.equal(receiver.accepted.length, 22);
  assert.ok(deliveries.every((d) => d.body.type === "token.rejected"));
  const data = deliveries.map((d) => d.body.data);
  assert.deepEqual(
    data.slice(0, 10),
    Array.from({ length: 10 }, (_, i) => ({ reason: `first window ${i}`, skipped: 0 })),
  );
  assert.deepEqual(data[10], { reason: "second window", skipped: 3 });
  assert.deepEqual(
    data.slice(11, 20),
    Array.from({ length: 9 }, (_, i) => ({ reason: `second window ${i + 1}`, skipped: 0 })),
  );
  assert.deepEqual(data[20], { reason: "third window", skipped: 1 });
  assert.deepEqual(data[21], { reason: "third window again", skipped: 0 });
  assert.ok(!data.some((d) => String(d.reason).startsWith("skipped")));
  hooks.stop();
});

Deno.test("token.rejected never crowds out other events: emit() is not capped", async () => {
  const secret = webhookSecret();
  await using receiver = new WebhookReceiverServer(secret.bytes);
  const hooks = hooksTo([receiver.url], secret.bytes);
  for (let i = 0; i < 15; i++) hooks.tokenRejected("token expired", 0);
  for (let i = 0; i < 15; i++) hooks.emit("client.connected", { client_id: `c${i}` });
  await within(hooks.idle(), 5_000, "every delivery");
  const types = receiver.types();
  assert.equal(types.filter((type) => type === "token.rejected").length, 10);
  assert.equal(types.filter((type) => type === "client.connected").length, 15);
  hooks.stop();
});

/** A Prometheus text-format (0.0.4) exposition, checked line by line; its samples by series. */
function parseExposition(text: string): Map<string, number> {
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const label = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const sample = new RegExp(
    `^(${name})(?:\\{(${label}(?:,${label})*)?\\})? ([-+]?(?:\\d+(?:\\.\\d*)?(?:[eE][-+]?\\d+)?|NaN|Inf))$`,
  );
  const helped = new Set<string>();
  const typed = new Map<string, string>();
  const samples = new Map<string, number>();
  let family: string | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const help = line.match(new RegExp(`^# HELP (${name}) (.+)$`));
    const type = line.match(
      new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`),
    );
    if (help) {
      assert.ok(!helped.has(help[1]!), `a second HELP for ${help[1]}`);
      assert.ok(!samples.has(help[1]!), `HELP for ${help[1]} after its samples`);
      helped.add(help[1]!);
      family = help[1]!;
    } else if (type) {
      assert.ok(!typed.has(type[1]!), `a second TYPE for ${type[1]}`);
      assert.equal(type[1], family, `TYPE ${type[1]} right after its HELP`);
      typed.set(type[1]!, type[2]!);
    } else {
      const match = line.match(sample);
      assert.ok(match, `not a valid exposition line: ${JSON.stringify(line)}`);
      assert.equal(match[1], family, `sample ${line} outside its family`);
      assert.ok(typed.has(match[1]!), `sample ${line} before its TYPE`);
      const series = `${match[1]}{${match[2] ?? ""}}`;
      assert.ok(!samples.has(series), `a second sample of ${series}`);
      samples.set(series, Number(match[3]));
    }
  }
  assert.deepEqual([...helped], [...typed.keys()], "every family has HELP and TYPE");
  return samples;
}

Deno.test("metricsText() is valid Prometheus text: HELP, TYPE and a sample per receiver and per drop reason", async () => {
  const secret = webhookSecret();
  await using up = new WebhookReceiverServer(secret.bytes);
  await using down = new WebhookReceiverServer(secret.bytes);
  down.mode = "fail";
  const hooks = hooksTo([up.url, down.url], secret.bytes, { retryForMs: 150, maxQueue: 2 });
  for (let i = 0; i < 3; i++) hooks.emit("client.connected", { client_id: `c${i}` });

  const waiting = parseExposition(hooks.metricsText());
  assert.equal(waiting.get('switchboard_webhook_queued{receiver="1"}'), 2);
  assert.equal(waiting.get('switchboard_webhook_queued{receiver="2"}'), 2);

  await within(hooks.idle(), 5_000, "deliveries and give-ups");
  const text = hooks.metricsText();
  const samples = parseExposition(text);
  assert.match(
    text,
    /^# HELP switchboard_webhook_delivered_total .+\n# TYPE switchboard_webhook_delivered_total counter\n/,
  );
  assert.match(text, /^# TYPE switchboard_webhook_failed_attempts_total counter$/m);
  assert.match(text, /^# TYPE switchboard_webhook_dropped_total counter$/m);
  assert.match(text, /^# TYPE switchboard_webhook_queued gauge$/m);
  const failed = samples.get('switchboard_webhook_failed_attempts_total{receiver="2"}')!;
  assert.ok(failed >= 1 && failed === down.attempts, `${failed} failed attempts`);
  assert.deepEqual(Object.fromEntries(samples), {
    'switchboard_webhook_delivered_total{receiver="1"}': 2,
    'switchboard_webhook_delivered_total{receiver="2"}': 0,
    'switchboard_webhook_failed_attempts_total{receiver="1"}': 0,
    'switchboard_webhook_failed_attempts_total{receiver="2"}': failed,
    'switchboard_webhook_dropped_total{receiver="1",reason="gave_up"}': 0,
    'switchboard_webhook_dropped_total{receiver="1",reason="queue_full"}': 1,
    'switchboard_webhook_dropped_total{receiver="1",reason="shutdown"}': 0,
    'switchboard_webhook_dropped_total{receiver="2",reason="gave_up"}': 2,
    'switchboard_webhook_dropped_total{receiver="2",reason="queue_full"}': 1,
    'switchboard_webhook_dropped_total{receiver="2",reason="shutdown"}': 0,
    'switchboard_webhook_queued{receiver="1"}': 0,
    'switchboard_webhook_queued{receiver="2"}': 0,
  });
  assert.ok(!text.includes("127.0.0.1") && !text.includes("secret-looking"));
  hooks.stop();
});

Deno.test("metricsText() of webhooks without a receiver has HELP and TYPE and no sample", () => {
  const hooks = hooksTo([], webhookSecret().bytes);
  const text = hooks.metricsText();
  assert.equal(parseExposition(text).size, 0);
  assert.equal(text.split("\n").filter((line) => line.startsWith("# TYPE ")).length, 4);
  hooks.stop();
});
