import assert from "node:assert/strict";
import { uuidVersion, validateUuid } from "../lib/runtime/deps.ts";
import { Registry } from "../lib/registry.ts";

Deno.test("register() returns a v4 UUID and stores the entry", () => {
  const registry = new Registry<string>();
  const id = registry.register("socket", "127.0.0.1:5000", 42);
  assert.ok(validateUuid(id));
  assert.equal(uuidVersion(id), 4);
  assert.deepEqual(registry.get(id), {
    id,
    socket: "socket",
    remoteAddr: "127.0.0.1:5000",
    connectedAt: 42,
  });
  assert.ok(registry.has(id));
  assert.equal(registry.size, 1);
});

Deno.test("register() gives distinct ids over 10,000 registrations", () => {
  const registry = new Registry<number>();
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) ids.add(registry.register(i, "127.0.0.1:1"));
  assert.equal(ids.size, 10_000);
  assert.equal(registry.size, 10_000);
  for (const id of ids) assert.equal(uuidVersion(id), 4);
});

Deno.test("unregister() is idempotent", () => {
  const registry = new Registry<string>();
  const id = registry.register("socket", "127.0.0.1:5000");
  assert.equal(registry.unregister(id), true);
  assert.equal(registry.unregister(id), false);
  assert.equal(registry.size, 0);
  assert.equal(registry.get(id), undefined);
});

Deno.test("unregister() of an unknown id changes nothing", () => {
  const registry = new Registry<string>();
  const id = registry.register("socket", "127.0.0.1:5000");
  assert.equal(registry.unregister(crypto.randomUUID()), false);
  assert.equal(registry.size, 1);
  assert.ok(registry.has(id));
});

Deno.test("iteration yields the connected clients in registration order", () => {
  const registry = new Registry<string>();
  const a = registry.register("a", "127.0.0.1:1");
  const b = registry.register("b", "127.0.0.1:2");
  const c = registry.register("c", "127.0.0.1:3");
  registry.unregister(b);
  assert.deepEqual([...registry].map((entry) => entry.id), [a, c]);
  assert.deepEqual([...registry].map((entry) => entry.socket), ["a", "c"]);
  assert.equal(registry.size, 2);
});
