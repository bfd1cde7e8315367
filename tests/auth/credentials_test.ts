import assert from "node:assert/strict";
import { checkKey, presented, WWW_AUTHENTICATE } from "../../lib/auth/credentials.ts";
import { generateKey, hashKey } from "../../lib/auth/key_file.ts";
import { Keyring } from "../../lib/auth/keyring.ts";

const key = generateKey();
const keyring = new Keyring([
  { label: "acme", sha256: hashKey(key), createdAt: "2026-11-26T03:41:22.123Z" },
]);

Deno.test("presented() reads a bearer key, or a browser's key subprotocol, Authorization first", () => {
  assert.deepEqual(presented(new Headers({ authorization: `Bearer ${key}` })), {
    key,
    offersSubprotocol: false,
    keyInSubprotocol: false,
  });
  assert.equal(presented(new Headers({ authorization: `bearer  ${key} ` })).key, key);
  assert.deepEqual(
    presented(new Headers({ "sec-websocket-protocol": `switchboard,switchboard.key.${key}` })),
    { key, offersSubprotocol: true, keyInSubprotocol: true },
  );
  const both = presented(
    new Headers({ authorization: "Bearer a", "sec-websocket-protocol": "switchboard.key.b" }),
  );
  assert.equal(both.key, "a");
  assert.equal(both.keyInSubprotocol, false);
  assert.equal(presented(new Headers({ authorization: `Basic ${btoa("a:b")}` })).key, undefined);
  assert.equal(
    presented(new Headers({ "sec-websocket-protocol": "switchboard.key." })).key,
    undefined,
  );
  assert.equal(presented(new Headers()).key, undefined);
});

Deno.test("checkKey() admits a known key by header or subprotocol", () => {
  for (
    const headers of [
      new Headers({ authorization: `Bearer ${key}` }),
      new Headers({ "sec-websocket-protocol": `switchboard, switchboard.key.${key}` }),
    ]
  ) {
    const verdict = checkKey(headers, keyring);
    assert.ok("record" in verdict);
    assert.equal(verdict.record.label, "acme");
  }
});

Deno.test("checkKey() answers 401 with a challenge for a missing or unknown key, and never echoes it", () => {
  const wrong = generateKey();
  const missing = checkKey(new Headers(), keyring);
  const unknown = checkKey(new Headers({ authorization: `Bearer ${wrong}` }), keyring);
  assert.deepEqual(missing, {
    status: 401,
    reason: "API key required",
    headers: { "www-authenticate": WWW_AUTHENTICATE },
  });
  assert.ok("status" in unknown && unknown.status === 401);
  assert.equal(unknown.reason, "API key not valid");
  assert.ok(!JSON.stringify(unknown).includes(wrong));
});

Deno.test("checkKey() refuses a key subprotocol offered without switchboard, without naming the key", () => {
  const verdict = checkKey(
    new Headers({ "sec-websocket-protocol": `switchboard.key.${key}` }),
    keyring,
  );
  assert.ok("status" in verdict && verdict.status === 400);
  assert.ok(!JSON.stringify(verdict).includes(key));
});
