import assert from "node:assert/strict";
import { Child, spawnPeer, TestClient, testServer } from "../support/helpers.ts";
import { eventually } from "../support/hostile.ts";
import { HeldRelay } from "../support/held_relay.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

// werift leaves timers and sockets behind in the peer processes, never here:
// these tests only spawn processes and talk to them.

/** Starts a peer that accepts requests, and one that asks it; returns both with their ids. */
async function pairedPeers(url: string, ...extra: string[]) {
  const accepter = spawnPeer("--url", url, "--accept", ...extra);
  const [, accepterId = ""] = await accepter.waitForLine(ID_LINE, "stdout");
  const asker = spawnPeer("--url", url, "--pair", accepterId, ...extra);
  const [, askerId = ""] = await asker.waitForLine(ID_LINE, "stdout");
  return {
    accepter,
    accepterId,
    asker,
    askerId,
    async [Symbol.asyncDispose]() {
      await asker[Symbol.asyncDispose]();
      await accepter[Symbol.asyncDispose]();
    },
  };
}

/** Waits until each peer of the pair has printed that its data channel to the other is open. */
async function bothChannelsOpen(
  { accepter, accepterId, asker, askerId }: Awaited<ReturnType<typeof pairedPeers>>,
): Promise<void> {
  await asker.waitForLine(channelOpen(accepterId), "stdout", 20_000);
  await accepter.waitForLine(channelOpen(askerId), "stdout", 20_000);
}

function channelOpen(peer: string): RegExp {
  return new RegExp(`^\\*\\*\\* Data channel open with ${peer} \\((\\d+) ms, direct\\) \\*\\*\\*$`);
}

function relayed(metrics: string, type: string): number {
  return Number(
    metrics.match(new RegExp(`relayed_messages_total\\{type="${type}"\\} (\\d+)`))?.[1],
  );
}

Deno.test("two CLI peers open a data channel and chat over it, not through the server", async () => {
  await using t = testServer();
  await using peers = await pairedPeers(t.url);
  const { accepter, accepterId, asker, askerId } = peers;
  await bothChannelsOpen(peers);

  await asker.type("send hello over the channel");
  await accepter.waitForLine(new RegExp(`^${askerId}: hello over the channel$`), "stdout");
  await accepter.type("send hi back \u001b[31mred");
  await asker.waitForLine(new RegExp(`^${accepterId}: hi back \\\\u001b\\[31mred$`), "stdout");

  const metrics = t.server.metrics.render(t.server.registry.size);
  assert.equal(relayed(metrics, "relay"), 0, "no chat line went through the server");
  assert.equal(relayed(metrics, "offer"), 1);
  assert.equal(relayed(metrics, "answer"), 1);
  assert.ok(relayed(metrics, "candidate") >= 1, metrics);
  assert.doesNotMatch(accepter.stdout.join("\n"), /via server|offer from|ICE candidate/);

  // One peer dies without a word: the other hears it from the server and quits cleanly.
  asker.process.kill("SIGKILL");
  await accepter.waitForLine(
    new RegExp(`^\\*\\*\\* Peer ${askerId} left \\(disconnected\\) \\*\\*\\*$`),
    "stdout",
  );
  await accepter.type("quit");
  assert.equal((await accepter.exit()).code, 0);
});

Deno.test("after leave the same two CLI peers pair again and open a new channel", async () => {
  await using t = testServer();
  await using peers = await pairedPeers(t.url);
  const { accepter, accepterId, asker, askerId } = peers;
  await asker.waitForLine(channelOpen(accepterId), "stdout", 20_000);
  await asker.type("leave");
  await accepter.waitForLine(new RegExp(`Peer ${askerId} left \\(unpaired\\)`), "stdout");
  await asker.type(`pair ${accepterId}`);
  await asker.waitForLine(channelOpen(accepterId), "stdout", 20_000, 2);
  await accepter.waitForLine(channelOpen(askerId), "stdout", 20_000, 2);
  await asker.type("send second time");
  await accepter.waitForLine(new RegExp(`^${askerId}: second time$`), "stdout");
  assert.equal(relayed(t.server.metrics.render(0), "relay"), 0);
  await asker.type("quit");
  assert.equal((await asker.exit()).code, 0);
});

Deno.test("after leave the partner hears that the peer left, not that chat fell back to the server", async () => {
  await using t = testServer();
  await using peers = await pairedPeers(t.url);
  const { accepter, accepterId, asker, askerId } = peers;
  await bothChannelsOpen(peers);
  await asker.type("leave");
  await asker.waitForLine(new RegExp(`^\\*\\*\\* Left ${accepterId} \\*\\*\\*$`), "stdout");
  await accepter.waitForLine(new RegExp(`Peer ${askerId} left \\(unpaired\\)`), "stdout");
  // Its link ended with the pairing: nothing about it can be printed later.
  assert.doesNotMatch(accepter.stdout.join("\n"), /No peer-to-peer channel|via the server/);
  assert.doesNotMatch(asker.stdout.join("\n"), /No peer-to-peer channel|via the server/);
});

Deno.test("a WebRTC peer prints no error for signaling that crossed its partner's departure", async () => {
  await using t = testServer();
  await using relay = new HeldRelay(t.port);
  const partner = await TestClient.connect(t.url);
  await using _ = partner.client;
  await using peer = spawnPeer("--url", relay.url, "--pair", partner.id);
  const request = await partner.client.next(20_000) as { type: string; from: string };
  assert.equal(request.type, "pair_request");
  // What the peer sends from now on reaches the server only on release.
  relay.hold();
  partner.client.send({ type: "pair_accept", from: request.from });
  await peer.waitForLine(new RegExp(`^\\*\\*\\* Paired with ${partner.id} `), "stdout");
  // Its offer (and candidates) are out, while the pairing still stands for it.
  await eventually(() => relay.heldBytes > 0, 10_000, "the peer to send its offer");
  partner.client.send({ type: "unpair" });
  await peer.waitForLine(new RegExp(`Peer ${partner.id} left \\(unpaired\\)`), "stdout");
  // Now the server gets them: each is refused with not_paired.
  await relay.release();
  // Typed after them, so answered after them: once this is shown, so are they.
  await peer.type("pair nonsense");
  await peer.waitForLine(/^\*\*\* Error \(unknown_peer\)/, "stdout");
  const refused = t.server.metrics.render(0).match(
    /refused_requests_total\{code="not_paired"\} (\d+)/,
  );
  assert.ok(Number(refused?.[1]) >= 1, "the server refused what crossed the departure");
  assert.doesNotMatch(peer.stdout.join("\n"), /not_paired|no partner/);
  assert.doesNotMatch(peer.stderr.join("\n"), /not_paired|WARN/);
});

Deno.test("a piped 'pair B, send hello' waits for the data channel, and B gets hello over it", async () => {
  await using t = testServer();
  await using b = spawnPeer("--url", t.url, "--accept");
  const [, bId] = await b.waitForLine(ID_LINE, "stdout");
  await using a = spawnPeer("--url", t.url);
  const writer = a.process.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`pair ${bId}\nsend hello\n`));
  await writer.close();
  assert.equal((await a.exit(30_000)).code, 0, a.stderr.join("\n"));
  const aId = a.stdout[0]?.match(ID_LINE)?.[1];
  assert.ok(aId, a.stdout.join("\n"));
  await b.waitForLine(new RegExp(`^${aId}: hello$`), "stdout");
  assert.equal(relayed(t.server.metrics.render(0), "relay"), 0, "hello went peer to peer");
  assert.ok(a.stdout.some((line) => channelOpen(bId ?? "").test(line)), a.stdout.join("\n"));
  // B hears the peer leave from the server, and nothing about its channel.
  await b.waitForLine(new RegExp(`Peer ${aId} left \\(disconnected\\)`), "stdout");
  assert.doesNotMatch(b.stdout.join("\n"), /No peer-to-peer channel|via server/);
});

Deno.test("when ICE cannot succeed, CLI peers fall back to the server relay within the timeout", async () => {
  await using t = testServer();
  // Relay-only with no TURN server: no candidate can ever pair.
  await using peers = await pairedPeers(t.url, "--relay-only", "--p2p-timeout", "1");
  const { accepter, accepterId, asker, askerId } = peers;
  const fallback = (peer: string) =>
    new RegExp(
      `^\\*\\*\\* No peer-to-peer channel with ${peer} \\(no peer-to-peer connection within 1 s\\); messages go via the server \\*\\*\\*$`,
    );
  await asker.waitForLine(fallback(accepterId), "stdout");
  await accepter.waitForLine(fallback(askerId), "stdout");
  await asker.type("send still talking");
  await accepter.waitForLine(new RegExp(`^${askerId} \\(via server\\): still talking$`), "stdout");
  await accepter.type("send me too");
  await asker.waitForLine(new RegExp(`^${accepterId} \\(via server\\): me too$`), "stdout");
  assert.equal(relayed(t.server.metrics.render(0), "relay"), 2);
});

Deno.test("WebRTC mode without its permissions exits 2 with one line naming the flags", async () => {
  await using t = testServer();
  await using peer = new Child([
    "run",
    "--allow-net",
    "--no-prompt",
    "client.ts",
    "--webrtc",
    "--url",
    t.url,
  ]);
  const status = await peer.exit();
  assert.equal(status.code, 2);
  assert.deepEqual(peer.stderr, [
    "WebRTC mode needs --allow-env --allow-sys=networkInterfaces (run it with: deno task peer)",
  ]);
  assert.deepEqual(peer.stdout, []);
  assert.equal(t.server.registry.size, 0, "it never connected");
});

Deno.test("WebRTC flags without --webrtc are a usage error", async () => {
  await using peer = new Child(["run", "--allow-net", "--no-prompt", "client.ts", "--relay-only"]);
  assert.equal((await peer.exit()).code, 2);
  assert.match(peer.stderr.at(-1) ?? "", /^--relay-only works only with --webrtc$/);
});
