import assert from "node:assert/strict";
import { API_KEY_ENV, readApiKey, TOKEN_ENV, unauthorizedReason } from "../../lib/cli/api_key.ts";
import { generateKey } from "../../lib/protocol/api_key_format.ts";

Deno.test("readApiKey() reads a key file, trimming the line ending, and never quotes a bad one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-key-" });
  try {
    const key = generateKey();
    await Deno.writeTextFile(`${dir}/key`, `  ${key}\r\n`);
    assert.equal(await readApiKey(`${dir}/key`), key);
    await Deno.writeTextFile(`${dir}/bad`, "secret-looking-thing\n");
    await assert.rejects(readApiKey(`${dir}/bad`), (error: Error) => {
      assert.match(error.message, /bad does not hold a Switchboard API key/);
      assert.ok(!error.message.includes("secret-looking-thing"));
      return true;
    });
    await assert.rejects(readApiKey(`${dir}/missing`), /cannot read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readApiKey() without a file takes SWITCHBOARD_API_KEY, or nothing when it is unset", async () => {
  const key = generateKey();
  Deno.env.set(API_KEY_ENV, key);
  try {
    assert.equal(await readApiKey(undefined), key);
  } finally {
    Deno.env.delete(API_KEY_ENV);
  }
  assert.equal(await readApiKey(undefined), undefined);
});

Deno.test("unauthorizedReason() says how to send a key, or that the key was refused", () => {
  assert.match(unauthorizedReason(false), /--allow-env=SWITCHBOARD_API_KEY.*--api-key-file FILE/);
  assert.equal(
    unauthorizedReason(true),
    "the server refused the API key (401: not valid, or revoked)",
  );
});

const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl";

Deno.test("readApiKey() takes an access token from SWITCHBOARD_TOKEN or a file, and refuses a non-token there", async () => {
  Deno.env.set(TOKEN_ENV, JWT);
  try {
    assert.equal(await readApiKey(undefined), JWT);
    Deno.env.set(TOKEN_ENV, "sbk_not-a-token");
    await assert.rejects(readApiKey(undefined), (error: Error) => {
      assert.equal(
        error.message,
        "SWITCHBOARD_TOKEN does not hold an access token (a JWT: three base64url parts)",
      );
      return true;
    });
  } finally {
    Deno.env.delete(TOKEN_ENV);
  }
  const dir = await Deno.makeTempDir({ prefix: "switchboard-token-" });
  try {
    await Deno.writeTextFile(`${dir}/token`, `${JWT}\n`);
    assert.equal(await readApiKey(`${dir}/token`), JWT);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unauthorizedReason() says a refused access token is one, and where to look", () => {
  assert.match(unauthorizedReason(true, true), /refused the access token \(401: expired/);
});
