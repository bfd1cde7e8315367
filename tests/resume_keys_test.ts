import assert from "node:assert/strict";
import { generateKey, hashKey, type KeyRecord } from "../lib/auth/key_file.ts";
import { testServer } from "./helpers.ts";
import { RawWebSocket } from "./raw_websocket.ts";

type Message = Record<string, unknown>;

const AT = "2026-11-26T03:41:22.123Z";

function makeKey(label: string): { key: string; record: KeyRecord } {
  const key = generateKey();
  return { key, record: { label, sha256: hashKey(key), createdAt: AT } };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

Deno.test("a session's resume token presented with another API key fails like an unknown token", async () => {
  const acme = makeKey("acme");
  const other = makeKey("other");
  await using t = testServer({ apiKeys: [acme.record, other.record] });
  const victim = await RawWebSocket.connect(t.port, "/?resumable=1", bearer(acme.key));
  const id = String(((await victim.next()) as Message).id);
  const token = String(((await victim.next()) as Message).resume_token);
  victim.drop();
  await t.logs.waitFor(new RegExp(`Keeping the session of client ${id}`));

  const thief = await RawWebSocket.connect(
    t.port,
    `/?resume=${encodeURIComponent(token)}`,
    bearer(other.key),
  );
  const first = (await thief.next()) as Message;
  assert.equal(first.type, "your_id");
  assert.notEqual(first.id, id, "another key's client never gets the id");
  const messages = [(await thief.next()) as Message, (await thief.next()) as Message];
  assert.ok(
    messages.some((m) => m.type === "error" && m.code === "resume_failed"),
    JSON.stringify(messages),
  );
  thief.drop();
});

Deno.test("a session's resume token with the same API key resumes it", async () => {
  const acme = makeKey("acme");
  await using t = testServer({ apiKeys: [acme.record] });
  const first = await RawWebSocket.connect(t.port, "/?resumable=1", bearer(acme.key));
  const id = String(((await first.next()) as Message).id);
  const token = String(((await first.next()) as Message).resume_token);
  first.drop();
  await t.logs.waitFor(new RegExp(`Keeping the session of client ${id}`));
  const again = await RawWebSocket.connect(
    t.port,
    `/?resume=${encodeURIComponent(token)}`,
    bearer(acme.key),
  );
  assert.deepEqual(await again.next(), { type: "your_id", id });
  again.drop();
});
