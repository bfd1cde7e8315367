import assert from "node:assert/strict";
import type { ServerMessage } from "../../lib/protocol/messages.ts";
import { Registry } from "../../lib/registry.ts";
import { type Peer, Signaling } from "../../lib/signaling/memory.ts";
import { Child, TestClient, testServer, within } from "../support/helpers.ts";

type Message = Record<string, unknown>;

async function next(client: TestClient): Promise<Message> {
  return await client.next() as Message;
}

/** Connects two clients, and `a` asks `b`; `b` has received the request. */
async function requestedClients(url: string) {
  const a = await TestClient.connect(url);
  const b = await TestClient.connect(url);
  a.client.send({ type: "pair_request", target: b.id });
  assert.deepEqual(await next(b.client), { type: "pair_request", from: a.id });
  return { a, b };
}

/** Connects two clients and pairs them: `a` asks, `b` accepts. */
async function pairedClients(url: string) {
  const { a, b } = await requestedClients(url);
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(await next(a.client), { type: "paired", peer: b.id, initiator: true });
  assert.deepEqual(await next(b.client), { type: "paired", peer: a.id, initiator: false });
  return { a, b };
}

Deno.test("pair_request then pair_accept pairs both clients, the requester as initiator", async () => {
  await using t = testServer();
  const { a, b } = await pairedClients(t.url);
  await using _a = a.client;
  await using _b = b.client;
  assert.equal(t.server.signaling.partnerOf(a.id), b.id);
  assert.equal(t.server.signaling.pairCount, 1);
  await t.logs.waitFor(new RegExp(`INFO: Clients ${a.id} and ${b.id} paired\\.`));
});

Deno.test("offer, answer, candidate and relay reach the partner with the server's from", async () => {
  await using t = testServer();
  const { a, b } = await pairedClients(t.url);
  await using _a = a.client;
  await using _b = b.client;
  a.client.send({ type: "offer", sdp: "v=0 offer", from: "forged" });
  assert.deepEqual(await next(b.client), { type: "offer", sdp: "v=0 offer", from: a.id });
  b.client.send({ type: "answer", sdp: "v=0 answer" });
  assert.deepEqual(await next(a.client), { type: "answer", sdp: "v=0 answer", from: b.id });
  const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" };
  a.client.send({ type: "candidate", candidate });
  assert.deepEqual(await next(b.client), { type: "candidate", candidate, from: a.id });
  b.client.send({ type: "candidate", candidate: null, from: a.id });
  assert.deepEqual(await next(a.client), { type: "candidate", candidate: null, from: b.id });
  b.client.send({ type: "relay", data: { n: [1, 2] }, extra: "dropped" });
  assert.deepEqual(await next(a.client), { type: "relay", data: { n: [1, 2] }, from: b.id });
  // SDP bodies stay out of the info log.
  assert.equal(t.logs.matching(/^INFO: .*v=0/).length, 0);
});

Deno.test("pair_reject tells the requester, and a later accept finds no request", async () => {
  await using t = testServer();
  const { a, b } = await requestedClients(t.url);
  await using _a = a.client;
  await using _b = b.client;
  b.client.send({ type: "pair_reject", from: a.id });
  assert.deepEqual(await next(a.client), {
    type: "pair_rejected",
    peer: b.id,
    reason: "rejected",
  });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(pick(await next(b.client)), { type: "error", code: "no_pending_request" });
});

Deno.test("a pending request times out after --pair-timeout", async () => {
  await using t = testServer({ pairTimeout: 0.2 });
  const { a, b } = await requestedClients(t.url);
  await using _a = a.client;
  await using _b = b.client;
  assert.deepEqual(await next(a.client), {
    type: "pair_rejected",
    peer: b.id,
    reason: "timeout",
  });
  assert.deepEqual(await next(b.client), {
    type: "pair_cancelled",
    from: a.id,
    reason: "timeout",
  });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(pick(await next(b.client)), { type: "error", code: "no_pending_request" });
});

Deno.test("pair_request is refused for an unknown id, for oneself, and for a busy client", async () => {
  await using t = testServer();
  const { a, b } = await pairedClients(t.url);
  const c = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  await using _c = c.client;
  c.client.send({ type: "pair_request", target: crypto.randomUUID() });
  assert.deepEqual(pick(await next(c.client)), { type: "error", code: "unknown_peer" });
  c.client.send({ type: "pair_request", target: c.id });
  assert.deepEqual(pick(await next(c.client)), { type: "error", code: "self_pair" });
  c.client.send({ type: "pair_request", target: a.id });
  assert.deepEqual(pick(await next(c.client)), { type: "error", code: "peer_busy" });
  a.client.send({ type: "pair_request", target: c.id });
  assert.deepEqual(pick(await next(a.client)), { type: "error", code: "already_paired" });
});

Deno.test("asking the same target again refreshes the request without telling it twice", async () => {
  await using t = testServer();
  const a = await TestClient.connect(t.url);
  const b = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  a.client.send({ type: "pair_request", target: b.id });
  a.client.send({ type: "pair_request", target: b.id });
  // a's answer to a bad frame after both requests means the server has handled both.
  a.client.send("{");
  assert.deepEqual(pick(await next(a.client)), { type: "error", code: "invalid_json" });
  assert.deepEqual(await next(b.client), { type: "pair_request", from: a.id });
  // b's next message is the answer to its own frame: no second pair_request.
  b.client.send("{");
  assert.deepEqual(pick(await next(b.client)), { type: "error", code: "invalid_json" });
  assert.equal(t.logs.matching(/asked to pair/).length, 1);
});

Deno.test("a message with a missing or mistyped field is invalid_message naming the field", async () => {
  await using t = testServer();
  const { client } = await TestClient.connect(t.url);
  await using _ = client;
  client.send({ type: "pair_request", target: 42 });
  const error = await next(client);
  assert.equal(error.code, "invalid_message");
  assert.match(String(error.message), /"target"/);
  client.send({ type: "offer" });
  assert.match(String((await next(client)).message), /"sdp"/);
  client.send({ type: "relay" });
  assert.match(String((await next(client)).message), /"data"/);
});

Deno.test("relaying without a partner is refused with not_paired and reaches nobody", async () => {
  await using t = testServer();
  const a = await TestClient.connect(t.url);
  const b = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  for (const message of [{ type: "relay", data: "x" }, { type: "offer", sdp: "x" }]) {
    a.client.send(message);
    assert.deepEqual(pick(await next(a.client)), { type: "error", code: "not_paired" });
  }
  a.client.send({ type: "unpair" });
  assert.deepEqual(pick(await next(a.client)), { type: "error", code: "not_paired" });
  // b heard nothing: the next thing it receives is the answer to its own message.
  b.client.send("{");
  assert.deepEqual(pick(await next(b.client)), { type: "error", code: "invalid_json" });
  // An ordinary refusal, not bad input: counted apart and logged at debug level only.
  const metrics = t.server.metrics.render(2);
  assert.match(metrics, /^switchboard_refused_requests_total\{code="not_paired"\} 3$/m);
  assert.doesNotMatch(metrics, /bad_messages_total\{code="not_paired"\}/);
  assert.equal(t.logs.matching(new RegExp(`Bad message from client ${a.id}`)).length, 0);
  assert.equal(
    t.logs.matching(/^DEBUG: Refused relay from client .*: pair before sending/).length,
    1,
  );
});

Deno.test("unpair tells the partner peer_left (unpaired) and ends the relay", async () => {
  await using t = testServer();
  const { a, b } = await pairedClients(t.url);
  await using _a = a.client;
  await using _b = b.client;
  a.client.send({ type: "unpair" });
  assert.deepEqual(await next(b.client), { type: "peer_left", peer: a.id, reason: "unpaired" });
  b.client.send({ type: "relay", data: "still there?" });
  assert.deepEqual(pick(await next(b.client)), { type: "error", code: "not_paired" });
  assert.equal(t.server.signaling.pairCount, 0);
});

Deno.test("a paired client killed with SIGKILL: its partner hears peer_left within a second", async () => {
  await using t = testServer();
  await using other = new Child([
    "run",
    "--allow-net",
    "--no-prompt",
    "client.ts",
    "--accept",
    "--url",
    t.url,
  ]);
  const [, otherId = ""] = await other.waitForLine(/Your Client ID: (\S+) \*\*\*/, "stdout");
  const { client, id } = await TestClient.connect(t.url);
  await using _ = client;
  client.send({ type: "pair_request", target: otherId });
  assert.deepEqual(await next(client), { type: "paired", peer: otherId, initiator: true });
  await other.waitForLine(new RegExp(`Paired with ${id}`), "stdout");
  other.process.kill("SIGKILL");
  const left = await client.next(1000);
  assert.deepEqual(left, { type: "peer_left", peer: otherId, reason: "disconnected" });
});

Deno.test("a target that leaves ends the requests to it with pair_rejected (peer_left)", async () => {
  await using t = testServer();
  const { a, b } = await requestedClients(t.url);
  await using _a = a.client;
  b.client.socket.close(1000);
  assert.deepEqual(await next(a.client), {
    type: "pair_rejected",
    peer: b.id,
    reason: "peer_left",
  });
});

Deno.test("a requester that leaves withdraws its request and the target hears pair_cancelled", async () => {
  await using t = testServer();
  const { a, b } = await requestedClients(t.url);
  await using _b = b.client;
  a.client.socket.close(1000);
  assert.deepEqual(await next(b.client), {
    type: "pair_cancelled",
    from: a.id,
    reason: "peer_left",
  });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(pick(await next(b.client)), { type: "error", code: "no_pending_request" });
  assert.equal(t.server.signaling.pairCount, 0);
});

Deno.test("accepting one request ends the competing ones with pair_rejected", async () => {
  await using t = testServer();
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => TestClient.connect(t.url)));
  assert.ok(a && b && c);
  await using _a = a.client;
  await using _b = b.client;
  await using _c = c.client;
  a.client.send({ type: "pair_request", target: b.id });
  await next(b.client);
  c.client.send({ type: "pair_request", target: b.id });
  await next(b.client);
  b.client.send({ type: "pair_accept", from: a.id });
  assert.equal((await next(a.client)).type, "paired");
  assert.deepEqual(await next(c.client), { type: "pair_rejected", peer: b.id, reason: "rejected" });
});

Deno.test("asking another client cancels the first request: its target hears pair_cancelled (replaced)", async () => {
  await using t = testServer();
  const { a, b } = await requestedClients(t.url);
  const c = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  await using _c = c.client;
  a.client.send({ type: "pair_request", target: c.id });
  assert.deepEqual(await next(b.client), {
    type: "pair_cancelled",
    from: a.id,
    reason: "replaced",
  });
  assert.deepEqual(await next(c.client), { type: "pair_request", from: a.id });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(pick(await next(b.client)), { type: "error", code: "no_pending_request" });
});

Deno.test("a requester that pairs with someone else cancels its request: the target hears pair_cancelled (paired)", async () => {
  await using t = testServer();
  const { a, b } = await requestedClients(t.url);
  const c = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  await using _c = c.client;
  c.client.send({ type: "pair_request", target: a.id });
  assert.deepEqual(await next(a.client), { type: "pair_request", from: c.id });
  a.client.send({ type: "pair_accept", from: c.id });
  assert.deepEqual(await next(a.client), { type: "paired", peer: c.id, initiator: false });
  assert.deepEqual(await next(b.client), { type: "pair_cancelled", from: a.id, reason: "paired" });
  await t.logs.waitFor(
    new RegExp(`INFO: Pair request from ${a.id} to ${b.id} cancelled \\(paired\\)\\.`),
  );
});

Deno.test("a request to the initiator ends with pair_rejected naming the initiator when it pairs", async () => {
  await using t = testServer();
  const { a, b } = await requestedClients(t.url);
  const d = await TestClient.connect(t.url);
  await using _a = a.client;
  await using _b = b.client;
  await using _d = d.client;
  d.client.send({ type: "pair_request", target: a.id });
  assert.deepEqual(await next(a.client), { type: "pair_request", from: d.id });
  b.client.send({ type: "pair_accept", from: a.id });
  assert.deepEqual(await next(d.client), { type: "pair_rejected", peer: a.id, reason: "rejected" });
});

Deno.test("500 pairs relay 20 messages each: every one reaches its partner, in order", async () => {
  await using t = testServer();
  const PAIRS = 500;
  const MESSAGES = 20;
  const pairs = await Promise.all(
    Array.from({ length: PAIRS }, () => pairedClients(t.url)),
  );
  try {
    await within(
      Promise.all(
        pairs.flatMap(({ a, b }) => [[a, b], [b, a]]).map(async ([from, to]) => {
          assert.ok(from && to);
          for (let i = 0; i < MESSAGES; i++) {
            from.client.send({ type: "relay", data: { i, sender: from.id } });
          }
          for (let i = 0; i < MESSAGES; i++) {
            assert.deepEqual(await next(to.client), {
              type: "relay",
              data: { i, sender: from.id },
              from: from.id,
            });
          }
        }),
      ),
      30_000,
      "every relayed message",
    );
    assert.equal(t.server.signaling.pairCount, PAIRS);
  } finally {
    for (const { a, b } of pairs) {
      a.client.socket.close(1000);
      b.client.socket.close(1000);
    }
    await within(
      Promise.all(pairs.flatMap(({ a, b }) => [a.client.closed, b.client.closed])),
      10_000,
      `the ${PAIRS * 2} clients to close`,
    );
  }
});

Deno.test("two interactive clients pair and exchange a line through stdin", async () => {
  await using t = testServer();
  const spawn = () =>
    new Child(["run", "--allow-net", "--no-prompt", "client.ts", "--url", t.url], undefined, true);
  await using alice = spawn();
  await using bob = spawn();
  const [, aliceId] = await alice.waitForLine(/Your Client ID: (\S+) \*\*\*/, "stdout");
  const [, bobId] = await bob.waitForLine(/Your Client ID: (\S+) \*\*\*/, "stdout");
  await alice.waitForLine(/^\*\*\* Type help for the commands \*\*\*$/, "stdout");
  await alice.type("send too early");
  await alice.waitForLine(
    /^\*\*\* No partner to send to: pair with someone first \*\*\*$/,
    "stdout",
  );
  await alice.type("leave");
  await alice.waitForLine(/^\*\*\* No partner to leave \*\*\*$/, "stdout");
  await alice.type(`pair ${bobId}`);
  await alice.waitForLine(
    new RegExp(`^\\*\\*\\* Asked ${bobId} to pair; waiting for an answer \\*\\*\\*$`),
    "stdout",
  );
  await bob.waitForLine(new RegExp(`^\\*\\*\\* Pair request from ${aliceId} `), "stdout");
  await bob.type("accept");
  await alice.waitForLine(new RegExp(`^\\*\\*\\* Paired with ${bobId} \\*\\*\\*$`), "stdout");
  await bob.waitForLine(new RegExp(`^\\*\\*\\* Paired with ${aliceId} \\*\\*\\*$`), "stdout");
  await alice.type("send hello, bob");
  await bob.waitForLine(new RegExp(`^${aliceId}: hello, bob$`), "stdout");
  await bob.type("leave");
  await bob.waitForLine(new RegExp(`^\\*\\*\\* Left ${aliceId} \\*\\*\\*$`), "stdout");
  await alice.waitForLine(
    new RegExp(`^\\*\\*\\* Peer ${bobId} left \\(unpaired\\) \\*\\*\\*$`),
    "stdout",
  );
  await alice.type("quit");
  assert.equal((await alice.exit()).code, 0);
});

function pick(message: Message): Message {
  return { type: message.type, code: message.code };
}

/** A registered client that records what it is sent, with no network. */
class FakePeer implements Peer {
  readonly received: Record<string, unknown>[] = [];
  onSend: (message: ServerMessage) => boolean = () => true;
  send(message: ServerMessage): boolean {
    this.received.push({ ...message });
    return this.onSend(message);
  }
}

Deno.test("Signaling: a requester dropped while told 'paired' leaves the responder told peer_left only", () => {
  const registry = new Registry<FakePeer>();
  const signaling = new Signaling(registry, { pairTimeoutMs: 30_000 });
  const requester = new FakePeer();
  const responder = new FakePeer();
  const a = registry.register(requester, "127.0.0.1:1");
  const b = registry.register(responder, "127.0.0.1:2");
  try {
    // As a connection that does not read is dropped inside its own send.
    requester.onSend = (message) => {
      if (message.type !== "paired") return true;
      registry.unregister(a);
      signaling.disconnected(a);
      return false;
    };
    assert.equal(signaling.handle(a, { type: "pair_request", target: b }, 0), undefined);
    assert.equal(signaling.handle(b, { type: "pair_accept", from: a }, 1), undefined);
    assert.deepEqual(responder.received, [
      { type: "pair_request", from: a },
      { type: "peer_left", peer: a, reason: "disconnected" },
    ]);
    assert.equal(signaling.partnerOf(b), undefined);
    assert.equal(signaling.pairCount, 0);
  } finally {
    signaling.close();
  }
});

Deno.test("Signaling: pair_accept of an away client answers peer_unavailable only to its own tenant, and as for a random id to others", () => {
  const registry = new Registry<FakePeer>();
  const tenantOf = new Map([["away", "acme"], ["friend", "acme"], ["stranger", "globex"]]);
  const held: string[] = [];
  const signaling = new Signaling(registry, {
    pairTimeoutMs: 30_000,
    absentees: { isAway: (id) => id === "away", hold: (id) => held.push(id) },
    canReach: (from, to) => tenantOf.has(from) && tenantOf.get(from) === tenantOf.get(to),
  });
  try {
    const random = crypto.randomUUID();
    const answer = (me: string, from: string) =>
      JSON.stringify(signaling.handle(me, { type: "pair_accept", from }, 0)).replaceAll(from, "X");
    assert.equal(
      JSON.parse(answer("friend", "away")).code,
      "peer_unavailable",
      "its own tenant may know",
    );
    assert.equal(answer("stranger", "away"), answer("stranger", random));
    assert.equal(JSON.parse(answer("stranger", "away")).code, "no_pending_request");
    assert.deepEqual(held, [], "nothing reached the away client");
  } finally {
    signaling.close();
  }
});

Deno.test("with per-client ICE servers each partner's paired carries its own, before the shared ones", async () => {
  const registry = new Registry<FakePeer>();
  const signaling = new Signaling(registry, {
    pairTimeoutMs: 30_000,
    iceServers: [{ urls: "stun:stun.example" }],
    iceServersFor: (id) => Promise.resolve([{ urls: "turn:t.example", username: `u:${id}` }]),
  });
  const requester = new FakePeer();
  const responder = new FakePeer();
  const a = registry.register(requester, "127.0.0.1:1");
  const b = registry.register(responder, "127.0.0.1:2");
  const responderPaired = new Promise<void>((resolve) => {
    responder.onSend = (message) => (message.type === "paired" && resolve(), true);
  });
  try {
    signaling.handle(a, { type: "pair_request", target: b }, 0);
    signaling.handle(b, { type: "pair_accept", from: a }, 1);
    await within(responderPaired, 1000, "paired to the responder");
    assert.deepEqual(requester.received, [{
      type: "paired",
      peer: b,
      initiator: true,
      iceServers: [{ urls: "turn:t.example", username: `u:${a}` }, { urls: "stun:stun.example" }],
    }]);
    assert.deepEqual(responder.received.at(-1), {
      type: "paired",
      peer: a,
      initiator: false,
      iceServers: [{ urls: "turn:t.example", username: `u:${b}` }, { urls: "stun:stun.example" }],
    });
  } finally {
    signaling.close();
  }
});

Deno.test("a pairing that ends while per-client ICE servers are issued sends no paired", async () => {
  const registry = new Registry<FakePeer>();
  let issue = () => {};
  const issued = new Promise<void>((resolve) => issue = resolve);
  const signaling = new Signaling(registry, {
    pairTimeoutMs: 30_000,
    iceServersFor: async () => (await issued, [{ urls: "turn:t.example" }]),
  });
  const requester = new FakePeer();
  const responder = new FakePeer();
  const a = registry.register(requester, "127.0.0.1:1");
  const b = registry.register(responder, "127.0.0.1:2");
  try {
    signaling.handle(a, { type: "pair_request", target: b }, 0);
    signaling.handle(b, { type: "pair_accept", from: a }, 1);
    assert.equal(signaling.handle(b, { type: "unpair" }, 2), undefined);
    issue();
    // Everything that follows the issue runs in microtasks, before this timer.
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(requester.received, [{ type: "peer_left", peer: b, reason: "unpaired" }]);
    assert.deepEqual(responder.received, [{ type: "pair_request", from: a }]);
  } finally {
    signaling.close();
  }
});
