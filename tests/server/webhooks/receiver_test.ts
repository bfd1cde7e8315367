import assert from "node:assert/strict";
import { type WebhookEvent, webhookEvent } from "../../../lib/server/webhooks/events.ts";
import { type ReceiverOptions, WebhookReceiver } from "../../../lib/server/webhooks/receiver.ts";
import { within } from "../../support/helpers.ts";
import { standardSignature } from "../../support/webhook_receiver.ts";
import { eventually } from "../../support/hostile.ts";

/** One request as the test receiver got it. */
interface Arrival {
  readonly id: string;
  readonly timestamp: number;
  readonly signature: string;
  readonly body: string;
}

/** What the test receiver answers one request with; `"stall"` never answers until released. */
type Answer = number | "stall" | Response;

/**
 * A receiver on a free loopback port that records every request in the
 * order it came and how many were in flight at once, and answers as
 * `answer` says for each (by its number, from 1).
 */
class Hook implements AsyncDisposable {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly arrivals: Arrival[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly #stalled: (() => void)[] = [];

  constructor(answer: (attempt: number) => Answer | Promise<Answer> = () => 204) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          const body = await request.text();
          this.arrivals.push({
            id: request.headers.get("webhook-id") ?? "",
            timestamp: Number(request.headers.get("webhook-timestamp")),
            signature: request.headers.get("webhook-signature") ?? "",
            body,
          });
          const chosen = await answer(this.arrivals.length);
          if (chosen instanceof Response) return chosen;
          if (chosen === "stall") {
            await new Promise<void>((resolve) => this.#stalled.push(resolve));
            return new Response("late", { status: 500 });
          }
          return new Response(chosen === 204 ? null : "answer", { status: chosen });
        } finally {
          this.inFlight--;
        }
      },
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/hooks?token=receiver-secret`;
  }

  /** Lets every stalled request answer (500), so none outlives the test. */
  release(): void {
    for (const release of this.#stalled.splice(0)) release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
    await this.#server.shutdown();
  }
}

const SECRET = crypto.getRandomValues(new Uint8Array(32));

/** The Standard Webhooks signature, computed here rather than by the module under test. */
function expectedSignature(id: string, timestamp: number, body: string): Promise<string> {
  return standardSignature(SECRET, id, timestamp, body);
}

function receiverFor(hook: Hook, options: Partial<ReceiverOptions> = {}): WebhookReceiver {
  return new WebhookReceiver({
    url: hook.url,
    name: "1 (test)",
    secret: SECRET,
    retryForMs: 5_000,
    maxQueue: 100,
    timeoutMs: 200,
    retryBaseMs: 20,
    ...options,
  });
}

function events(count: number): WebhookEvent[] {
  return Array.from(
    { length: count },
    (_, i) => webhookEvent("client.connected", { client_id: `client-${i}` }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("events are delivered one at a time, in the order they were enqueued", async () => {
  // Each answer takes a while, so a second request sent too early would overlap the first.
  await using hook = new Hook(async () => {
    await sleep(15);
    return 204;
  });
  const receiver = receiverFor(hook);
  const sent = events(8);
  for (const event of sent.slice(0, 4)) receiver.enqueue(event);
  assert.equal(receiver.queued, 4);
  // More events while the first is on its way join the end of the queue.
  await eventually(() => hook.arrivals.length === 1, 5_000, "the first request");
  for (const event of sent.slice(4)) receiver.enqueue(event);
  await within(receiver.idle(), 5_000, "eight deliveries");
  assert.deepEqual(hook.arrivals.map((arrival) => arrival.id), sent.map((event) => event.id));
  assert.deepEqual(
    hook.arrivals.map((arrival) => JSON.parse(arrival.body)),
    sent.map((event) => JSON.parse(JSON.stringify(event))),
  );
  assert.equal(hook.maxInFlight, 1, "two requests were in flight at once");
  assert.equal(receiver.counts.delivered, 8);
  assert.equal(receiver.counts.failedAttempts, 0);
  assert.equal(receiver.queued, 0);
  receiver.stop();
});

Deno.test("each delivery is a signed JSON POST whose webhook-id is the event's id", async () => {
  await using hook = new Hook();
  const receiver = receiverFor(hook);
  const [event] = events(1);
  receiver.enqueue(event!);
  await within(receiver.idle(), 5_000, "one delivery");
  const [arrival] = hook.arrivals;
  assert.equal(arrival!.id, event!.id);
  assert.equal(arrival!.body, JSON.stringify(event));
  assert.equal(
    arrival!.signature,
    await expectedSignature(event!.id, arrival!.timestamp, arrival!.body),
  );
  assert.ok(
    Math.abs(arrival!.timestamp - Date.now() / 1000) < 60,
    `webhook-timestamp ${arrival!.timestamp} is seconds since the epoch, now`,
  );
  receiver.stop();
});

Deno.test("a retried event carries the same webhook-id, the same body and a valid signature", async () => {
  await using hook = new Hook((attempt) => attempt <= 2 ? 500 : 204);
  const receiver = receiverFor(hook);
  const [event] = events(1);
  receiver.enqueue(event!);
  await within(receiver.idle(), 5_000, "a delivery after two failures");
  assert.equal(hook.arrivals.length, 3);
  for (const arrival of hook.arrivals) {
    assert.equal(arrival.id, event!.id);
    assert.equal(arrival.body, JSON.stringify(event));
    assert.equal(
      arrival.signature,
      await expectedSignature(arrival.id, arrival.timestamp, arrival.body),
      "each attempt is signed over its own webhook-timestamp",
    );
  }
  receiver.stop();
});

Deno.test("a receiver that answers 500 and then recovers gets the event once, and the failed attempts are counted", async () => {
  let failing = true;
  await using hook = new Hook(() => failing ? 500 : 204);
  const receiver = receiverFor(hook);
  const [first, second] = events(2);
  receiver.enqueue(first!);
  receiver.enqueue(second!);
  await eventually(() => receiver.counts.failedAttempts >= 3, 5_000, "three failed attempts");
  failing = false;
  await within(receiver.idle(), 5_000, "the events to be delivered");
  const accepted = hook.arrivals.slice(receiver.counts.failedAttempts);
  assert.deepEqual(accepted.map((arrival) => arrival.id), [first!.id, second!.id]);
  assert.ok(
    hook.arrivals.slice(0, receiver.counts.failedAttempts).every((a) => a.id === first!.id),
    "the second event waits for the first",
  );
  assert.equal(receiver.counts.delivered, 2);
  assert.equal(receiver.counts.failedAttempts, hook.arrivals.length - 2);
  assert.deepEqual(receiver.counts.dropped, { gave_up: 0, queue_full: 0, shutdown: 0 });
  receiver.stop();
});

Deno.test("a redirect (302, 307, 308) is not followed: its target gets nothing, and it counts as a failed attempt", async () => {
  await using target = new Hook();
  for (const status of [302, 307, 308]) {
    await using hook = new Hook(() =>
      new Response(null, { status, headers: { location: target.url } })
    );
    const receiver = receiverFor(hook, { retryForMs: 150 });
    receiver.enqueue(events(1)[0]!);
    await within(receiver.idle(), 5_000, `the event redirected by ${status} to be given up`);
    assert.ok(hook.arrivals.length >= 1);
    assert.equal(target.arrivals.length, 0, `the target of a ${status} got a request`);
    assert.equal(receiver.counts.delivered, 0);
    assert.equal(receiver.counts.failedAttempts, hook.arrivals.length);
    assert.equal(receiver.counts.dropped.gave_up, 1);
    receiver.stop();
  }
});

Deno.test("a stalled receiver's attempts time out; the event is given up when its retry time is up, and the next one is delivered once it answers", async () => {
  let stalling = true;
  await using hook = new Hook(() => stalling ? "stall" : 204);
  const receiver = receiverFor(hook, { timeoutMs: 100, retryForMs: 300 });
  const [lost, next] = events(2);
  const started = performance.now();
  receiver.enqueue(lost!);
  await within(receiver.idle(), 5_000, "the stalled event to be given up");
  const tookMs = performance.now() - started;
  assert.ok(tookMs >= 300 && tookMs < 2_000, `given up after ${tookMs} ms`);
  assert.equal(receiver.counts.dropped.gave_up, 1);
  assert.equal(receiver.counts.delivered, 0);
  assert.ok(receiver.counts.failedAttempts >= 2, `${receiver.counts.failedAttempts} attempts`);
  assert.equal(receiver.counts.failedAttempts, hook.arrivals.length);
  assert.ok(hook.arrivals.every((arrival) => arrival.id === lost!.id));
  assert.equal(receiver.queued, 0);

  stalling = false;
  receiver.enqueue(next!);
  await within(receiver.idle(), 5_000, "the next event to be delivered");
  assert.equal(receiver.counts.delivered, 1);
  assert.equal(hook.arrivals.at(-1)!.id, next!.id);
  assert.equal(receiver.counts.dropped.gave_up, 1);
  hook.release();
  receiver.stop();
});

Deno.test("a full queue drops new events at once (queue_full), counting the one being delivered as queued", async () => {
  await using hook = new Hook(() => "stall");
  const receiver = receiverFor(hook, { maxQueue: 3, timeoutMs: 10_000, retryForMs: 10_000 });
  for (const event of events(10)) {
    const started = performance.now();
    receiver.enqueue(event);
    const tookMs = performance.now() - started;
    assert.ok(tookMs < 5, `enqueue took ${tookMs} ms`);
  }
  assert.equal(receiver.queued, 3);
  assert.equal(receiver.counts.dropped.queue_full, 7);
  // The first is in flight now, and still counts as queued.
  await eventually(() => hook.arrivals.length === 1, 5_000, "the first delivery attempt");
  assert.equal(receiver.queued, 3);
  receiver.enqueue(events(1)[0]!);
  assert.equal(receiver.counts.dropped.queue_full, 8);
  receiver.stop();
  hook.release();
  await within(receiver.idle(), 5_000, "the receiver to stop");
  assert.equal(receiver.counts.dropped.shutdown, 3);
  assert.equal(receiver.counts.delivered, 0);
  assert.equal(hook.arrivals.length, 1);
});

Deno.test("stop() counts what is left as shutdown, wakes a retry that is waiting, and ignores later events", async () => {
  await using hook = new Hook(() => 500);
  // The first retry would wait 10 to 15 s.
  const receiver = receiverFor(hook, { retryBaseMs: 10_000, retryForMs: 60_000 });
  for (const event of events(3)) receiver.enqueue(event);
  await eventually(() => receiver.counts.failedAttempts === 1, 5_000, "a failed attempt");
  const stopped = performance.now();
  receiver.stop();
  await within(receiver.idle(), 1_000, "idle() after stop()");
  const tookMs = performance.now() - stopped;
  assert.ok(tookMs < 500, `idle() took ${tookMs} ms after stop()`);
  assert.deepEqual(receiver.counts.dropped, { gave_up: 0, queue_full: 0, shutdown: 3 });
  assert.equal(receiver.counts.delivered, 0);

  receiver.enqueue(events(1)[0]!);
  await within(receiver.idle(), 1_000, "idle() after an enqueue past stop()");
  assert.deepEqual(receiver.counts.dropped, { gave_up: 0, queue_full: 0, shutdown: 3 });
  assert.equal(hook.arrivals.length, 1, "an event enqueued after stop() was sent");
  receiver.stop();
  assert.equal(receiver.counts.dropped.shutdown, 3, "a second stop() counts again");
});

Deno.test("stop() while a delivery is under way counts it once, as shutdown, whatever the answer, and idle() does not wait out a retry", async () => {
  for (const status of [500, 204]) {
    let release: (() => void) | undefined;
    const { promise: arrived, resolve: arrive } = Promise.withResolvers<void>();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (r) => {
      await r.text();
      const { promise, resolve } = Promise.withResolvers<void>();
      release = resolve;
      arrive();
      await promise;
      return new Response(null, { status });
    });
    const receiver = new WebhookReceiver({
      url: `http://127.0.0.1:${server.addr.port}/`,
      name: "1",
      secret: new Uint8Array(24),
      retryForMs: 60_000,
      maxQueue: 10,
      timeoutMs: 5_000,
      retryBaseMs: 10_000,
    });
    receiver.enqueue(webhookEvent("key.revoked", { key: "a" }));
    await arrived;
    receiver.stop();
    release!();
    const started = performance.now();
    await receiver.idle();
    assert.ok(performance.now() - started < 1000, `idle() took ${performance.now() - started} ms`);
    assert.equal(receiver.queued, 0);
    assert.deepEqual(receiver.counts, {
      delivered: 0,
      failedAttempts: 0,
      dropped: { gave_up: 0, queue_full: 0, shutdown: 1 },
    }, `answer ${status}`);
    await server.shutdown();
  }
});

Deno.test("an event queued just as the delivery loop ends is delivered, not left waiting for the next", async () => {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (r) => {
    await r.text();
    hits++;
    return new Response(null, { status: 204 });
  });
  const receiver = new WebhookReceiver({
    url: `http://127.0.0.1:${server.addr.port}/`,
    name: "1",
    secret: new Uint8Array(24),
    retryForMs: 5_000,
    maxQueue: 10,
    timeoutMs: 5_000,
  });
  // The second event is queued a few microtasks after the first is counted:
  // the moment the loop finds the queue empty.
  let delivered = 0;
  Object.defineProperty(receiver.counts, "delivered", {
    get: () => delivered,
    set: (value: number) => {
      delivered = value;
      if (value !== 1) return;
      for (const ticks of [1, 2, 3, 4]) {
        let hop = () => receiver.enqueue(webhookEvent("key.revoked", { key: `later ${ticks}` }));
        for (let i = 0; i < ticks; i++) {
          const next = hop;
          hop = () => queueMicrotask(next);
        }
        hop();
      }
    },
  });
  receiver.enqueue(webhookEvent("key.revoked", { key: "first" }));
  await receiver.idle();
  assert.equal(receiver.queued, 0);
  assert.equal(hits, 5);
  receiver.stop();
  await server.shutdown();
});
