/**
 * Delivery to one webhook receiver: a bounded queue, one request at a time
 * in the order events happened, each retried with backoff until it is
 * delivered or its time is up (then counted as dropped and logged once per
 * outage). Signaling only ever appends to the queue: a slow or dead
 * receiver costs it a bounded array, never a wait.
 *
 * @module
 */

import { backoffDelay } from "../../shared/backoff.js";
import { getLogger } from "../../runtime/deps.ts";
import { errorText } from "../../runtime/safe_text.ts";
import type { WebhookEvent } from "./events.ts";
import { signWebhook } from "./signature.ts";

const logger = getLogger(["switchboard", "webhooks"]);

/** Why an event was given up. */
export type DropReason = "gave_up" | "queue_full" | "shutdown";

/** How one receiver is reached, and how hard the server tries. */
export interface ReceiverOptions {
  /** Where events are POSTed. */
  readonly url: string;
  /** How the receiver is named in logs and metrics: its number and origin, never its path or query. */
  readonly name: string;
  /** The secret deliveries are signed with. */
  readonly secret: Uint8Array;
  /** How long an event is retried after it happened, in milliseconds. */
  readonly retryForMs: number;
  /** The most events waiting; more are dropped (`queue_full`). */
  readonly maxQueue: number;
  /** How long one attempt may take, in milliseconds. */
  readonly timeoutMs: number;
  /** The first wait between attempts, in milliseconds; it doubles up to 30 s. */
  readonly retryBaseMs?: number;
}

/** What a receiver has done, for `/metrics`. */
export interface ReceiverCounts {
  delivered: number;
  failedAttempts: number;
  dropped: Record<DropReason, number>;
}

interface Queued {
  readonly event: WebhookEvent;
  readonly body: string;
  readonly deadline: number;
}

/**
 * One receiver's queue and its delivery loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebhookReceiver } from "./receiver.ts";
 * import { webhookEvent } from "./events.ts";
 * const bodies: string[] = [];
 * const server = Deno.serve({ port: 0, onListen() {} }, async (request) => {
 *   bodies.push(await request.text());
 *   return new Response(null, { status: 204 });
 * });
 * const receiver = new WebhookReceiver({
 *   url: `http://127.0.0.1:${server.addr.port}/hook`,
 *   name: "1",
 *   secret: new Uint8Array(24),
 *   retryForMs: 5000,
 *   maxQueue: 10,
 *   timeoutMs: 5000,
 * });
 * receiver.enqueue(webhookEvent("key.revoked", { key: "acme" }));
 * await receiver.idle();
 * assert.equal(JSON.parse(bodies[0]!).data.key, "acme");
 * assert.equal(receiver.counts.delivered, 1);
 * receiver.stop();
 * await server.shutdown();
 * ```
 */
export class WebhookReceiver {
  readonly #options: ReceiverOptions;
  readonly #queue: Queued[] = [];
  #head = 0;
  #running: Promise<void> = Promise.resolve();
  // Set and cleared in the same turn as the loop's own checks: an event queued
  // right as the loop ends starts a new one rather than wait for the next.
  #active = false;
  #stopped = false;
  #wake: (() => void) | undefined;
  // An outage: from the first failed attempt to the next delivery.
  #failing = false;
  #droppedInOutage = 0;
  #queueFullLogged = false;
  readonly counts: ReceiverCounts = {
    delivered: 0,
    failedAttempts: 0,
    dropped: { gave_up: 0, queue_full: 0, shutdown: 0 },
  };

  constructor(options: ReceiverOptions) {
    this.#options = options;
  }

  /** Events waiting, the one being delivered included. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Appends an event; never waits. Past `maxQueue` it is dropped and counted. */
  enqueue(event: WebhookEvent): void {
    if (this.#stopped) return;
    if (this.queued >= this.#options.maxQueue) {
      this.counts.dropped.queue_full++;
      if (!this.#queueFullLogged) {
        this.#queueFullLogged = true;
        logger.warn(
          "Webhook {receiver}: {max} events waiting; dropping new ones until it catches up",
          { receiver: this.#options.name, max: this.#options.maxQueue },
        );
      }
      return;
    }
    this.#queue.push({
      event,
      body: JSON.stringify(event),
      deadline: performance.now() + this.#options.retryForMs,
    });
    if (!this.#active) {
      this.#active = true;
      this.#running = this.#run();
    }
  }

  /** Resolves once nothing is waiting (for tests and a graceful stop). */
  async idle(): Promise<void> {
    while (this.#active) await this.#running;
  }

  /** Stops delivering; what is left, the event under way included, counts as dropped (`shutdown`). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.counts.dropped.shutdown += this.queued;
    this.#queue.length = 0;
    this.#head = 0;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    // One function, so the check that ends the loop and the reset of
    // `#active` happen in the same turn.
    try {
      while (!this.#stopped && this.queued > 0) {
        await this.#deliver(this.#queue[this.#head]!);
        // Stopped meanwhile: the queue was emptied and its events counted.
        if (this.#stopped) return;
        this.#head++;
        // Compact now and then rather than shift each time.
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue.splice(0, this.#head);
          this.#head = 0;
        }
        if (this.queued < this.#options.maxQueue / 2) this.#queueFullLogged = false;
      }
    } finally {
      this.#active = false;
    }
  }

  async #deliver(item: Queued): Promise<void> {
    for (let attempt = 1; !this.#stopped; attempt++) {
      if (performance.now() >= item.deadline) return this.#giveUp(item, attempt - 1);
      const failure = await this.#attempt(item);
      // Counted as dropped when the stop came; an answer after it changes nothing.
      if (this.#stopped) return;
      if (failure === undefined) return this.#delivered();
      this.counts.failedAttempts++;
      if (!this.#failing) {
        this.#failing = true;
        logger.warn("Webhook {receiver} failing ({error}); retrying each event for {seconds} s", {
          receiver: this.#options.name,
          error: failure,
          seconds: this.#options.retryForMs / 1000,
        });
      }
      const wait = backoffDelay(attempt, this.#options.retryBaseMs ?? 500, 30_000);
      await this.#sleep(Math.min(wait, Math.max(0, item.deadline - performance.now())));
    }
  }

  /** One POST: `undefined` when the receiver answered 2xx, else why not. */
  async #attempt(item: Queued): Promise<string | undefined> {
    const { url, secret, timeoutMs } = this.#options;
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(url, {
        method: "POST",
        body: item.body,
        // A receiver's redirect is a failure, never a new address for events.
        redirect: "manual",
        headers: {
          "content-type": "application/json",
          "user-agent": "switchboard-webhooks",
          "webhook-id": item.event.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": await signWebhook(secret, item.event.id, timestamp, item.body),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return error instanceof DOMException && error.name === "TimeoutError"
        ? `no answer within ${timeoutMs / 1000} s`
        : errorText(error).replace(/https?:\/\/\S+/g, "(the receiver)");
    }
  }

  #delivered(): void {
    this.counts.delivered++;
    if (!this.#failing) return;
    logger.info("Webhook {receiver} delivers again; {dropped} events were dropped meanwhile", {
      receiver: this.#options.name,
      dropped: this.#droppedInOutage,
    });
    this.#failing = false;
    this.#droppedInOutage = 0;
  }

  #giveUp(item: Queued, attempts: number): void {
    this.counts.dropped.gave_up++;
    if (this.#droppedInOutage++ === 0) {
      logger.warn(
        "Webhook {receiver}: dropped {type} event {id} after {attempts} attempts; later drops are counted in /metrics",
        {
          receiver: this.#options.name,
          type: item.event.type,
          id: item.event.id,
          attempts,
        },
      );
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
