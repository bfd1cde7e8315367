import assert from "node:assert/strict";
import {
  chatLines,
  closePeerConnections,
  keepPeerConnections,
  launchBrowser,
  say,
  SKIP_BROWSER_TESTS,
  waitForLine,
  waitForState,
  waitForText,
} from "../support/browser.ts";
import { TestClient, testServer } from "../support/helpers.ts";
import { TcpRelay } from "../support/tcp_relay.ts";

function browserTest(name: string, fn: () => Promise<void>): void {
  // Chromium keeps timers and sockets of its own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

function relayedChat(metrics: string): number {
  return Number(metrics.match(/relayed_messages_total\{type="relay"\} (\d+)/)?.[1]);
}

browserTest(
  "a page that loses the server shows reconnecting, resumes its id and pairing, its open data channel carries on, and one that fails meanwhile is negotiated again",
  async () => {
    await using t = testServer();
    // Alice reaches the server through a relay the test can cut; Bob directly.
    await using relay = new TcpRelay(t.port);
    await using browser = await launchBrowser();
    await keepPeerConnections(browser);
    const alice = await browser.open(`http://127.0.0.1:${relay.port}/`);
    await waitForState(alice, "ready");
    const aliceId = (await alice.textContent("#my-id")) ?? "";
    const bob = await browser.open(`http://127.0.0.1:${t.port}/?peer=${aliceId}`);
    await waitForState(alice, "pairing");
    await alice.click("#requests button:text('Accept')");
    await waitForState(alice, "open");
    await waitForState(bob, "open");

    await relay.cut();
    await waitForState(alice, "reconnecting");
    await waitForLine(bob, "system", "lost its connection; waiting for it to come back");
    // The channel is peer to peer: it works both ways while the server is out of reach.
    await say(bob, "still here?");
    await waitForLine(alice, "theirs", "still here?");
    await say(alice, "yes, and you?");
    await waitForLine(bob, "theirs", "yes, and you?");

    // Then the channel fails too: alice claims no path through a server she cannot reach.
    await closePeerConnections(bob);
    await waitForLine(alice, "system", "it is negotiated again once the server is back");
    assert.equal(await alice.isDisabled("#send"), true);
    assert.equal(await alice.textContent("#path"), "");
    assert.deepEqual(
      (await chatLines(alice, "system")).filter((line) => line.includes("via the server")),
      [],
    );
    relay.restore();

    await waitForLine(alice, "system", `Reconnected as ${aliceId}; still paired with`);
    await waitForState(alice, "open");
    assert.equal(await alice.textContent("#my-id"), aliceId);
    await waitForLine(bob, "system", "is back");
    await waitForState(bob, "open");
    await say(alice, "back, on a new channel");
    await waitForLine(bob, "theirs", "back, on a new channel");
    assert.equal(relayedChat(t.server.metrics.render(0)), 0, "no chat line went via the server");
  },
);

browserTest(
  "a page whose session ended while it was away counts down, says so, shows its new id and does not ask its ?peer= again",
  async () => {
    await using t = testServer({ resumeGrace: 0.2 });
    await using relay = new TcpRelay(t.port);
    await using browser = await launchBrowser();
    const partner = await TestClient.connect(t.url);
    await using _partner = partner.client;
    const page = await browser.open(
      `http://127.0.0.1:${relay.port}/?p2p_timeout=1&peer=${partner.id}`,
    );
    const request = (await partner.client.next()) as { type: string; from: string };
    assert.equal(request.type, "pair_request");
    const oldId = request.from;
    partner.client.send({ type: "pair_accept", from: oldId });
    assert.equal(((await partner.client.next()) as { type: string }).type, "paired");
    // No peer-to-peer channel with a WebSocket client: the server carries the chat.
    await waitForState(page, "relay");
    assert.equal(await page.textContent("#path"), "via server");

    await relay.cut();
    await waitForState(page, "reconnecting");
    // Out of reach with no channel: nothing can be sent, and no path is claimed.
    assert.equal(await page.isDisabled("#send"), true);
    assert.equal(await page.isDisabled("#ask-to-pair"), true);
    assert.equal(await page.textContent("#path"), "");
    await t.logs.waitFor(/not resumed within 0\.2 s/);
    // The wait doubles each attempt; once it is 2 s or more, it is seen counting down.
    const waiting = await waitForText(page, "#status", /reconnecting in ([2-9]|\d\d+) s/);
    const seconds = Number(/in (\d+) s/.exec(waiting)?.[1]);
    await waitForText(page, "#status", new RegExp(`reconnecting in ${seconds - 1} s`), 3000);
    relay.restore();
    await waitForLine(page, "system", "Could not resume the session (no longer paired with");
    // A ?peer= is used once: the new session does not ask the partner again.
    await waitForState(page, "ready");
    const newId = (await page.textContent("#my-id")) ?? "";
    assert.match(newId, /^[0-9a-f-]{36}$/);
    assert.notEqual(newId, oldId);
    assert.equal(
      await page.textContent("#status"),
      "Waiting: share your link, or enter a partner's id",
    );
    assert.equal(await page.isDisabled("#ask-to-pair"), false);
  },
);
