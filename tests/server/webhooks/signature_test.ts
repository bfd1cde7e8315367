import assert from "node:assert/strict";
import {
  parseWebhookSecret,
  signWebhook,
  WebhookSecretError,
} from "../../../lib/server/webhooks/signature.ts";

// The example of the Standard Webhooks specification (standardwebhooks.com).
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
} as const;

function base64Of(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** `fn` throws a WebhookSecretError whose message never contains `secret`; returns the message. */
function refusal(fn: () => unknown, secret: string): string {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof WebhookSecretError, `expected a WebhookSecretError, got ${caught}`);
  assert.equal(caught.name, "WebhookSecretError");
  assert.ok(!caught.message.includes(secret), `the message quotes the secret: ${caught.message}`);
  const encoded = secret.trim().replace(/^whsec_/, "");
  assert.ok(!caught.message.includes(encoded), `the message quotes the secret: ${caught.message}`);
  return caught.message;
}

Deno.test("the Standard Webhooks example secret, id, timestamp and body sign to the standard's signature", async () => {
  const secret = parseWebhookSecret(VECTOR.secret, "example");
  assert.equal(secret.length, 24);
  assert.equal(
    await signWebhook(secret, VECTOR.id, VECTOR.timestamp, VECTOR.body),
    VECTOR.signature,
  );
});

Deno.test("a secret without the whsec_ prefix is the same bytes and signs the same", async () => {
  const prefixed = parseWebhookSecret(VECTOR.secret, "prefixed");
  const bare = parseWebhookSecret(VECTOR.secret.slice("whsec_".length), "bare");
  assert.deepEqual(bare, prefixed);
  assert.equal(await signWebhook(bare, VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
});

Deno.test("a trailing newline or spaces around the secret are ignored", () => {
  const expected = parseWebhookSecret(VECTOR.secret, "plain");
  for (
    const text of [
      `${VECTOR.secret}\n`,
      `${VECTOR.secret}\r\n`,
      `${VECTOR.secret}  `,
      `  ${VECTOR.secret}\n\n`,
    ]
  ) {
    assert.deepEqual(parseWebhookSecret(text, "padded"), expected, JSON.stringify(text));
  }
});

Deno.test("secrets of 24 and of 64 bytes are accepted, as the given bytes", () => {
  for (const length of [24, 32, 64]) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    assert.deepEqual(parseWebhookSecret(`whsec_${base64Of(bytes)}`, "file"), bytes);
  }
});

Deno.test("a secret that is not base64 is refused, naming its source and never quoting it", () => {
  const valid = base64Of(crypto.getRandomValues(new Uint8Array(32)));
  for (
    const text of [
      `whsec_${valid.slice(0, 20)}*${valid.slice(21)}`,
      `whsec_${valid.slice(0, -3)}`, // 41 characters: a length base64 never has
      `whsec_${valid}é`,
      "not base64 at all, but a passphrase",
    ]
  ) {
    const message = refusal(() => parseWebhookSecret(text, "/etc/switchboard/hook-secret"), text);
    assert.match(message, /^\/etc\/switchboard\/hook-secret does not hold a webhook secret/);
  }
});

Deno.test("a secret of 23 or of 65 bytes is refused, saying its length and never quoting it", () => {
  for (const length of [23, 65]) {
    const text = `whsec_${base64Of(crypto.getRandomValues(new Uint8Array(length)))}`;
    const message = refusal(() => parseWebhookSecret(text, "SWITCHBOARD_WEBHOOK_SECRET"), text);
    assert.equal(
      message,
      `SWITCHBOARD_WEBHOOK_SECRET: a webhook secret is 24 to 64 bytes (it has ${length})`,
    );
  }
});

Deno.test("a change of one byte of the body, the id or the timestamp changes the signature", async () => {
  const secret = parseWebhookSecret(VECTOR.secret, "example");
  const sign = (id: string, timestamp: number, body: string) =>
    signWebhook(secret, id, timestamp, body);
  const changed = [
    await sign(VECTOR.id, VECTOR.timestamp, '{"test": 2432232315}'),
    await sign(VECTOR.id, VECTOR.timestamp, `${VECTOR.body} `),
    await sign("msg_p5jXN8AQM9LWM0D4loKWxJeK", VECTOR.timestamp, VECTOR.body),
    await sign(VECTOR.id, VECTOR.timestamp + 1, VECTOR.body),
    await sign(VECTOR.id, VECTOR.timestamp - 1, VECTOR.body),
  ];
  for (const signature of changed) {
    assert.match(signature, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(signature, VECTOR.signature);
  }
  assert.equal(new Set(changed).size, changed.length);
  // The same inputs sign the same, so the differences above come from the change alone.
  assert.equal(await sign(VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
});

Deno.test("a change of one byte of the secret changes the signature", async () => {
  const secret = parseWebhookSecret(VECTOR.secret, "example");
  const other = new Uint8Array(secret);
  other[0] = other[0]! ^ 1;
  assert.notEqual(
    await signWebhook(other, VECTOR.id, VECTOR.timestamp, VECTOR.body),
    VECTOR.signature,
  );
});
