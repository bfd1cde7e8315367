import assert from "node:assert/strict";
import { Tenants } from "../../lib/auth/tenants.ts";

Deno.test("Tenants.same() is true only for two connected clients of one key", () => {
  const tenants = new Tenants();
  tenants.join("a1", "A");
  tenants.join("a2", "A");
  tenants.join("b1", "B");
  assert.ok(tenants.same("a1", "a2"));
  assert.ok(!tenants.same("a1", "b1"));
  assert.ok(!tenants.same("a1", "gone"));
  assert.ok(!tenants.same("gone", "gone"));
  tenants.leave("a2");
  assert.ok(!tenants.same("a1", "a2"));
});

Deno.test("on an open server every client is in the one tenant undefined", () => {
  const tenants = new Tenants();
  tenants.join("x", undefined);
  tenants.join("y", undefined);
  assert.ok(tenants.same("x", "y"));
  assert.equal(tenants.count(undefined), 2);
});

Deno.test("Tenants counts clients per key; leave is idempotent and join moves a client", () => {
  const tenants = new Tenants();
  tenants.join("c", "A");
  tenants.join("c", "B");
  assert.equal(tenants.count("A"), 0);
  assert.equal(tenants.count("B"), 1);
  tenants.leave("c");
  tenants.leave("c");
  assert.equal(tenants.count("B"), 0);
  assert.deepEqual([...tenants.clientsOf("B")], []);
});
