import assert from "node:assert/strict";
import { TestClient, type TestServer, testServer, within } from "../../support/helpers.ts";
import { RawWebSocket } from "../../support/raw_websocket.ts";

type Message = Record<string, unknown>;

/** A resumable client over raw TCP, with its id and token read. */
interface Resumable {
  ws: RawWebSocket;
  id: string;
  token: string;
}

async function next(client: { next(ms?: number): Promise<unknown> }): Promise<Message> {
  return await client.next() as Message;
}

/** Connects with `?resumable=1` and reads `your_id` and `session`. */
async function connectResumable(t: TestServer): Promise<Resumable> {
  const ws = await RawWebSocket.connect(t.port, "/?resumable=1");
  const first = await next(ws);
  assert.equal(first.type, "your_id");
  const session = await next(ws);
  assert.equal(session.type, "session");
  return { ws, id: String(first.id), token: String(session.resume_token) };
}

/** Reconnects with `?resume=<token>` and returns the first messages' reader. */
function resume(t: TestServer, token: string): Promise<RawWebSocket> {
  return RawWebSocket.connect(t.port, `/?resume=${encodeURIComponent(token)}`);
}

/** Pairs a resumable raw client (asking) with a plain TestClient (accepting). */
async function pairedWithPartner(t: TestServer) {
  const a = await connectResumable(t);
  const b = await TestClient.connect(t.url);
  await a.ws.send({ type: "pair_request", target: b.id });
  assert.deepEqual(await next(b.client), { type: "pair_request", from: a.id });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(await next(a.ws), { type: "paired", peer: b.id, initiator: true });
  assert.deepEqual(await next(b.client), { type: "paired", peer: a.id, initiator: false });
  return { a, b };
}

/** Drops `a`'s TCP connection and waits until the server keeps its session. */
async function dropAndWait(t: TestServer, a: Resumable, count = 1): Promise<void> {
  a.ws.drop();
  await t.logs.waitFor(new RegExp(`Keeping the session of client ${a.id}`), count);
}

function noTokenIn(t: TestServer, ...tokens: string[]): void {
  for (const token of tokens) {
    assert.equal(
      t.logs.lines.filter((line) => line.includes(token)).length,
      0,
      "a token was logged",
    );
  }
}

Deno.test("a client that asks with ?resumable=1 gets a session with a 128-bit token right after your_id", async () => {
  await using t = testServer();
  const a = await connectResumable(t);
  // 192 random bits in base64url: well over 128.
  assert.match(a.token, /^[A-Za-z0-9_-]{32}$/);
  const b = await connectResumable(t);
  assert.notEqual(a.token, b.token);
  a.ws.drop();
  b.ws.drop();
  noTokenIn(t, a.token, b.token);
});

Deno.test("an abrupt loss then a resume keeps the id and the pairing, and delivers what waited once, in order", async () => {
  await using t = testServer();
  const { a, b } = await pairedWithPartner(t);
  await using _b = b.client;
  await dropAndWait(t, a);
  assert.deepEqual(await next(b.client), { type: "peer_reconnecting", peer: a.id });
  // Relayed meanwhile: each waits for the client.
  for (let i = 1; i <= 5; i++) b.client.send({ type: "relay", data: `while away ${i}` });
  await t.logs.waitFor(/Relayed relay from .* to /, 5);
  // The id stays the client's: nobody else gets it, and it cannot be asked to pair.
  const c = await TestClient.connect(t.url);
  await using _c = c.client;
  c.client.send({ type: "pair_request", target: a.id });
  assert.equal((await next(c.client)).code, "peer_unavailable");

  const back = await resume(t, a.token);
  assert.deepEqual(await next(back), { type: "your_id", id: a.id });
  const session = await next(back);
  assert.equal(session.type, "session");
  assert.equal(session.grace_s, 15);
  assert.notEqual(session.resume_token, a.token);
  for (let i = 1; i <= 5; i++) {
    assert.deepEqual(await next(back), { type: "relay", data: `while away ${i}`, from: b.id });
  }
  assert.deepEqual(await next(b.client), { type: "peer_back", peer: a.id });
  assert.equal(t.server.signaling.partnerOf(a.id), b.id);
  // Still paired both ways, and nothing arrives twice.
  await back.send({ type: "relay", data: "I am back" });
  assert.deepEqual(await next(b.client), { type: "relay", data: "I am back", from: a.id });
  b.client.send({ type: "relay", data: "after" });
  assert.deepEqual(await next(back), { type: "relay", data: "after", from: b.id });
  await t.logs.waitFor(
    new RegExp(`Client ${a.id} resumed from 127\\.0\\.0\\.1:\\d+ \\(5 messages`),
  );
  assert.match(t.server.metrics.render(0), /^switchboard_resumes_total\{outcome="resumed"\} 1$/m);
  noTokenIn(t, a.token, String(session.resume_token));
  back.drop();
});

Deno.test("a resume after the window fails cleanly: the partner heard peer_left (timeout), the client gets a new id and resume_failed", async () => {
  await using t = testServer({ resumeGrace: 0.3 });
  const { a, b } = await pairedWithPartner(t);
  await using _b = b.client;
  await dropAndWait(t, a);
  assert.deepEqual(await next(b.client), { type: "peer_reconnecting", peer: a.id });
  assert.deepEqual(await next(b.client), { type: "peer_left", peer: a.id, reason: "timeout" });
  await t.logs.waitFor(new RegExp(`Session of client ${a.id} ended: not resumed within 0\\.3 s`));
  const late = await resume(t, a.token);
  const first = await next(late);
  assert.equal(first.type, "your_id");
  assert.notEqual(first.id, a.id);
  const session = await next(late);
  assert.equal(session.type, "session");
  const error = await next(late);
  assert.equal(error.type, "error");
  assert.equal(error.code, "resume_failed");
  assert.equal(t.server.signaling.partnerOf(String(first.id)), undefined);
  assert.match(t.server.metrics.render(0), /^switchboard_resumes_total\{outcome="timeout"\} 1$/m);
  late.drop();
});

Deno.test("a token works once: a second resume with it gets a new id and leaves the first alone", async () => {
  await using t = testServer();
  const { a, b } = await pairedWithPartner(t);
  await using _b = b.client;
  await dropAndWait(t, a);
  const back = await resume(t, a.token);
  assert.deepEqual(await next(back), { type: "your_id", id: a.id });
  await next(back); // session
  const again = await resume(t, a.token);
  const first = await next(again);
  assert.notEqual(first.id, a.id);
  await next(again); // session
  assert.equal((await next(again)).code, "resume_failed");
  // The first resume still holds the id and the pair.
  assert.equal(t.server.registry.size, 3);
  b.client.send({ type: "relay", data: "still you?" });
  assert.equal((await next(b.client)).type, "peer_reconnecting");
  assert.equal((await next(b.client)).type, "peer_back");
  assert.deepEqual(await next(back), { type: "relay", data: "still you?", from: b.id });
  back.drop();
  again.drop();
});

Deno.test("a token gives back only the id it was issued for; garbage and forged tokens give fresh ids", async () => {
  await using t = testServer();
  const a = await connectResumable(t);
  const b = await connectResumable(t);
  await dropAndWait(t, a);
  await dropAndWait(t, b);
  const ids = new Set([a.id, b.id]);
  const forged = [
    "",
    "x",
    a.id,
    b.id,
    a.token.slice(0, -1),
    a.token.slice(0, -1) + (a.token.endsWith("A") ? "B" : "A"),
    a.token + b.token,
    "A".repeat(4000),
  ];
  for (const token of forged) {
    const ws = await resume(t, token);
    const first = await next(ws);
    assert.equal(first.type, "your_id");
    assert.ok(!ids.has(String(first.id)), `token ${token.slice(0, 20)} took an id`);
    assert.equal((await next(ws)).type, "session");
    assert.equal((await next(ws)).code, "resume_failed");
    ws.drop();
  }
  // Failed attempts spent nothing: each client still resumes, to its own id.
  const backB = await resume(t, b.token);
  assert.deepEqual(await next(backB), { type: "your_id", id: b.id });
  const backA = await resume(t, a.token);
  assert.deepEqual(await next(backA), { type: "your_id", id: a.id });
  // And b's spent token cannot be turned into a's session or anyone else's.
  const stolen = await resume(t, b.token);
  const first = await next(stolen);
  assert.ok(!ids.has(String(first.id)));
  assert.match(
    t.server.metrics.render(0),
    new RegExp(`^switchboard_resumes_total\\{outcome="failed"\\} ${forged.length + 1}$`, "m"),
  );
  noTokenIn(t, a.token, b.token);
  for (const ws of [backA, backB, stolen]) ws.drop();
});

Deno.test("a resume while the old socket still looks open supersedes it with 4000, and its close ends nothing", async () => {
  await using t = testServer();
  const { a, b } = await pairedWithPartner(t);
  await using _b = b.client;
  const newer = await resume(t, a.token);
  assert.deepEqual(await next(newer), { type: "your_id", id: a.id });
  assert.equal((await next(newer)).type, "session");
  assert.equal(await within(a.ws.closed, 5000, "the 4000 close"), 4000);
  await t.logs.waitFor(new RegExp(`Client ${a.id} resumed from .*, replacing its connection`));
  a.ws.drop();
  // The partner never saw the swap (its next message is this one); the pair
  // carries on over the new socket.
  await newer.send({ type: "relay", data: "from the new socket" });
  assert.deepEqual(await next(b.client), {
    type: "relay",
    data: "from the new socket",
    from: a.id,
  });
  b.client.send({ type: "relay", data: "hello again" });
  assert.deepEqual(await next(newer), { type: "relay", data: "hello again", from: b.id });
  assert.equal(t.server.signaling.partnerOf(a.id), b.id);
  assert.equal(t.server.registry.size, 2);
  assert.equal(t.logs.matching(new RegExp(`Client ${a.id} disconnected`)).length, 0);
  newer.drop();
});

Deno.test("past --resume-queue messages the session ends early: the partner hears peer_left and the token fails", async () => {
  await using t = testServer({ resumeQueue: 3 });
  const { a, b } = await pairedWithPartner(t);
  await using _b = b.client;
  await dropAndWait(t, a);
  assert.equal((await next(b.client)).type, "peer_reconnecting");
  for (let i = 1; i <= 4; i++) b.client.send({ type: "relay", data: `m${i}` });
  assert.deepEqual(await next(b.client), { type: "peer_left", peer: a.id, reason: "disconnected" });
  await t.logs.waitFor(new RegExp(`Session of client ${a.id} ended: more than 3 messages`));
  const late = await resume(t, a.token);
  assert.notEqual((await next(late)).id, a.id);
  await next(late);
  assert.equal((await next(late)).code, "resume_failed");
  assert.match(t.server.metrics.render(0), /^switchboard_resumes_total\{outcome="overflow"\} 1$/m);
  late.drop();
});

Deno.test("a clean close never leaves a window: the partner hears peer_left at once and the token fails", async () => {
  await using t = testServer();
  const a = new TestClient(`${t.url}/?resumable=1`);
  const first = await next(a);
  const session = await next(a);
  const b = await TestClient.connect(t.url);
  await using _b = b.client;
  a.send({ type: "pair_request", target: b.id });
  await next(b.client);
  b.client.send({ type: "pair_accept", from: first.id });
  await next(a);
  await next(b.client);
  await a[Symbol.asyncDispose]();
  assert.deepEqual(await next(b.client), {
    type: "peer_left",
    peer: first.id,
    reason: "disconnected",
  });
  assert.equal(t.logs.matching(/Keeping the session/).length, 0);
  const late = await resume(t, String(session.resume_token));
  assert.notEqual((await next(late)).id, first.id);
  await next(late);
  assert.equal((await next(late)).code, "resume_failed");
  late.drop();
});

Deno.test("a client that did not ask for resumability gets no session and no window", async () => {
  await using t = testServer();
  const a = await RawWebSocket.connect(t.port, "/");
  const { id } = await next(a);
  const b = await TestClient.connect(t.url);
  await using _b = b.client;
  await a.send({ type: "pair_request", target: b.id });
  await next(b.client);
  b.client.send({ type: "pair_accept", from: id });
  assert.equal((await next(a)).type, "paired");
  await next(b.client);
  a.drop();
  assert.deepEqual(await next(b.client), { type: "peer_left", peer: id, reason: "disconnected" });
  assert.equal(t.logs.matching(/Keeping the session/).length, 0);
});

Deno.test("during the window a pending request from the away client cannot be accepted, and keeps its timeout", async () => {
  await using t = testServer({ pairTimeout: 0.5 });
  const a = await connectResumable(t);
  const b = await TestClient.connect(t.url);
  await using _b = b.client;
  await a.ws.send({ type: "pair_request", target: b.id });
  assert.deepEqual(await next(b.client), { type: "pair_request", from: a.id });
  await dropAndWait(t, a);
  b.client.send({ type: "pair_accept", from: a.id });
  assert.equal((await next(b.client)).code, "peer_unavailable");
  assert.deepEqual(await next(b.client), {
    type: "pair_cancelled",
    from: a.id,
    reason: "timeout",
  });
  // The requester hears of the timeout when it is back.
  const back = await resume(t, a.token);
  assert.deepEqual(await next(back), { type: "your_id", id: a.id });
  await next(back);
  assert.deepEqual(await next(back), { type: "pair_rejected", peer: b.id, reason: "timeout" });
  back.drop();
});

Deno.test("with --resume-grace 0 a resumable client gets no session and a resume fails", async () => {
  await using t = testServer({ resumeGrace: 0 });
  const a = new TestClient(`${t.url}/?resumable=1`);
  await using _a = a;
  assert.equal((await next(a)).type, "your_id");
  const late = await resume(t, "anything");
  assert.equal((await next(late)).type, "your_id");
  assert.equal((await next(late)).code, "resume_failed");
  a.send({ type: "unpair" });
  // The next message answers the unpair: nothing came in between.
  assert.equal((await next(a)).code, "not_paired");
  late.drop();
});

Deno.test("a shutdown with a session waiting ends promptly", async () => {
  const t = testServer();
  const a = await connectResumable(t);
  await dropAndWait(t, a);
  await within(t.server.shutdown(), 5000, "the shutdown");
  assert.equal(t.server.sessions.awayCount, 0);
});
