/**
 * A webhook receiver for tests: a real HTTP server on a free loopback port
 * that records what it gets, checks each signature the Standard Webhooks
 * way, and can be told to fail (500) or stall (never answer) for a while.
 */

import { within } from "./helpers.ts";

/** One delivery as the receiver got it. */
export interface Delivery {
  readonly id: string;
  readonly timestamp: number;
  readonly signatureValid: boolean;
  readonly body: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
}

/** How the receiver answers now. */
export type Mode = "ok" | "fail" | "stall";

export class WebhookReceiverServer implements AsyncDisposable {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #secret: Uint8Array;
  /** Every delivery accepted (2xx), in order. */
  readonly accepted: Delivery[] = [];
  /** How many requests came, accepted or not. */
  attempts = 0;
  mode: Mode = "ok";
  readonly #waiters: (() => void)[] = [];
  readonly #stalled: (() => void)[] = [];

  constructor(secret: Uint8Array) {
    this.#secret = secret;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => this.#handle(request),
    );
  }

  /** The URL to give `--webhook`. */
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/hooks/switchboard?secret-looking=1`;
  }

  /** Waits until `count` deliveries were accepted, within `ms`. */
  async accepting(count: number, ms = 10_000): Promise<Delivery[]> {
    await within(
      new Promise<void>((resolve) => {
        const check = () => this.accepted.length >= count ? resolve() : this.#waiters.push(check);
        check();
      }),
      ms,
      `${count} webhook deliveries (got ${this.accepted.length})`,
    );
    return this.accepted.slice(0, count);
  }

  /** The types of the events accepted so far. */
  types(): string[] {
    return this.accepted.map((delivery) => delivery.body.type);
  }

  async #handle(request: Request): Promise<Response> {
    this.attempts++;
    const body = await request.text();
    if (this.mode === "fail") return new Response("down", { status: 500 });
    if (this.mode === "stall") {
      await new Promise<void>((resolve) => this.#stalled.push(resolve));
      return new Response("late", { status: 500 });
    }
    const id = request.headers.get("webhook-id") ?? "";
    const timestamp = Number(request.headers.get("webhook-timestamp"));
    const signature = request.headers.get("webhook-signature") ?? "";
    this.accepted.push({
      id,
      timestamp,
      signatureValid: signature === await this.#sign(id, timestamp, body),
      body: JSON.parse(body),
    });
    for (const wake of this.#waiters.splice(0)) wake();
    return new Response(null, { status: 204 });
  }

  #sign(id: string, timestamp: number, body: string): Promise<string> {
    return standardSignature(this.#secret, id, timestamp, body);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const release of this.#stalled.splice(0)) release();
    await this.#server.shutdown();
  }
}

/**
 * The Standard Webhooks signature of a delivery, computed here rather than
 * by the module under test: `v1,` and base64 of HMAC-SHA256 over
 * `<id>.<timestamp>.<body>`.
 */
export async function standardSignature(
  secret: Uint8Array,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)),
  );
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

/** A fresh secret, and how it is written in a file or variable (`whsec_` and base64). */
export function webhookSecret(): { bytes: Uint8Array; text: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return { bytes, text: `whsec_${btoa(String.fromCharCode(...bytes))}` };
}
