import assert from "node:assert/strict";
import { API_KEY_ENV, readApiKey, unauthorizedReason } from "../../lib/cli/api_key.ts";
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
