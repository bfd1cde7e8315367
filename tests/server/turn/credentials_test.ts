import assert from "node:assert/strict";
import {
  TurnCredentials,
  turnKey,
  turnPassword,
  turnUsername,
} from "../../../lib/server/turn/credentials.ts";

// Computed apart from Web Crypto, with:
//   printf '%s' '1700000000:3f1c2a4e-0000-4000-8000-000000000001' |
//     openssl dgst -sha1 -hmac 'correct horse battery staple' -binary | base64
const VECTOR = {
  secret: "correct horse battery staple",
  username: "1700000000:3f1c2a4e-0000-4000-8000-000000000001",
  password: "qMRxDqlu0FcnYJY9ztkB1jBozqw=",
};

Deno.test("turnPassword() is base64(HMAC-SHA1(secret, username)), as openssl computes it", async () => {
  assert.equal(await turnPassword(await turnKey(VECTOR.secret), VECTOR.username), VECTOR.password);
});

Deno.test("turnPassword() changes with any change to the username or the secret", async () => {
  const key = await turnKey(VECTOR.secret);
  assert.notEqual(
    await turnPassword(key, VECTOR.username.replace("1700", "1800")),
    VECTOR.password,
  );
  assert.notEqual(
    await turnPassword(await turnKey(`${VECTOR.secret}!`), VECTOR.username),
    VECTOR.password,
  );
});

Deno.test("turnUsername() is the expiry in whole Unix seconds, a colon and the client id", () => {
  assert.equal(turnUsername("id", 3600, 1_699_996_400_999), "1700000000:id");
  assert.equal(turnUsername("id", 1, 0), "1:id");
});

Deno.test("TurnCredentials issues every URL with a username and password per client", async () => {
  const turn = await TurnCredentials.create({
    urls: ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"],
    secret: VECTOR.secret,
    ttlSeconds: 3600,
  });
  const now = 1_699_996_400_000;
  assert.deepEqual(await turn.iceServers("3f1c2a4e-0000-4000-8000-000000000001", now), [{
    urls: ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"],
    username: VECTOR.username,
    credential: VECTOR.password,
  }]);
  const [other] = await turn.iceServers("another-client", now);
  assert.equal(other?.username, "1700000000:another-client");
  assert.notEqual(other?.credential, VECTOR.password);
});

Deno.test("TurnCredentials.create() refuses no URL, an empty secret and a lifetime under 1 s", async () => {
  const good = { urls: ["turn:t.example"], secret: "s", ttlSeconds: 60 };
  await assert.rejects(TurnCredentials.create({ ...good, urls: [] }), TypeError);
  await assert.rejects(TurnCredentials.create({ ...good, secret: "" }), TypeError);
  await assert.rejects(TurnCredentials.create({ ...good, ttlSeconds: 0 }), TypeError);
});
