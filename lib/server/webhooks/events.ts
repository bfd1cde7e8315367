/**
 * What the server tells webhook receivers, declared once: each event type
 * and the fields of its `data`. Pure: an event is built from what happened
 * and a clock, and never carries a secret (no key, token or address).
 *
 * @module
 */

/** Every event type a receiver may get. */
export const WebhookEventType = {
  /** `{client_id, tenant?, user?, key?}`: a client registered (a new session, not a resume). */
  ClientConnected: "client.connected",
  /** `{client_id, tenant?, user?, key?, code, reason}`: its session ended. */
  ClientDisconnected: "client.disconnected",
  /** `{clients: [initiator, responder], by}`: two clients paired (`by`: `request`, `code`, `device`). */
  PairCreated: "pair.created",
  /** `{clients: [a, b], reason}`: a pair ended (`unpaired`, `disconnected`). */
  PairEnded: "pair.ended",
  /** `{key}`: an API key was taken out of the keys file (its label). */
  KeyRevoked: "key.revoked",
  /** `{reason, skipped}`: a handshake's access token was refused; `skipped` since the last such event. */
  TokenRejected: "token.rejected",
} as const;

/** An event type. */
export type WebhookEventType = typeof WebhookEventType[keyof typeof WebhookEventType];

/** Who a client is, as events name it: its tenant, and its token's `sub` or its key's label. */
export interface ClientIdentity {
  /** The tenant: the `tenant` claim of its token, or its key's label; absent on an open server. */
  tenant?: string;
  /** Its token's `sub`. */
  user?: string;
  /** Its API key's label. */
  key?: string;
}

/** One event, as the receiver gets it in the body (the Standard Webhooks payload shape). */
export interface WebhookEvent {
  /** `msg_` and a random id, the same in `webhook-id` and on every retry. */
  readonly id: string;
  /** What happened. */
  readonly type: WebhookEventType;
  /** When, in ISO 8601. */
  readonly timestamp: string;
  /** The details. */
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Builds an event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { webhookEvent } from "./events.ts";
 * const event = webhookEvent("key.revoked", { key: "acme" }, new Date(0));
 * assert.match(event.id, /^msg_[0-9a-f]{32}$/);
 * assert.equal(event.timestamp, "1970-01-01T00:00:00.000Z");
 * ```
 */
export function webhookEvent(
  type: WebhookEventType,
  data: Record<string, unknown>,
  now: Date = new Date(),
): WebhookEvent {
  return {
    id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
    type,
    timestamp: now.toISOString(),
    data,
  };
}
