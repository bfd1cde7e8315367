import assert from "node:assert/strict";
import {
  formatKeyFile,
  generateKey,
  hashKey,
  KEY_PATTERN,
  KeyFileError,
  type KeyRecord,
  parseKeyFile,
} from "../../lib/auth/key_file.ts";

const AT = "2026-11-26T03:41:22.123Z";

Deno.test("generateKey() makes sbk_ and 32 random bytes in base64url, different every time", () => {
  const keys = new Set(Array.from({ length: 100 }, generateKey));
  assert.equal(keys.size, 100);
  for (const key of keys) {
    assert.match(key, KEY_PATTERN);
    const bytes = atob(key.slice(4).replace(/-/g, "+").replace(/_/g, "/") + "=");
    assert.equal(bytes.length, 32);
  }
});

Deno.test("hashKey() is the hex SHA-256 that Web Crypto gives", async () => {
  const key = generateKey();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hashKey(key), hex);
});

Deno.test("a keys file round-trips: every field, optional limits left out when absent", () => {
  const records: KeyRecord[] = [
    {
      label: "acme",
      sha256: hashKey(generateKey()),
      maxClients: 100,
      rateLimit: 2.5,
      createdAt: AT,
    },
    { label: "globex.prod_2", sha256: hashKey(generateKey()), createdAt: AT },
  ];
  const text = formatKeyFile(records);
  assert.deepEqual(parseKeyFile(text), records);
  assert.ok(text.endsWith("}\n"));
  const data = JSON.parse(text);
  assert.equal(data.version, 1);
  assert.deepEqual(Object.keys(data.keys[1]), ["label", "sha256", "createdAt"]);
  assert.deepEqual(parseKeyFile(formatKeyFile([])), []);
});

Deno.test("parseKeyFile() names what is wrong and where", () => {
  const good = { label: "acme", sha256: "a".repeat(64), createdAt: AT };
  const file = (...keys: unknown[]) => JSON.stringify({ version: 1, keys });
  const cases: [string, RegExp][] = [
    ["{", /^not JSON at line 1, column 2: the text ends; expected a property name/],
    ['{"version": 1,\n "keys": [}', /^not JSON at line 2, column 11: expected a value/],
    ["[]", /not a JSON object/],
    [JSON.stringify({ version: 2, keys: [] }), /"version" must be 1, got 2/],
    [JSON.stringify({ version: "1.0.0-secret", keys: [] }), /"version" must be 1, got a string$/],
    [JSON.stringify({ version: 1 }), /"keys" must be an array/],
    [file(good, 5), /keys\[1\] is not an object/],
    [file({ ...good, label: "no spaces" }), /keys\[0\]\.label/],
    [file({ ...good, label: "" }), /keys\[0\]\.label/],
    [file(good, { ...good, sha256: "b".repeat(64) }), /keys\[1\]\.label repeats keys\[0\]\.label$/],
    [file({ ...good, sha256: "A".repeat(64) }), /keys\[0\]\.sha256 must be 64/],
    [file(good, { ...good, label: "other" }), /keys\[1\]\.sha256 appears twice/],
    [file({ ...good, createdAt: "yesterday" }), /createdAt/],
    [file({ ...good, maxClients: 0 }), /keys\[0\]\.maxClients must be a positive whole number/],
    [file({ ...good, maxClients: 1.5 }), /maxClients/],
    [file({ ...good, rateLimit: "10" }), /keys\[0\]\.rateLimit must be a positive number/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseKeyFile(text), (error: unknown) => {
      assert.ok(error instanceof KeyFileError, text);
      assert.match(error.message, message, text);
      return true;
    });
  }
});

Deno.test("parseKeyFile() never quotes the file: a key, a system file or another JSON file gets only a position", () => {
  const key = generateKey();
  const cases: [text: string, secret: string, message: RegExp][] = [
    [`${key}\n`, key.slice(0, 10), /^not JSON at line 1, column 1: expected a value/],
    ["root:x:0:0:root:/root:/bin/bash\n", "root", /^not JSON at line 1, column 1:/],
    ['{"name": "app", "token": "s3cr3t-t0ken", x}', "s3cr3t", /^not JSON at line 1, column 42:/],
    ['{"version": "s3cr3t-version"}', "s3cr3t", /"version" must be 1, got a string$/],
    ['"s3cr3t-string\n', "s3cr3t", /^not JSON at line 1, column 15: a control character/],
  ];
  for (const [text, secret, message] of cases) {
    assert.throws(() => parseKeyFile(text), (error: unknown) => {
      assert.ok(error instanceof KeyFileError, text);
      assert.match(error.message, message, text);
      assert.ok(!error.message.includes(secret), `the message quotes the file: ${error.message}`);
      return true;
    });
  }
});
