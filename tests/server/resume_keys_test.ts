import assert from "node:assert/strict";
import { generateKey, hashKey, type KeyRecord } from "../../lib/auth/key_file.ts";
import { type TestServer, testServer, within } from "../support/helpers.ts";
import { metric } from "../support/hostile.ts";
import { RawWebSocket } from "../support/raw_websocket.ts";

type Message = Record<string, unknown>;

const AT = "2026-11-26T03:41:22.123Z";

function makeKey(label: string, maxClients?: number): { key: string; record: KeyRecord } {
  const key = generateKey();
  const record: KeyRecord = { label, sha256: hashKey(key), createdAt: AT };
  return { key, record: maxClients === undefined ? record : { ...record, maxClients } };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Connects over raw TCP presenting the resume `token` with the API `key`. */
const resumeWith = (t: TestServer, token: string, key: string) =>
  RawWebSocket.connect(t.port, `/?resume=${encodeURIComponent(token)}`, bearer(key));

/** Waits for the server to say it keeps the session of client `id` after a drop. */
const kept = (t: TestServer, id: string) =>
  t.logs.waitFor(new RegExp(`Keeping the session of client ${id}`));

Deno.test("a session's resume token presented with another API key fails like an unknown token", async () => {
  const acme = makeKey("acme");
  const other = makeKey("other");
  await using t = testServer({ apiKeys: [acme.record, other.record] });
  const victim = await RawWebSocket.connect(t.port, "/?resumable=1", bearer(acme.key));
  const id = String(((await victim.next()) as Message).id);
  const token = String(((await victim.next()) as Message).resume_token);
  victim.drop();
  await kept(t, id);

  const thief = await resumeWith(t, token, other.key);
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
  await kept(t, id);
  const again = await resumeWith(t, token, acme.key);
  assert.deepEqual(await again.next(), { type: "your_id", id });
  again.drop();
});

/** A resumable client of `key` over raw TCP, with its id and token read. */
async function connectResumable(t: TestServer, key: string) {
  const ws = await RawWebSocket.connect(t.port, "/?resumable=1", bearer(key));
  const first = (await ws.next()) as Message;
  assert.equal(first.type, "your_id");
  const session = (await ws.next()) as Message;
  assert.equal(session.type, "session");
  return { ws, id: String(first.id), token: String(session.resume_token) };
}

/** `a` asks `b` to pair and `b` accepts; both hear `paired`. */
async function pair(a: { ws: RawWebSocket; id: string }, b: { ws: RawWebSocket; id: string }) {
  await a.ws.send({ type: "pair_request", target: b.id });
  assert.deepEqual(await b.ws.next(), { type: "pair_request", from: a.id });
  await b.ws.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(await a.ws.next(), { type: "paired", peer: b.id, initiator: true });
  assert.deepEqual(await b.ws.next(), { type: "paired", peer: a.id, initiator: false });
}

/** Two clients of `key`, paired; the first drops and its partner hears it is reconnecting. */
async function pairedThenAway(t: TestServer, key: string) {
  const a1 = await connectResumable(t, key);
  const a2 = await connectResumable(t, key);
  await pair(a1, a2);
  a1.ws.drop();
  await kept(t, a1.id);
  assert.deepEqual(await a2.ws.next(), { type: "peer_reconnecting", peer: a1.id });
  return { a1, a2 };
}

/**
 * Presents `token` with another tenant's `key`: the thief must get a fresh
 * id, a session of its own and `resume_failed`, exactly as for a token
 * nobody issued. Returns the thief's connection, still open.
 */
async function presentStolen(t: TestServer, token: string, key: string, victim: string) {
  const thief = await resumeWith(t, token, key);
  const first = (await thief.next()) as Message;
  assert.equal(first.type, "your_id");
  assert.notEqual(first.id, victim, "another key's client never gets the id");
  assert.equal(((await thief.next()) as Message).type, "session");
  assert.equal(((await thief.next()) as Message).code, "resume_failed");
  // Kept open: dropped, its own window would end too and blur the counts.
  return thief;
}

const resumes = (t: TestServer, outcome: string) =>
  metric(t.port, `switchboard_resumes_total{outcome="${outcome}"}`);
const keyClients = (t: TestServer, label: string) =>
  metric(t.port, `switchboard_key_clients{key="${label}"}`);

Deno.test("a resume token presented with another API key is not spent: its owner still resumes the session and gets what waited", async () => {
  const acme = makeKey("acme", 5);
  const globex = makeKey("globex", 5);
  await using t = testServer({ apiKeys: [acme.record, globex.record], resumeGrace: 10 });
  const { a1, a2 } = await pairedThenAway(t, acme.key);

  const thief = await presentStolen(t, a1.token, globex.key, a1.id);
  assert.equal(await resumes(t, "failed"), 1);
  assert.equal(await resumes(t, "resumed"), 0, "a refused token is no resume");
  // The partner relays as to any away client: held, no error.
  await a2.ws.send({ type: "relay", data: "while away" });
  await assert.rejects(a2.ws.next(300), /Timed out/, "no answer to a relay to an away client");
  assert.equal(await keyClients(t, "acme"), 2, "the away client keeps its place in its window");

  const back = await resumeWith(t, a1.token, acme.key);
  assert.deepEqual(await back.next(), { type: "your_id", id: a1.id });
  assert.equal(((await back.next()) as Message).type, "session");
  assert.deepEqual(await back.next(), { type: "relay", data: "while away", from: a2.id });
  assert.deepEqual(await a2.ws.next(), { type: "peer_back", peer: a1.id });
  assert.equal(await resumes(t, "resumed"), 1);
  assert.equal(await keyClients(t, "acme"), 2);
  for (const ws of [back, a2.ws, thief]) ws.drop();
});

Deno.test("a resume token presented with another API key leaves the window to run out: the partner hears peer_left and the key's count drops", async () => {
  const acme = makeKey("acme", 5);
  const globex = makeKey("globex", 5);
  await using t = testServer({ apiKeys: [acme.record, globex.record], resumeGrace: 1 });
  const { a1, a2 } = await pairedThenAway(t, acme.key);
  const thief = await presentStolen(t, a1.token, globex.key, a1.id);

  // Within the 1 s window and a margin for a loaded machine.
  assert.deepEqual(await a2.ws.next(3000), { type: "peer_left", peer: a1.id, reason: "timeout" });
  assert.equal(await keyClients(t, "acme"), 1);
  assert.equal(await resumes(t, "timeout"), 1);
  assert.equal(await resumes(t, "failed"), 1);
  assert.equal(await resumes(t, "resumed"), 0);
  // The relay now fails as it does for anyone without a partner.
  await a2.ws.send({ type: "relay", data: "anyone there?" });
  assert.equal(((await a2.ws.next()) as Message).code, "not_paired");
  a2.ws.drop();
  thief.drop();
});

Deno.test("resume tokens presented again and again with another API key never lock the key out", async () => {
  const acme = makeKey("acme", 5);
  const globex = makeKey("globex", 5);
  await using t = testServer({ apiKeys: [acme.record, globex.record], resumeGrace: 1 });
  const a2 = await connectResumable(t, acme.key);
  const victims: string[] = [];
  const thieves: RawWebSocket[] = [];
  for (let i = 0; i < 4; i++) {
    const victim = await connectResumable(t, acme.key);
    victims.push(victim.id);
    victim.ws.drop();
    await kept(t, victim.id);
    thieves.push(await presentStolen(t, victim.token, globex.key, victim.id));
  }
  assert.equal(await resumes(t, "failed"), 4);
  assert.equal(await resumes(t, "resumed"), 0);
  // Each window ends as usual (1 s, with a margin for a loaded machine), and with it its place.
  await t.logs.waitFor(
    new RegExp(`Session of client (${victims.join("|")}) ended: not resumed within 1 s`),
    4,
    4000,
  );
  assert.equal(await keyClients(t, "acme"), 1);
  // Four new clients get in: with a2, the key's limit of five.
  const fresh = [];
  for (let i = 0; i < 4; i++) fresh.push(await connectResumable(t, acme.key));
  assert.equal(await keyClients(t, "acme"), 5);
  const all = [a2.ws, ...fresh.map((client) => client.ws), ...thieves];
  for (const ws of all) ws.drop();
  await within(Promise.all(all.map((ws) => ws.closed)), 5000, "the test's sockets to close");
});

/**
 * Sends `message` naming `id` and then naming an id nobody has, and checks
 * that both answers are the same but for the id.
 */
async function answersAsForRandomId(
  ws: RawWebSocket,
  message: (id: string) => Message,
  id: string,
): Promise<Message> {
  await ws.send(message(id));
  const answer = (await ws.next()) as Message;
  const nobody = crypto.randomUUID();
  await ws.send(message(nobody));
  const random = (await ws.next()) as Message;
  assert.deepEqual(
    JSON.parse(JSON.stringify(answer).replaceAll(id, nobody)),
    random,
    `${JSON.stringify(message(id))} must be answered as for a random id`,
  );
  return random;
}

Deno.test("pair_accept, pair_reject and pair_request across tenants answer as for a random id, whether the other client is connected or away", async () => {
  const acme = makeKey("acme");
  const globex = makeKey("globex");
  await using t = testServer({ apiKeys: [acme.record, globex.record], resumeGrace: 10 });
  const a1 = await connectResumable(t, acme.key);
  const a2 = await connectResumable(t, acme.key);
  const g1 = await connectResumable(t, globex.key);
  const g2 = await connectResumable(t, globex.key);
  // a1 has a request out to a2, so it has something an accept could find.
  await a1.ws.send({ type: "pair_request", target: a2.id });
  assert.deepEqual(await a2.ws.next(), { type: "pair_request", from: a1.id });
  const probes = [
    (id: string) => ({ type: "pair_accept", from: id }),
    (id: string) => ({ type: "pair_reject", from: id }),
    (id: string) => ({ type: "pair_request", target: id }),
  ];
  const codes = async () => {
    const seen = [];
    for (const probe of probes) seen.push((await answersAsForRandomId(g1.ws, probe, a1.id)).code);
    return seen;
  };
  assert.deepEqual(await codes(), ["no_pending_request", "no_pending_request", "unknown_peer"]);

  a1.ws.drop();
  await kept(t, a1.id);
  assert.deepEqual(await codes(), ["no_pending_request", "no_pending_request", "unknown_peer"]);
  // Within its own key, the away client is reserved, as docs/protocol.md says.
  await a2.ws.send({ type: "pair_accept", from: a1.id });
  assert.equal(((await a2.ws.next()) as Message).code, "peer_unavailable");

  // A paired prober gets already_paired for an accept, before anything about the id.
  await pair(g1, g2);
  assert.deepEqual(await codes(), ["already_paired", "no_pending_request", "unknown_peer"]);
  for (const ws of [a2.ws, g1.ws, g2.ws]) ws.drop();
});

Deno.test("revoking a key ends its sessions away in their window at once: the partner hears peer_left before its own 1008, the token dies, the key counts none", async () => {
  const acme = makeKey("acme", 5);
  const globex = makeKey("globex", 5);
  // A window far longer than the test, so only the revocation can end it.
  await using t = testServer({ apiKeys: [acme.record, globex.record], resumeGrace: 30 });
  const a1 = await connectResumable(t, acme.key);
  const a2 = await connectResumable(t, acme.key);
  await pair(a1, a2);
  // Another key's away session, which the revocation must leave alone.
  const g1 = await connectResumable(t, globex.key);
  a1.ws.drop();
  g1.ws.drop();
  await kept(t, a1.id);
  await kept(t, g1.id);
  assert.deepEqual(await a2.ws.next(), { type: "peer_reconnecting", peer: a1.id });
  assert.equal(await keyClients(t, "acme"), 2);

  // a2 closed and a1's session ended: both were the key's clients.
  assert.deepEqual(await t.server.reloadKeys([globex.record]), { keys: 1, revoked: 2 });
  // At once, not 30 s later: 1 s is a margin for a loaded machine.
  assert.deepEqual(await a2.ws.next(1000), {
    type: "peer_left",
    peer: a1.id,
    reason: "disconnected",
  });
  assert.equal(await within(a2.ws.closed, 1000, "a2's close for its revoked key"), 1008);
  await t.logs.waitFor(new RegExp(`Session of client ${a1.id} ended: its key was revoked`));
  assert.equal(await resumes(t, "revoked"), 1);
  assert.equal(await resumes(t, "timeout"), 0);
  assert.equal(t.server.sessions.awayCount, 1, "another key's window runs on");

  // The key back in the file (a revocation undone) starts from nothing: no
  // ghost counts against its limit, and the old token resumes nothing.
  assert.deepEqual(await t.server.reloadKeys([acme.record, globex.record]), {
    keys: 2,
    revoked: 0,
  });
  assert.equal(await keyClients(t, "acme"), 0);
  const late = await resumeWith(t, a1.token, acme.key);
  const fresh = (await late.next()) as Message;
  assert.equal(fresh.type, "your_id");
  assert.notEqual(fresh.id, a1.id);
  assert.equal(((await late.next()) as Message).type, "session");
  assert.equal(((await late.next()) as Message).code, "resume_failed");

  const back = await resumeWith(t, g1.token, globex.key);
  assert.deepEqual(await back.next(), { type: "your_id", id: g1.id });
  for (const ws of [late, back]) ws.drop();
});
