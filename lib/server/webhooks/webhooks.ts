/**
 * The server's webhooks: each event goes to every receiver (`--webhook`),
 * under one id, through that receiver's own queue (`receiver.ts`). What
 * strangers can cause at will (refused tokens) is capped, so it can never
 * crowd out the events of real clients.
 *
 * @module
 */

import { type WebhookEvent, webhookEvent, type WebhookEventType } from "./events.ts";
import { type DropReason, WebhookReceiver } from "./receiver.ts";

/** How long events are retried by default, in seconds. */
export const DEFAULT_RETRY_FOR_S = 300;

/** How many events may wait for one receiver by default. */
export const DEFAULT_MAX_QUEUE = 10_000;

/** `token.rejected` events at most, per window below; the rest are counted in the next. */
const REJECTED_PER_WINDOW = 10;
const REJECTED_WINDOW_MS = 10_000;

/** Where events go, and how hard the server tries. */
export interface WebhookOptions {
  /** The receivers' URLs. */
  readonly urls: readonly string[];
  /** The secret every delivery is signed with. */
  readonly secret: Uint8Array;
  /** How long an event is retried, in milliseconds. */
  readonly retryForMs?: number;
  /** How many events may wait for one receiver. */
  readonly maxQueue?: number;
  /** How long one attempt may take, in milliseconds. */
  readonly timeoutMs?: number;
  /** The first wait between attempts, in milliseconds. */
  readonly retryBaseMs?: number;
}

/**
 * Sends events to every receiver.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Webhooks } from "./webhooks.ts";
 * const hooks = new Webhooks({ urls: ["https://hooks.example/a?token=x"], secret: new Uint8Array(24) });
 * assert.deepEqual(hooks.names, ["1 (https://hooks.example)"]);
 * hooks.stop();
 * ```
 */
export class Webhooks {
  readonly #receivers: WebhookReceiver[];
  /** How each receiver is named in logs and metrics: its number and origin. */
  readonly names: readonly string[];
  #rejectedWindowStart = -Infinity;
  #rejectedInWindow = 0;
  #rejectedSkipped = 0;

  constructor(options: WebhookOptions) {
    // A URL's path or query may hold a secret of the receiver's: only its origin is shown.
    this.names = options.urls.map((url, index) => `${index + 1} (${new URL(url).origin})`);
    this.#receivers = options.urls.map((url, index) =>
      new WebhookReceiver({
        url,
        name: this.names[index]!,
        secret: options.secret,
        retryForMs: options.retryForMs ?? DEFAULT_RETRY_FOR_S * 1000,
        maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
        timeoutMs: options.timeoutMs ?? 10_000,
        ...(options.retryBaseMs === undefined ? {} : { retryBaseMs: options.retryBaseMs }),
      })
    );
  }

  /** Queues an event of `type` for every receiver; never waits. */
  emit(type: WebhookEventType, data: Record<string, unknown>): WebhookEvent {
    const event = webhookEvent(type, data);
    for (const receiver of this.#receivers) receiver.enqueue(event);
    return event;
  }

  /**
   * A handshake's token was refused: at most ten events per ten seconds,
   * each saying how many were skipped before it.
   */
  tokenRejected(reason: string, now: number = performance.now()): void {
    if (now - this.#rejectedWindowStart >= REJECTED_WINDOW_MS) {
      this.#rejectedWindowStart = now;
      this.#rejectedInWindow = 0;
    }
    if (this.#rejectedInWindow >= REJECTED_PER_WINDOW) {
      this.#rejectedSkipped++;
      return;
    }
    this.#rejectedInWindow++;
    this.emit("token.rejected", { reason, skipped: this.#rejectedSkipped });
    this.#rejectedSkipped = 0;
  }

  /** Resolves once every receiver has nothing waiting. */
  async idle(): Promise<void> {
    await Promise.all(this.#receivers.map((receiver) => receiver.idle()));
  }

  /** Stops every receiver; what is left is counted as dropped. */
  stop(): void {
    for (const receiver of this.#receivers) receiver.stop();
  }

  /** The webhook families for `/metrics`, one sample per receiver (by its number). */
  metricsText(): string {
    const family = (
      name: string,
      type: "counter" | "gauge",
      help: string,
      samples: (receiver: WebhookReceiver) => [string, number][],
    ) => [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} ${type}`,
      ...this.#receivers.flatMap((receiver, index) =>
        samples(receiver).map(([labels, value]) =>
          `${name}{receiver="${index + 1}"${labels}} ${value}`
        )
      ),
    ];
    return [
      ...family(
        "switchboard_webhook_delivered_total",
        "counter",
        "Events a webhook receiver accepted (2xx).",
        (r) => [["", r.counts.delivered]],
      ),
      ...family(
        "switchboard_webhook_failed_attempts_total",
        "counter",
        "Deliveries that failed, to be retried or given up.",
        (r) => [["", r.counts.failedAttempts]],
      ),
      ...family(
        "switchboard_webhook_dropped_total",
        "counter",
        "Events never delivered: out of time (gave_up), queue full, or shutdown.",
        (r) =>
          (Object.entries(r.counts.dropped) as [DropReason, number][]).map((
            [reason, count],
          ) => [`,reason="${reason}"`, count]),
      ),
      ...family(
        "switchboard_webhook_queued",
        "gauge",
        "Events waiting for a webhook receiver.",
        (r) => [["", r.queued]],
      ),
    ].join("\n") + "\n";
  }
}
