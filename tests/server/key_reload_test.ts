import assert from "node:assert/strict";
import { Access } from "../../lib/auth/access.ts";
import type { KeyRecord } from "../../lib/auth/key_file.ts";
import { Registry } from "../../lib/registry.ts";
import type { Connection, ServerState } from "../../lib/server/connection.ts";
import { reloadKeys } from "../../lib/server/key_reload.ts";

const key = (label: string): KeyRecord => ({
  label,
  sha256: label.padEnd(64, "0"),
  createdAt: "2026-11-26T03:41:22.123Z",
});

/** A connection that only records being revoked. */
function connection(tenant: string | undefined, revoked: string[], name: string) {
  return { tenant, revoke: () => void revoked.push(name) } as unknown as Connection;
}

Deno.test("reloadKeys() ends away sessions of removed keys first, then closes their connected clients", async () => {
  const [acme, globex, initech] = [key("a"), key("b"), key("c")];
  const access = new Access([acme, globex]);
  const registry = new Registry<Connection>();
  const events: string[] = [];
  for (const [id, tenant] of [["a1", acme], ["b1", globex], ["away", acme]] as const) {
    access.join(id, tenant.sha256);
  }
  registry.register(connection(acme.sha256, events, "a1"), "192.0.2.1:1");
  registry.register(connection(globex.sha256, events, "b1"), "192.0.2.1:2");
  const told: [string[], string[]][] = [];
  const signaling = {
    // As a shared store does: the sessions end a moment later.
    async revoke(tenants: string[], kept: string[]) {
      told.push([tenants, kept]);
      await Promise.resolve();
      events.push("away ended");
      return 1;
    },
  };
  const server = { access, registry, signaling, config: {} } as unknown as ServerState;
  assert.deepEqual(await reloadKeys(server, [globex, initech]), { keys: 2, revoked: 2 });
  assert.deepEqual(events, ["away ended", "a1"]);
  assert.deepEqual(told, [[[acme.sha256], [globex.sha256, initech.sha256]]]);
});

Deno.test("reloadKeys() rejects with TypeError on a server started without API keys", async () => {
  const server = { access: new Access(undefined) } as unknown as ServerState;
  await assert.rejects(reloadKeys(server, []), TypeError);
});
