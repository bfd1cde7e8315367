import assert from "node:assert/strict";
import type { ServerMessage } from "../../lib/protocol/messages.ts";
import { Registry } from "../../lib/registry.ts";
import { MemorySignaling } from "../../lib/signaling/memory.ts";
import type { Peer } from "../../lib/signaling/service.ts";
import { TestClient, testServer } from "../support/helpers.ts";
import { eventually } from "../support/hostile.ts";

import { holding, meeting, next, usingCode } from "../support/code_clients.ts";

Deno.test("a typed nameplate pairs its holder with the typist at once, marked by_code, and is spent", async () => {
  await using t = testServer();
  const holder = await holding(t.url);
  await using _h = holder.client;
  assert.match(holder.nameplate, /^[1-9]\d?$/);
  assert.equal(holder.expiresS, 300);
  const { client: user, id: userId } = await usingCode(t.url, holder);
  await using _u = user;
  // The key exchange goes to the partner only, stamped, with nothing but its own fields.
  user.send({ type: "pake", share: "04ab", extra: "dropped", from: "forged" });
  assert.deepEqual(await next(holder.client), { type: "pake", share: "04ab", from: userId });
  assert.match(t.server.signaling.metricsText(), /^switchboard_code_pairings_total 1$/m);
  assert.match(t.server.signaling.metricsText(), /^switchboard_nameplates 0$/m);

  const { client: late } = await TestClient.connect(t.url);
  await using _l = late;
  late.send({ type: "code_use", nameplate: holder.nameplate });
  const refused = await next(late);
  assert.equal(refused.code, "unknown_nameplate");
  assert.match(String(refused.message), /it was used, it expired, or it was mistyped/);
});

Deno.test("an unused nameplate expires: its holder is told, and it is counted", async () => {
  await using t = testServer({ codeTtl: 0.2 });
  const holder = await holding(t.url);
  await using _h = holder.client;
  assert.match(t.server.signaling.metricsText(), /^switchboard_nameplates 1$/m);
  assert.deepEqual(await next(holder.client), {
    type: "nameplate_expired",
    nameplate: holder.nameplate,
  });
  assert.match(t.server.signaling.metricsText(), /^switchboard_nameplates 0$/m);
  assert.match(t.server.signaling.metricsText(), /^switchboard_nameplates_expired_total 1$/m);
  const { client: user } = await TestClient.connect(t.url);
  await using _u = user;
  user.send({ type: "code_use", nameplate: holder.nameplate });
  assert.equal((await next(user)).code, "unknown_nameplate");
});

Deno.test("a holder's own nameplate, a malformed one, or a holder that left pair no one", async () => {
  await using t = testServer();
  const holder = await holding(t.url);
  await using _h = holder.client;
  holder.client.send({ type: "code_use", nameplate: holder.nameplate });
  assert.equal((await next(holder.client)).code, "self_pair");
  const { client: user } = await TestClient.connect(t.url);
  await using _u = user;
  for (const nameplate of ["0", "07", "12a", "1234567890", ""]) {
    user.send({ type: "code_use", nameplate });
    assert.equal((await next(user)).code, "unknown_nameplate", nameplate);
  }
  // Leaving releases the nameplate at once.
  holder.client.socket.close();
  await holder.client.closed;
  await eventually(
    () => /^switchboard_nameplates 0$/m.test(t.server.signaling.metricsText()),
    5000,
    "the nameplate of a client that left to be released",
  );
  user.send({ type: "code_use", nameplate: holder.nameplate });
  assert.equal((await next(user)).code, "unknown_nameplate");
});

Deno.test("a holder that pairs by id gives up its nameplate", async () => {
  await using t = testServer();
  const holder = await holding(t.url);
  await using _h = holder.client;
  const { client: asker, id: askerId } = await TestClient.connect(t.url);
  await using _a = asker;
  asker.send({ type: "pair_request", target: holder.id });
  assert.equal((await next(holder.client)).type, "pair_request");
  holder.client.send({ type: "pair_accept", from: askerId });
  const paired = await next(asker);
  assert.equal(paired.type, "paired");
  assert.equal(paired.by_code, undefined, "a pairing by id is not marked by_code");
  assert.equal((await next(holder.client)).type, "paired");
  const { client: user } = await TestClient.connect(t.url);
  await using _u = user;
  user.send({ type: "code_use", nameplate: holder.nameplate });
  assert.equal((await next(user)).code, "unknown_nameplate");
  // A paired client cannot hold a code either.
  holder.client.send({ type: "code_claim" });
  assert.equal((await next(holder.client)).code, "already_paired");
});

Deno.test("codes claimed and tried from one address past the limit are refused as too_many_codes", async () => {
  await using t = testServer();
  const { client } = await TestClient.connect(t.url);
  await using _c = client;
  const codes: string[] = [];
  for (let i = 0; i < 21; i++) {
    client.send(i % 2 === 0 ? { type: "code_claim" } : { type: "code_use", nameplate: "999999" });
    const answer = await next(client);
    codes.push(String(answer.type === "error" ? answer.code : answer.type));
  }
  assert.equal(codes.filter((code) => code === "too_many_codes").length, 1, codes.join(","));
  assert.equal(codes.at(-1), "too_many_codes");
  // Another address is not held back by this one's codes.
  assert.ok(t.server.metrics.render(1).includes('refused_requests_total{code="too_many_codes"} 1'));
});

Deno.test("a nameplate is its tenant's: another key's client cannot use it", () => {
  const sent = new Map<string, ServerMessage[]>();
  const registry = new Registry<Peer>();
  const connect = (): string => {
    const messages: ServerMessage[] = [];
    const id = registry.register({ send: (message) => messages.push(message) > 0 }, "127.0.0.1:1");
    sent.set(id, messages);
    return id;
  };
  const a = connect();
  const b = connect();
  const c = connect();
  const tenants = new Map([[a, "key-1"], [b, "key-2"], [c, "key-1"]]);
  const signaling = new MemorySignaling(registry, {
    pairTimeoutMs: 30_000,
    tenantOf: (id) => tenants.get(id),
  });
  try {
    assert.equal(signaling.handle(a, { type: "code_claim" }, 0), undefined);
    const plate = sent.get(a)?.[0];
    assert.equal(plate?.type, "nameplate");
    const nameplate = plate?.type === "nameplate" ? plate.nameplate : "";
    assert.equal(
      signaling.handle(b, { type: "code_use", nameplate }, 1)?.code,
      "unknown_nameplate",
    );
    // The other key's try did not spend it: the holder's own tenant still can.
    assert.equal(signaling.handle(c, { type: "code_use", nameplate }, 2), undefined);
    assert.equal(signaling.partnerOf(a), c);
  } finally {
    signaling.close();
  }
});

Deno.test("two remembered devices meet under the rendezvous they share: the first waits, the second pairs", async () => {
  await using t = testServer({ codeTtl: 0.3 });
  const rendezvous = "ab".repeat(32);
  const { client: first, id: firstId } = await TestClient.connect(t.url);
  await using _f = first;
  first.send({ type: "meet", rendezvous });
  assert.deepEqual(await next(first), { type: "meet_waiting", expires_s: 0.3 });
  // Another rendezvous meets nobody: it waits too, and its wait ends unmet.
  const { client: stranger } = await TestClient.connect(t.url);
  await using _s = stranger;
  stranger.send({ type: "meet", rendezvous: "cd".repeat(32) });
  assert.deepEqual(await next(stranger), { type: "meet_waiting", expires_s: 0.3 });
  assert.deepEqual(await next(stranger), { type: "meet_expired" });
  // The first's wait expired too; it waits again, and the second comes in time.
  assert.deepEqual(await next(first), { type: "meet_expired" });
  first.send({ type: "meet", rendezvous });
  assert.deepEqual(await next(first), { type: "meet_waiting", expires_s: 0.3 });
  const { client: second } = await meeting(t.url, rendezvous, { client: first, id: firstId });
  await using _2 = second;
  // A rendezvous is 64 lowercase hex digits.
  stranger.send({ type: "meet", rendezvous: "AB".repeat(32) });
  assert.equal((await next(stranger)).code, "invalid_message");
});
