import assert from "node:assert/strict";
import { looksLikeToken, MAX_TOKEN_LENGTH } from "../../lib/protocol/token_format.ts";

const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln";

Deno.test("looksLikeToken() takes three base64url parts, the last possibly empty", () => {
  assert.equal(looksLikeToken(JWT), true);
  assert.equal(looksLikeToken("a.b.c"), true);
  assert.equal(looksLikeToken("A-_z.0-9_.x-_Y"), true);
  // An unsigned JWT (alg none) has an empty signature: shaped like a token, refused by verify().
  assert.equal(looksLikeToken("eyJhbGciOiJub25lIn0.eyJleHAiOjF9."), true);
});

Deno.test("looksLikeToken() refuses fewer or more than three parts, or an empty header or payload", () => {
  for (const credential of ["", "a", "a.b", "a.b.c.d", ".b.c", "a..c", "..", "a.b.c."]) {
    assert.equal(looksLikeToken(credential), false, JSON.stringify(credential));
  }
});

Deno.test("looksLikeToken() refuses characters outside base64url: padding, + and /, spaces, newlines", () => {
  for (
    const credential of [
      `${JWT}=`,
      "a+b.c.d",
      "a/b.c.d",
      ` ${JWT}`,
      `${JWT} `,
      `${JWT}\n`,
      `\n${JWT}`,
      `Bearer ${JWT}`,
      "a.b.c\u0000",
      "a.ḅ.c",
    ]
  ) {
    assert.equal(looksLikeToken(credential), false, JSON.stringify(credential));
  }
});

Deno.test("looksLikeToken() refuses API keys", () => {
  assert.equal(looksLikeToken(`sbk_${"A".repeat(43)}`), false);
  assert.equal(looksLikeToken("sbk_abc"), false);
});

Deno.test("looksLikeToken() takes up to 8192 characters and refuses 8193", () => {
  assert.equal(MAX_TOKEN_LENGTH, 8192);
  const longest = `a.${"b".repeat(MAX_TOKEN_LENGTH - 4)}.c`;
  assert.equal(longest.length, MAX_TOKEN_LENGTH);
  assert.equal(looksLikeToken(longest), true);
  assert.equal(looksLikeToken(`a.${"b".repeat(MAX_TOKEN_LENGTH - 3)}.c`), false);
  assert.equal(looksLikeToken("x".repeat(9000)), false);
});
