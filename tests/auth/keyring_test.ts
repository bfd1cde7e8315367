import assert from "node:assert/strict";
import { generateKey, hashKey, type KeyRecord } from "../../lib/auth/key_file.ts";
import { Keyring } from "../../lib/auth/keyring.ts";

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

/** `sha256` (hex) with the byte at `index` changed in the bits of `mask` (the lowest by default). */
function withByteChanged(sha256: string, index: number, mask = 0x01): string {
  const byte = parseInt(sha256.slice(2 * index, 2 * index + 2), 16) ^ mask;
  return sha256.slice(0, 2 * index) + byte.toString(16).padStart(2, "0") +
    sha256.slice(2 * index + 2);
}

Deno.test("Keyring.find() refuses a key whose stored hash differs from its own only in the last byte", () => {
  const key = generateKey();
  const stored = withByteChanged(hashKey(key), 31);
  assert.notEqual(stored, hashKey(key));
  assert.equal(stored.slice(0, 62), hashKey(key).slice(0, 62));
  const keyring = new Keyring([{ label: "near", sha256: stored, createdAt: AT }]);
  assert.equal(keyring.find(key), undefined);
});

Deno.test("Keyring.find() refuses a key whose stored hash differs from its own only in a middle byte", () => {
  const key = generateKey();
  const stored = withByteChanged(hashKey(key), 16);
  assert.equal(
    stored.slice(0, 32) + stored.slice(34),
    hashKey(key).slice(0, 32) + hashKey(key).slice(34),
  );
  const keyring = new Keyring([{ label: "near", sha256: stored, createdAt: AT }]);
  assert.equal(keyring.find(key), undefined);
});

Deno.test("Keyring.find() compares every byte and every bit: a stored hash one bit off anywhere is refused, among other keys too", () => {
  const key = generateKey();
  const others = Array.from({ length: 3 }, generateKey);
  for (let index = 0; index < 32; index++) {
    // Each bit position in turn, four times over the 32 bytes.
    const near: KeyRecord = {
      label: "near",
      sha256: withByteChanged(hashKey(key), index, 1 << (index % 8)),
      createdAt: AT,
    };
    const keyring = new Keyring([...others.map((other, i) => record(`k${i}`, other)), near]);
    assert.equal(keyring.find(key), undefined, `a difference in byte ${index} was not noticed`);
    // The real keys beside it still match.
    assert.equal(keyring.find(others[1]!)?.label, "k1");
  }
});
