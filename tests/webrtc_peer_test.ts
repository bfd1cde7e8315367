import assert from "node:assert/strict";
import { Child, spawnPeer, testServer } from "./helpers.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

// werift leaves timers and sockets behind in the peer processes, never here:
// these tests only spawn processes and talk to them.

/** Starts a peer that accepts requests, and one that asks it; returns both with their ids. */
async function pairedPeers(url: string, ...extra: string[]) {
  const accepter = spawnPeer("--url", url, "--accept", ...extra);
  const [, accepterId = ""] = await accepter.waitForLine(ID_LINE, "stdout");
  const asker = spawnPeer("--url", url, "--pair", accepterId, ...extra);
  const [, askerId = ""] = await asker.waitForLine(ID_LINE, "stdout");
  return { accepter, accepterId, asker, askerId };
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
  const { accepter, accepterId, asker, askerId } = await pairedPeers(t.url);
  await using _a = accepter;
  await using _b = asker;
  await asker.waitForLine(channelOpen(accepterId), "stdout", 20_000);
  await accepter.waitForLine(channelOpen(askerId), "stdout", 20_000);

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
  const { accepter, accepterId, asker, askerId } = await pairedPeers(t.url);
  await using _a = accepter;
  await using _b = asker;
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

Deno.test("when ICE cannot succeed, CLI peers fall back to the server relay within the timeout", async () => {
  await using t = testServer();
  // Relay-only with no TURN server: no candidate can ever pair.
  const { accepter, accepterId, asker, askerId } = await pairedPeers(
    t.url,
    "--relay-only",
    "--p2p-timeout",
    "1",
  );
  await using _a = accepter;
  await using _b = asker;
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
  assert.match(peer.stderr[0] ?? "", /^--relay-only works only with --webrtc$/);
});
