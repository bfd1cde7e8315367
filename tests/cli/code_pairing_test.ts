import assert from "node:assert/strict";
import { Child, spawnPeer, TestClient, testServer } from "../support/helpers.ts";
import { rewritingProxy, swapFingerprints } from "../support/rewriting_proxy.ts";
import { failureLine } from "../../lib/cli/code_pairing.ts";

// werift leaves timers and sockets behind in the peer processes, never here:
// these tests only spawn processes and talk to them.

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;
const CODE_LINE =
  /^\*\*\* Your code: (\d+)-([a-z]+-[a-z]+) \(for one pairing, within 5 min\) \*\*\*$/;

/** Starts a peer that asks for a code, and returns it with its code. */
async function holder(
  url: string,
): Promise<{ peer: Child; id: string; nameplate: string; password: string }> {
  const peer = spawnPeer("--url", url, "--code");
  const [, id = ""] = await peer.waitForLine(ID_LINE, "stdout", 15_000);
  const [, nameplate = "", password = ""] = await peer.waitForLine(CODE_LINE, "stdout", 15_000);
  return { peer, id, nameplate, password };
}

function channelOpen(peer: string): RegExp {
  return new RegExp(`^\\*\\*\\* Data channel open with ${peer} \\(\\d+ ms, direct\\) \\*\\*\\*$`);
}

function line(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

Deno.test("two CLI peers pair by a code typed as the last argument, prove it, and chat end to end", async () => {
  await using t = testServer();
  const shown = await holder(t.url);
  await using _holder = shown.peer;
  const code = `${shown.nameplate}-${shown.password}`;
  // The link and the QR code come with the code.
  await shown.peer.waitForLine(
    line(
      `*** On the other side: deno task peer ${code}, or open http://127.0.0.1:${t.port}/#code=${code} ***`,
    ),
    "stdout",
  );
  assert.ok(shown.peer.stdout.some((text) => /^[█▀▄ ]{20,}$/.test(text)), "a QR code is drawn");
  // The server never saw the password.
  assert.ok(
    !t.logs.lines.some((text) => text.includes(shown.password)),
    "the password stays off the server",
  );

  await using user = spawnPeer("--url", t.url, code);
  const [, userId = ""] = await user.waitForLine(ID_LINE, "stdout", 15_000);
  await user.waitForLine(
    line(`*** Paired with ${shown.id} by code ***`),
    "stdout",
  );
  await user.waitForLine(
    line(`*** The code matched: ${shown.id} knows it too. Connecting end to end… ***`),
    "stdout",
  );
  await shown.peer.waitForLine(
    line(`*** The code matched: ${userId} knows it too. Connecting end to end… ***`),
    "stdout",
  );
  await user.waitForLine(channelOpen(shown.id), "stdout", 20_000);
  await shown.peer.waitForLine(channelOpen(userId), "stdout", 20_000);
  await user.waitForLine(
    /no need to compare: the pairing proved no one is in between/,
    "stdout",
  );

  await user.type("send over a proven channel");
  await shown.peer.waitForLine(line(`${userId}: over a proven channel`), "stdout");
  const metrics = t.server.metrics.render(t.server.registry.size) +
    t.server.signaling.metricsText();
  assert.match(metrics, /^switchboard_code_pairings_total 1$/m);
  assert.match(metrics, /^switchboard_nameplates 0$/m);
});

Deno.test("a wrong password ends the pairing on both sides, and the code is spent", async () => {
  await using t = testServer();
  const shown = await holder(t.url);
  await using _holder = shown.peer;
  const wrong = shown.password === "tidy-orbit" ? "tidy-otter" : "tidy-orbit";
  await using user = spawnPeer("--url", t.url, `${shown.nameplate}-${wrong}`);
  const wrongLine = line(failureLine("wrong_code", false, `${shown.nameplate}-${wrong}`));
  await user.waitForLine(wrongLine, "stdout", 15_000);
  await shown.peer.waitForLine(
    line(failureLine("wrong_code", false, `${shown.nameplate}-${shown.password}`)),
    "stdout",
  );
  // The holder ends the pairing: the one who typed hears it at once.
  await user.waitForLine(/^\*\*\* Peer [0-9a-f-]{36} left \(unpaired\) \*\*\*$/, "stdout");
  assert.ok(!user.stdout.some((text) => /Data channel open/.test(text)), "nothing connected");

  // One guess per code: the nameplate is gone for everyone.
  const { client: guesser } = await TestClient.connect(t.url);
  await using _guesser = guesser;
  guesser.send({ type: "code_use", nameplate: shown.nameplate });
  const refused = await guesser.next() as { code: string };
  assert.equal(refused.code, "unknown_nameplate");
});

Deno.test("a server that swaps the fingerprints in the descriptions it relays is refused on both sides", async () => {
  await using t = testServer();
  await using proxy = rewritingProxy(t.url, swapFingerprints);
  const shown = await holder(proxy.url);
  await using _holder = shown.peer;
  await using user = spawnPeer("--url", proxy.url, `${shown.nameplate}-${shown.password}`);
  await user.waitForLine(/^\*\*\* The code matched: /, "stdout", 15_000);
  // The holder makes the offer; the user receives it changed and refuses it; the holder hears why.
  await user.waitForLine(line(failureLine("tampered", false, "")), "stdout", 20_000);
  await shown.peer.waitForLine(line(failureLine("tampered", true, "")), "stdout", 20_000);
  assert.ok(proxy.rewritten >= 1, "the proxy changed a description");
  for (const peer of [shown.peer, user]) {
    assert.ok(!peer.stdout.some((text) => /Data channel open/.test(text)), "nothing connected");
    assert.ok(!peer.stdout.some((text) => /messages go via the server/.test(text)), "no fall-back");
  }
});

Deno.test("a mistyped code is refused where it was typed, and its words never reach the server", async () => {
  await using t = testServer();
  await using peer = spawnPeer("--url", t.url);
  await peer.waitForLine(ID_LINE, "stdout", 15_000);
  await peer.type("pair 7-tidy-orbitt");
  await peer.waitForLine(
    /^\*\*\* not a code: a code is a number and two words from the list, such as 7-tidy-orbit \*\*\*$/,
    "stdout",
  );
  // A real id still goes to the server: its refusal shows the round trip was made.
  await peer.type("pair 12345678-1234-4abc-8def-123456789abc");
  await peer.waitForLine(/^\*\*\* Error \(unknown_peer\)/, "stdout");
  assert.ok(!t.logs.lines.some((line) => line.includes("orbitt")), "the words stayed here");
});
