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
import { spawnPeer, testServer } from "../support/helpers.ts";
import type { Page } from "../support/browser_deps.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

/** Where a test run leaves the README's screenshot, when asked to. */
const SCREENSHOT = Deno.env.get("SWITCHBOARD_SCREENSHOT");

function browserTest(name: string, fn: () => Promise<void>): void {
  // Chromium and werift keep timers and sockets of their own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

async function idOf(page: Page): Promise<string> {
  await waitForState(page, "ready");
  return (await page.textContent("#my-id")) ?? "";
}

function relayedChat(metrics: string): number {
  return Number(metrics.match(/relayed_messages_total\{type="relay"\} (\d+)/)?.[1]);
}

/** The chat lines that say messages go through the server. */
async function claimsServerPath(page: Page): Promise<string[]> {
  return (await chatLines(page, "system")).filter((line) => line.includes("via the server"));
}

browserTest(
  "two browser pages pair by link, open a data channel and chat peer to peer",
  async () => {
    await using t = testServer();
    await using browser = await launchBrowser();
    await keepPeerConnections(browser);
    const alice = await browser.open(`http://127.0.0.1:${t.port}/`);
    const aliceId = await idOf(alice);
    assert.match(aliceId, /^[0-9a-f-]{36}$/);
    const link = await alice.inputValue("#share-link");
    assert.equal(link, `http://127.0.0.1:${t.port}/?peer=${aliceId}`);

    const bob = await browser.open(link);
    await waitForState(bob, "pairing");
    // A ?peer= is used once: it leaves the address bar, so nothing asks again.
    assert.equal(bob.url(), `http://127.0.0.1:${t.port}/`);
    await waitForState(alice, "pairing");
    assert.equal(await alice.isDisabled("#send"), true, "no partner to send to yet");
    await alice.click("#requests button:text('Accept')");
    await waitForState(alice, "open");
    await waitForState(bob, "open");
    assert.match((await alice.textContent("#status")) ?? "", /opened in \d+ ms/);
    assert.equal(await alice.isDisabled("#ask-to-pair"), true, "a paired page cannot ask again");
    assert.equal(await alice.isDisabled("#send"), false);

    // The code is labelled, and covers the connection: the same on both pages.
    const code = await waitForText(alice, "#verify-code", /^\d{3} \d{3}$/);
    assert.equal(await waitForText(bob, "#verify-code", /^\d{3} \d{3}$/), code);
    assert.match(
      (await alice.textContent("#verification")) ?? "",
      /Verification code\s+\d{3} \d{3}: the same code on your partner's\s+screen/,
    );

    // "Copied" (or, without a clipboard, "Selected") says what happened, then reverts.
    await alice.click("#copy-link");
    await waitForText(alice, "#copy-link", /^(Copied|Selected: press Ctrl\+C)$/);
    await waitForText(alice, "#copy-link", /^Copy link$/, 5000);

    await say(bob, "Hello from the second tab");
    await waitForLine(alice, "theirs", "Hello from the second tab");
    await say(alice, "Hi! This went peer to peer.");
    await waitForLine(bob, "theirs", "Hi! This went peer to peer.");
    assert.equal(
      relayedChat(t.server.metrics.render(0)),
      0,
      "no chat line went through the server",
    );
    if (SCREENSHOT) {
      await alice.setViewportSize({ width: 820, height: 720 });
      await alice.screenshot({ path: SCREENSHOT });
    }

    // The channel closes before the server's word comes (as when the partners are nearer
    // each other than the server): the page waits for that word, which says bob left.
    await closePeerConnections(bob);
    await alice.waitForSelector("#verification", { state: "hidden" });
    await bob.click("#leave");
    await waitForState(alice, "left");
    // The partner left: no path is claimed, and only asking someone new works.
    assert.deepEqual(await claimsServerPath(alice), []);
    assert.equal(await alice.textContent("#path"), "");
    assert.equal(await alice.isDisabled("#send"), true);
    assert.equal(await alice.isDisabled("#ask-to-pair"), false);
    assert.equal(await alice.isVisible("#verification"), false);
    assert.deepEqual(browser.errors, []);
  },
);

browserTest("a browser page asks a CLI peer, which accepts; they chat both ways", async () => {
  await using t = testServer();
  await using peer = spawnPeer("--url", t.url, "--accept");
  const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
  await using browser = await launchBrowser();
  const page = await browser.open(`http://127.0.0.1:${t.port}/?peer=${peerId}`);
  await waitForState(page, "open");
  const pageId = (await page.textContent("#my-id")) ?? "";
  await peer.waitForLine(
    new RegExp(`^\\*\\*\\* Data channel open with ${pageId} \\(\\d+ ms, direct\\)`),
    "stdout",
  );

  await say(page, "from the browser");
  await peer.waitForLine(new RegExp(`^${pageId}: from the browser$`), "stdout");
  await peer.type("send from the terminal");
  await waitForLine(page, "theirs", "from the terminal");
  assert.equal(relayedChat(t.server.metrics.render(0)), 0);

  peer.process.kill("SIGKILL");
  await waitForState(page, "left");
  assert.deepEqual(browser.errors, []);
});

browserTest("a CLI peer asks a browser page, which accepts; they chat both ways", async () => {
  await using t = testServer();
  await using browser = await launchBrowser();
  const page = await browser.open(`http://127.0.0.1:${t.port}/`);
  const pageId = await idOf(page);
  await using peer = spawnPeer("--url", t.url, "--pair", pageId);
  const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
  await waitForState(page, "pairing");
  assert.equal(await page.textContent("#requests code"), peerId);
  await page.click("#requests button:text('Accept')");
  await waitForState(page, "open");
  await peer.waitForLine(
    new RegExp(`^\\*\\*\\* Data channel open with ${pageId} \\(\\d+ ms, direct\\)`),
    "stdout",
  );

  await peer.type("send hello browser");
  await waitForLine(page, "theirs", "hello browser");
  await say(page, "hello terminal");
  await peer.waitForLine(new RegExp(`^${pageId}: hello terminal$`), "stdout");
  assert.equal(relayedChat(t.server.metrics.render(0)), 0);
  assert.deepEqual(browser.errors, []);
});

browserTest("when ICE cannot succeed, two pages fall back to the server and say so", async () => {
  await using t = testServer();
  await using browser = await launchBrowser();
  // Relay-only with no TURN server: no candidate can ever pair.
  const alice = await browser.open(`http://127.0.0.1:${t.port}/?relay=1&p2p_timeout=1`);
  const aliceId = await idOf(alice);
  const bob = await browser.open(
    `http://127.0.0.1:${t.port}/?relay=1&p2p_timeout=1&peer=${aliceId}`,
  );
  await waitForState(alice, "pairing");
  await alice.click("#requests button:text('Accept')");
  await waitForState(alice, "relay");
  await waitForState(bob, "relay");
  assert.match((await alice.textContent("#status")) ?? "", /^Via server: /);
  await say(bob, "through the server");
  await waitForLine(alice, "theirs", "through the server");
  const [line] = await alice.$$eval(
    "#messages li.theirs",
    (items) =>
      items.map((item) => (item as unknown as { dataset: { path?: string } }).dataset.path),
  );
  assert.equal(line, "server");
  const bobId = (await bob.textContent("#my-id")) ?? "";
  assert.deepEqual(await chatLines(alice, "theirs"), [
    `${bobId.slice(0, 8)}…through the servervia server`,
  ]);
  assert.equal(relayedChat(t.server.metrics.render(0)), 1);
  assert.deepEqual(browser.errors, []);
});

browserTest(
  "the page escapes what peers send: markup arrives as text, and text-reordering characters as escapes",
  async () => {
    await using t = testServer();
    await using browser = await launchBrowser();
    await keepPeerConnections(browser);
    const alice = await browser.open(`http://127.0.0.1:${t.port}/`);
    const aliceId = await idOf(alice);
    const bob = await browser.open(`http://127.0.0.1:${t.port}/?peer=${aliceId}`);
    await waitForState(alice, "pairing");
    await alice.click("#requests button:text('Accept')");
    await waitForState(bob, "open");
    await say(bob, "<img src=x onerror=alert(1)><b>bold</b>");
    await waitForLine(alice, "theirs", "<b>bold</b>");
    assert.equal(await alice.$$eval("#messages img, #messages b", (found) => found.length), 0);

    // A right-to-left override would show "\u202Egnp.exe" as "exe.png".
    await say(bob, "open \u202Egnp.exe and \u2067isolated\u2069 \u200F");
    await waitForLine(alice, "theirs", "open \\u202egnp.exe and \\u2067isolated\\u2069 \\u200f");
    const text = await alice.evaluate("document.body.innerText") as string;
    assert.doesNotMatch(text, /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u);

    // The channel fails and bob stays: after a moment the server carries the chat.
    await closePeerConnections(bob);
    await waitForState(alice, "relay");
    assert.deepEqual(await claimsServerPath(alice), [
      "No peer-to-peer channel (the data channel closed); messages go via the server",
    ]);
    assert.equal(await alice.textContent("#path"), "via server");
    await say(alice, "through the server now");
    await waitForLine(bob, "theirs", "through the server now");

    // Bob closes his tab: he left, and no path to him is claimed.
    await bob.close();
    await waitForState(alice, "left");
    assert.equal(await alice.textContent("#path"), "");
    assert.equal(await alice.isDisabled("#send"), true);
    assert.deepEqual(browser.errors, []);
  },
);
