import assert from "node:assert/strict";
import { Access } from "../../lib/auth/access.ts";
import { generateKey, hashKey, type KeyRecord } from "../../lib/auth/key_file.ts";

const AT = "2026-11-26T03:41:22.123Z";

function makeKey(label: string, limits: Partial<KeyRecord> = {}) {
  const key = generateKey();
  return { key, record: { label, sha256: hashKey(key), createdAt: AT, ...limits } };
}

const bearer = (key: string) => new Headers({ authorization: `Bearer ${key}` });

Deno.test("Access.handshake() lets every handshake through on an open server", () => {
  const access = new Access(undefined);
  assert.equal(access.keyed, false);
  assert.deepEqual(access.handshake(new Headers()), { record: undefined });
  assert.deepEqual(access.open(undefined), { ok: true });
  assert.equal(access.clientsPerKey(), undefined);
});

Deno.test("Access.handshake() admits a known key and refuses a missing or unknown one with 401", () => {
  const acme = makeKey("acme");
  const access = new Access([acme.record]);
  assert.equal(access.keyed, true);
  const entered = access.handshake(bearer(acme.key));
  assert.ok("record" in entered && entered.record?.label === "acme");
  for (const headers of [new Headers(), bearer(generateKey())]) {
    const denied = access.handshake(headers);
    assert.ok("status" in denied && denied.status === 401, JSON.stringify(denied));
  }
});

Deno.test("Access.open() refuses a key at its client limit, and a key revoked since the handshake", () => {
  const acme = makeKey("acme", { maxClients: 1 });
  const globex = makeKey("globex");
  const access = new Access([acme.record, globex.record]);
  assert.deepEqual(access.open(acme.record.sha256), { ok: true });
  access.join("a1", acme.record.sha256);
  assert.deepEqual(access.open(acme.record.sha256), {
    ok: false,
    why: "limit",
    key: acme.record,
    maxClients: 1,
  });
  access.leave("a1");
  assert.deepEqual(access.open(acme.record.sha256), { ok: true });
  access.reload([acme.record]);
  assert.deepEqual(access.open(globex.record.sha256), { ok: false, why: "revoked" });
});

Deno.test("Access.tenantOf() names each client's key, for the tenant rule, until it leaves", () => {
  const acme = makeKey("acme");
  const globex = makeKey("globex");
  const access = new Access([acme.record, globex.record]);
  access.join("a1", acme.record.sha256);
  access.join("a2", acme.record.sha256);
  access.join("g1", globex.record.sha256);
  assert.equal(access.tenantOf("a1"), access.tenantOf("a2"));
  assert.notEqual(access.tenantOf("a1"), access.tenantOf("g1"));
  assert.equal(access.tenantOf("gone"), undefined);
  assert.deepEqual(access.clientsPerKey(), [["acme", 2], ["globex", 1]]);
  access.leave("a2");
  assert.equal(access.tenantOf("a2"), undefined);
  assert.equal(access.maxClientsOf(acme.record.sha256), undefined);
  assert.equal(access.keyOf(globex.record.sha256)?.label, "globex");
});

Deno.test("Access.revokeShared() refuses a key revoked elsewhere until a reload that has it", () => {
  const acme = makeKey("acme");
  const access = new Access([acme.record]);
  access.revokeShared([acme.record.sha256]);
  assert.ok(access.revoked(acme.record.sha256));
  const refused = access.handshake(bearer(acme.key));
  assert.ok("status" in refused && refused.status === 401);
  assert.equal(refused.reason, "API key not valid");
  assert.deepEqual(access.open(acme.record.sha256), { ok: false, why: "revoked" });
  assert.deepEqual(access.reload([acme.record]).removed, []);
  assert.ok(!access.revoked(acme.record.sha256));
  assert.ok("record" in access.handshake(bearer(acme.key)));
});

Deno.test("Access.reload() replaces the keys: revoked() names the removed ones, never no key", () => {
  const acme = makeKey("acme");
  const globex = makeKey("globex");
  const access = new Access([acme.record]);
  access.join("a1", acme.record.sha256);
  assert.deepEqual(access.reload([globex.record]), {
    size: 1,
    removed: [acme.record.sha256],
    removedLabels: ["acme"],
    kept: [globex.record.sha256],
  });
  assert.ok(access.revoked(acme.record.sha256));
  assert.ok(!access.revoked(globex.record.sha256));
  assert.ok(!access.revoked(undefined));
  const entered = access.handshake(bearer(globex.key));
  assert.ok("record" in entered && entered.record?.label === "globex");
});

Deno.test("Access.reload() throws TypeError on an open server", () => {
  assert.throws(() => new Access(undefined).reload([]), TypeError);
});

Deno.test("Access.rateLimit() takes a key's own limit when it is lower than the server's", () => {
  const slow = makeKey("slow", { rateLimit: 2 }).record;
  const fast = makeKey("fast", { rateLimit: 200 }).record;
  assert.equal(Access.rateLimit(20, slow), 2);
  assert.equal(Access.rateLimit(20, fast), 20);
  assert.equal(Access.rateLimit(20, undefined), 20);
});
