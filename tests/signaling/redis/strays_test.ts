import assert from "node:assert/strict";
import { Strays } from "../../../lib/signaling/redis/strays.ts";

Deno.test("Strays keeps each client's events in order and hands them over once", () => {
  const strays = new Strays<string>({ maxEvents: 10, maxBytes: 1000, keepMs: 1000 });
  strays.keep("a", "a1", 1, 0);
  strays.keep("b", "b1", 1, 0);
  strays.keep("a", "a2", 1, 1);
  assert.deepEqual(strays.take("a"), ["a1", "a2"]);
  assert.deepEqual(strays.take("a"), []);
  assert.equal(strays.size, 1);
});

Deno.test("Strays refuses past either bound, after making room from what is too old", () => {
  const strays = new Strays<string>({ maxEvents: 3, maxBytes: 100, keepMs: 1000 });
  assert.ok(strays.keep("a", "big", 90, 0));
  assert.ok(!strays.keep("b", "too many bytes", 20, 10), "bytes bound");
  assert.ok(strays.keep("b", "small", 5, 10));
  assert.ok(strays.keep("b", "small", 5, 10));
  assert.ok(!strays.keep("c", "one too many", 1, 20), "count bound");
  // A's events are old enough by now to make room.
  assert.ok(strays.keep("c", "later", 50, 1000));
  assert.deepEqual(strays.take("a"), []);
  assert.equal(strays.size, 3);
});

Deno.test("Strays.sweep() forgets a client's events once the first is older than the limit", () => {
  const strays = new Strays<string>({ maxEvents: 10, maxBytes: 1000, keepMs: 100 });
  strays.keep("a", "a1", 1, 0);
  strays.keep("a", "a2", 1, 90);
  strays.keep("b", "b1", 1, 50);
  strays.sweep(99);
  assert.equal(strays.size, 3);
  strays.sweep(100);
  assert.deepEqual(strays.take("a"), []);
  assert.deepEqual(strays.take("b"), ["b1"]);
});
