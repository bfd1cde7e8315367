import assert from "node:assert/strict";
import { Sha256, sha256Hex, toHex } from "../../lib/shared/sha256.js";

async function reference(data: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

Deno.test("sha256Hex() matches Web Crypto for every length around the block boundaries", async () => {
  for (let size = 0; size <= 200; size++) {
    const data = crypto.getRandomValues(new Uint8Array(size));
    assert.equal(sha256Hex(data), await reference(data), `${size} bytes`);
  }
});

Deno.test("Sha256 gives the same digest however the bytes are split", async () => {
  const data = crypto.getRandomValues(new Uint8Array(65536));
  const expected = await reference(data);
  for (const piece of [1, 7, 63, 64, 65, 1000, 65536]) {
    const hash = new Sha256();
    for (let i = 0; i < data.length; i += piece) hash.update(data.subarray(i, i + piece));
    assert.equal(hash.hex(), expected, `pieces of ${piece}`);
  }
});

Deno.test("Sha256 refuses more data after the digest, and gives the digest again", () => {
  const hash = new Sha256().update(new Uint8Array([1]));
  const first = hash.hex();
  assert.equal(hash.hex(), first);
  assert.throws(() => hash.update(new Uint8Array([2])), TypeError);
});
