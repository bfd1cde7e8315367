import assert from "node:assert/strict";
import { generateKey, isApiKey, KEY_PATTERN } from "../../lib/protocol/api_key_format.ts";

Deno.test("generateKey() makes a fresh key of the sbk_ shape each time", () => {
  const key = generateKey();
  assert.match(key, KEY_PATTERN);
  assert.equal(key.length, 47);
  assert.notEqual(generateKey(), key);
});

Deno.test("isApiKey() takes only sbk_ and 43 base64url characters", () => {
  assert.equal(isApiKey(`sbk_${"A".repeat(43)}`), true);
  assert.equal(isApiKey(`sbk_${"A".repeat(42)}`), false);
  assert.equal(isApiKey(`sbk_${"A".repeat(42)}+`), false);
  assert.equal(isApiKey(` sbk_${"A".repeat(43)}`), false);
  assert.equal(isApiKey(`key_${"A".repeat(43)}`), false);
});
