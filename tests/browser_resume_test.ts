import assert from "node:assert/strict";
import { launchBrowser, say, SKIP_BROWSER_TESTS, waitForLine, waitForState } from "./browser.ts";
import { TestClient, testServer } from "./helpers.ts";
import { TcpRelay } from "./tcp_relay.ts";

function browserTest(name: string, fn: () => Promise<void>): void {
  // Chromium keeps timers and sockets of its own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

function relayedChat(metrics: string): number {
  return Number(metrics.match(/relayed_messages_total\{type="relay"\} (\d+)/)?.[1]);
}

browserTest(
  "a page that loses the server shows reconnecting, resumes its id and pairing, and its open data channel carries on",
  async () => {
    await using t = testServer();
    // Alice reaches the server through a relay the test can cut; Bob directly.
    await using relay = new TcpRelay(t.port);
    await using browser = await launchBrowser();
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
    // The channel is peer to peer: it works while the server is out of reach.
    await say(bob, "still here?");
    await waitForLine(alice, "theirs", "still here?");
    relay.restore();

    await waitForLine(alice, "system", `Reconnected as ${aliceId}; still paired with`);
    await waitForState(alice, "open");
    assert.equal(await alice.textContent("#my-id"), aliceId);
    await waitForLine(bob, "system", "is back");
    await say(alice, "back, and never left the channel");
    await waitForLine(bob, "theirs", "back, and never left the channel");
    assert.equal(relayedChat(t.server.metrics.render(0)), 0, "no chat line went via the server");
  },
);

browserTest(
  "a page whose session ended while it was away says so and shows its new id",
  async () => {
    await using t = testServer({ resumeGrace: 0.2 });
    await using relay = new TcpRelay(t.port);
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${relay.port}/?p2p_timeout=1`);
    await waitForState(page, "ready");
    const oldId = (await page.textContent("#my-id")) ?? "";
    const partner = await TestClient.connect(t.url);
    await using _partner = partner.client;
    partner.client.send({ type: "pair_request", target: oldId });
    await page.click("#requests button:text('Accept')");
    assert.equal(((await partner.client.next()) as { type: string }).type, "paired");

    await relay.cut();
    await waitForState(page, "reconnecting");
    await t.logs.waitFor(/not resumed within 0\.2 s/);
    relay.restore();
    await waitForLine(page, "system", "Could not resume the session (no longer paired with");
    await waitForState(page, "ready");
    const newId = (await page.textContent("#my-id")) ?? "";
    assert.match(newId, /^[0-9a-f-]{36}$/);
    assert.notEqual(newId, oldId);
  },
);
