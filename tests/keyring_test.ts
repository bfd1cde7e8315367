import assert from "node:assert/strict";
import { generateKey, hashKey, type KeyRecord } from "../lib/auth/key_file.ts";
import { Keyring } from "../lib/auth/keyring.ts";

const AT = "2026-11-26T03:41:22.123Z";

function record(label: string, key: string): KeyRecord {
  return { label, sha256: hashKey(key), createdAt: AT };
}

Deno.test("Keyring.find() matches each key to its own entry and nothing else", () => {
  const keys = Array.from({ length: 5 }, generateKey);
  const keyring = new Keyring(keys.map((key, i) => record(`k${i}`, key)));
  assert.equal(keyring.size, 5);
  keys.forEach((key, i) => assert.equal(keyring.find(key)?.label, `k${i}`));
  assert.equal(keyring.find(generateKey()), undefined);
  assert.equal(keyring.find(""), undefined);
  // A key's hash is not the key.
  assert.equal(keyring.find(hashKey(keys[0]!)), undefined);
  assert.equal(keyring.find(keys[0]! + "x"), undefined);
});

Deno.test("Keyring.byHash() finds a key by the hash a connection keeps", () => {
  const key = generateKey();
  const keyring = new Keyring([record("acme", key)]);
  assert.equal(keyring.byHash(hashKey(key))?.label, "acme");
  assert.equal(keyring.byHash(hashKey(generateKey())), undefined);
  assert.equal(new Keyring([]).find(key), undefined);
});
