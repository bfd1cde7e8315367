import assert from "node:assert/strict";
import { parseRedisUrl } from "../../../lib/signaling/redis/url.ts";

Deno.test("parseRedisUrl() keeps host, port and database, and takes the password out", () => {
  const target = parseRedisUrl("redis://user:p%40ss@10.0.0.5:6380/3");
  assert.equal(target.password, "p@ss");
  assert.equal(target.url, "redis://user@10.0.0.5:6380/3");
  assert.equal(target.display, "redis://10.0.0.5:6380/3");
});

Deno.test("parseRedisUrl() accepts rediss:// and a URL without port or database", () => {
  assert.equal(parseRedisUrl("rediss://cache.example").display, "rediss://cache.example");
  assert.equal(parseRedisUrl("redis://localhost").password, undefined);
});

Deno.test("parseRedisUrl() refuses other schemes, paths and queries without repeating a password", () => {
  for (const raw of ["http://h", "redis://:pw@h/x", "redis://h/0?a=1", "not a url", "redis:///1"]) {
    assert.throws(() => parseRedisUrl(raw), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.doesNotMatch(error.message, /pw/);
      return true;
    });
  }
  assert.throws(() => parseRedisUrl("foo://:secret@h"), /foo:\/\/\*\*\*@h/);
});
