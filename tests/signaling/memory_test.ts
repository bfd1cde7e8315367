import assert from "node:assert/strict";
import type { ServerMessage } from "../../lib/protocol/messages.ts";
import { Registry } from "../../lib/registry.ts";
import { MemorySignaling } from "../../lib/signaling/memory.ts";
import type { Peer } from "../../lib/signaling/service.ts";
import { Child, TestClient, testServer, within } from "../support/helpers.ts";

type Message = Record<string, unknown>;

async function next(client: TestClient): Promise<Message> {
  return await client.next() as Message;
}

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

/** A registered client that records what it is sent, with no network. */
class FakePeer implements Peer {
  readonly received: Record<string, unknown>[] = [];
  onSend: (message: ServerMessage) => boolean = () => true;
  send(message: ServerMessage): boolean {
    this.received.push({ ...message });
    return this.onSend(message);
  }
}

Deno.test("MemorySignaling: partnerOf and pairCount follow a pair until it ends", () => {
  const registry = new Registry<FakePeer>();
  const signaling = new MemorySignaling(registry, { pairTimeoutMs: 30_000 });
  const a = registry.register(new FakePeer(), "127.0.0.1:1");
  const b = registry.register(new FakePeer(), "127.0.0.1:2");
  try {
    assert.equal(signaling.handle(a, { type: "pair_request", target: b }, 0), undefined);
    assert.equal(signaling.pairCount, 0);
    assert.equal(signaling.handle(b, { type: "pair_accept", from: a }, 1), undefined);
    assert.equal(signaling.partnerOf(a), b);
    assert.equal(signaling.partnerOf(b), a);
    assert.equal(signaling.pairCount, 1);
    assert.equal(signaling.handle(a, { type: "unpair" }, 2), undefined);
    assert.equal(signaling.partnerOf(b), undefined);
    assert.equal(signaling.pairCount, 0);
    // Its own families are the codes' alone, none of them moved by pairing by id.
    assert.match(signaling.metricsText(), /^switchboard_nameplates 0$/m);
    assert.match(signaling.metricsText(), /^switchboard_code_pairings_total 0$/m);
  } finally {
    signaling.close();
  }
});

Deno.test("MemorySignaling: a requester dropped while told 'paired' leaves the responder told peer_left only", () => {
  const registry = new Registry<FakePeer>();
  const signaling = new MemorySignaling(registry, { pairTimeoutMs: 30_000 });
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

Deno.test("MemorySignaling: pair_accept of an away client answers peer_unavailable only to its own tenant, and as for a random id to others", () => {
  const registry = new Registry<FakePeer>();
  const tenantOf = new Map([["away", "acme"], ["friend", "acme"], ["stranger", "globex"]]);
  const signaling = new MemorySignaling(registry, {
    pairTimeoutMs: 30_000,
    tenantOf: (id) => tenantOf.get(id),
    resume: {
      graceS: 10,
      maxQueued: 8,
      maxQueuedBytes: 4096,
      metrics: { resumed: () => {} },
      released: () => {},
    },
  });
  try {
    signaling.sessions.open("away", "acme");
    assert.ok(signaling.sessions.lost("away"));
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
    assert.equal(signaling.sessions.awayCount, 1);
  } finally {
    signaling.close();
  }
});

Deno.test("with per-client ICE servers each partner's paired carries its own, before the shared ones", async () => {
  const registry = new Registry<FakePeer>();
  const signaling = new MemorySignaling(registry, {
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
  const signaling = new MemorySignaling(registry, {
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
