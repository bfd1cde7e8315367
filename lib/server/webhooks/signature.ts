/**
 * Webhook signatures the Standard Webhooks way (standardwebhooks.com): an
 * HMAC-SHA256, with Web Crypto, over `<webhook-id>.<webhook-timestamp>.<body>`,
 * sent as `webhook-signature: v1,<base64>`. The secret is base64, usually
 * written with a `whsec_` prefix, and shared with each receiver. Pure
 * computation: no message ever quotes the secret.
 *
 * @module
 */

/** The shortest secret accepted, in bytes (the standard asks for 24 to 64). */
export const MIN_SECRET_BYTES = 24;

/** The longest secret accepted, in bytes. */
export const MAX_SECRET_BYTES = 64;

/** The prefix the standard gives secrets, so a leaked one is easy to spot. */
export const SECRET_PREFIX = "whsec_";

/** A secret that cannot be used; the message never quotes it. */
export class WebhookSecretError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "WebhookSecretError";
  }
}

/**
 * The secret's bytes, from `whsec_<base64>` (or the base64 alone).
 *
 * @param source Where it came from, for messages (a file name, a variable).
 * @throws {WebhookSecretError} When it is not base64 of 24 to 64 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWebhookSecret } from "./signature.ts";
 * assert.equal(parseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "f").length, 24);
 * assert.throws(() => parseWebhookSecret("whsec_c2hvcnQ=", "f"), /24 to 64 bytes/);
 * ```
 */
export function parseWebhookSecret(text: string, source: string): Uint8Array {
  const encoded = text.trim().replace(/^whsec_/, "");
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  } catch {
    throw new WebhookSecretError(`${source} does not hold a webhook secret (whsec_ and base64)`);
  }
  if (bytes.length < MIN_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) {
    throw new WebhookSecretError(
      `${source}: a webhook secret is ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes (it has ${bytes.length})`,
    );
  }
  return bytes;
}

/**
 * Signs one delivery: the `webhook-signature` header's value.
 *
 * @param timestamp Seconds since the epoch, as `webhook-timestamp` says it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWebhookSecret, signWebhook } from "./signature.ts";
 * // The standard's own example.
 * const secret = parseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "example");
 * const signature = await signWebhook(
 *   secret,
 *   "msg_p5jXN8AQM9LWM0D4loKWxJek",
 *   1614265330,
 *   '{"test": 2432232314}',
 * );
 * assert.equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
 * ```
 */
export async function signWebhook(
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
