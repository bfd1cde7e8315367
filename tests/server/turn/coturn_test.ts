import assert from "node:assert/strict";
import {
  launchBrowser,
  say,
  SKIP_BROWSER_TESTS,
  waitForLine,
  waitForState,
} from "../../support/browser.ts";
import type { Page } from "../../support/browser_deps.ts";
import { Coturn, SKIP_COTURN_TESTS } from "../../support/coturn.ts";
import { Child, spawnPeerWith, spawnServer } from "../../support/helpers.ts";
import { turnKey, turnPassword } from "../../../lib/server/turn/credentials.ts";
import { TURN_SECRET_ENV } from "../../../lib/server/turn/secret.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;
const REFUSED = "TURN server refused the credentials";

function coturnTest(name: string, fn: () => Promise<void>, browser = false): void {
  // werift and Chromium keep timers and sockets of their own past a test.
  Deno.test({
    name,
    fn,
    ignore: SKIP_COTURN_TESTS || (browser && SKIP_BROWSER_TESTS),
    sanitizeOps: false,
    sanitizeResources: false,
  });
}

/** A signaling server that issues credentials for `coturn`, signed with `secret`. */
async function turnServer(coturn: Coturn, secret = coturn.secret, ttl = "600") {
  return await spawnServer(
    ["--turn-url", coturn.udpUrl, "--turn-url", coturn.tcpUrl, "--turn-ttl", ttl],
    0,
    [`--allow-env=${TURN_SECRET_ENV}`],
    { [TURN_SECRET_ENV]: secret },
  );
}

function spawnPeer(env: Record<string, string>, ...args: string[]): Child {
  return spawnPeerWith({ env }, "--relay-only", ...args);
}

/** Two relay-only CLI peers: one accepts, the other asks it. */
async function cliPair(url: string, env: Record<string, string> = {}, ...extra: string[]) {
  const accepter = spawnPeer(env, "--url", url, "--accept", ...extra);
  const [, accepterId = ""] = await accepter.waitForLine(ID_LINE, "stdout");
  const asker = spawnPeer(env, "--url", url, "--pair", accepterId, ...extra);
  const [, askerId = ""] = await asker.waitForLine(ID_LINE, "stdout");
  return { accepter, accepterId, asker, askerId };
}

function openVia(peer: string, path: string): RegExp {
  return new RegExp(
    `^\\*\\*\\* Data channel open with ${peer} \\((\\d+) ms, ${path}\\) \\*\\*\\*$`,
  );
}

function refusedLine(peer: string): RegExp {
  return new RegExp(
    `^\\*\\*\\* No peer-to-peer channel with ${peer} \\(${REFUSED}\\); messages go via the server \\*\\*\\*$`,
  );
}

/** The partner of a refused peer hears no offer, and falls back at its own timeout. */
function timedOutLine(peer: string, seconds: number): RegExp {
  return new RegExp(
    `^\\*\\*\\* No peer-to-peer channel with ${peer} \\(no peer-to-peer connection within ${seconds} s\\); messages go via the server \\*\\*\\*$`,
  );
}

function relayedChat(metrics: string): number {
  return Number(metrics.match(/relayed_messages_total\{type="relay"\} (\d+)/)?.[1]);
}

async function metricsOf(port: number): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Waits until coturn has logged a successful allocation for `clientId`'s username. */
async function allocatedFor(coturn: Coturn, clientId: string): Promise<void> {
  await coturn.child.waitForLine(
    new RegExp(`user <\\d+:${clientId}>: incoming packet ALLOCATE processed, success`),
    "stdout",
  );
}

coturnTest(
  "two relay-only CLI peers chat through coturn with credentials the server issued",
  async () => {
    await using coturn = await Coturn.start();
    const { child: server, url, port } = await turnServer(coturn);
    await using _server = server;
    const { accepter, accepterId, asker, askerId } = await cliPair(url);
    await using _a = accepter;
    await using _b = asker;
    const [, ms] = await asker.waitForLine(openVia(accepterId, "via TURN relay"), "stdout", 20_000);
    await accepter.waitForLine(openVia(askerId, "via TURN relay"), "stdout", 20_000);
    console.log(`CLI relay-only open: ${ms} ms`);

    await asker.type("send through the relay");
    await accepter.waitForLine(new RegExp(`^${askerId}: through the relay$`), "stdout");
    await accepter.type("send and back");
    await asker.waitForLine(new RegExp(`^${accepterId}: and back$`), "stdout");
    assert.equal(relayedChat(await metricsOf(port)), 0, "no chat line went through the server");
    // coturn accepted each peer's own username: the relay carried the channel.
    await allocatedFor(coturn, askerId);
    await allocatedFor(coturn, accepterId);
    assert.doesNotMatch(coturn.log.join("\n"), /check_stun_auth/, "no credential was refused");
  },
);

coturnTest(
  "with a wrong secret coturn refuses the CLI peer, which says so, and the pair chats via the server",
  async () => {
    await using coturn = await Coturn.start();
    const { child: server, url, port } = await turnServer(coturn, "not-the-shared-secret");
    await using _server = server;
    const { accepter, accepterId, asker, askerId } = await cliPair(url, {}, "--p2p-timeout", "10");
    await using _a = accepter;
    await using _b = asker;
    // The asker's gathering meets the refusal; it says so and sends no offer.
    await asker.waitForLine(refusedLine(accepterId), "stdout", 15_000);
    await accepter.waitForLine(timedOutLine(askerId, 10), "stdout", 15_000);
    await asker.type("send still here");
    await accepter.waitForLine(new RegExp(`^${askerId} \\(via server\\): still here$`), "stdout");
    assert.equal(relayedChat(await metricsOf(port)), 1);
    await coturn.child.waitForLine(new RegExp(`user <\\d+:${askerId}>: .*error 401`), "stdout");
  },
);

/**
 * Two relay-only CLI peers whose own `--ice-server` credentials (the server
 * issues none) have `username` and the password signed for `signed`.
 */
async function ownCredentialsRefused(username: string, signed: string): Promise<void> {
  await using coturn = await Coturn.start();
  const { child: server, url } = await spawnServer();
  await using _server = server;
  const credential = await turnPassword(await turnKey(coturn.secret), signed);
  const { accepter, accepterId, asker, askerId } = await cliPair(
    url,
    { SWITCHBOARD_ICE_CREDENTIAL: credential },
    "--ice-server",
    coturn.udpUrl,
    "--ice-username",
    username,
    "--p2p-timeout",
    "10",
  );
  await using _a = accepter;
  await using _b = asker;
  await asker.waitForLine(refusedLine(accepterId), "stdout", 15_000);
  await accepter.waitForLine(timedOutLine(askerId, 10), "stdout", 15_000);
  assert.match(coturn.log.join("\n"), /check_stun_auth: Cannot find credentials of user/);
}

coturnTest("coturn refuses an expired username, and the CLI peer says so", async () => {
  const expired = `${Math.floor(Date.now() / 1000) - 60}:someone`;
  await ownCredentialsRefused(expired, expired);
});

coturnTest("coturn refuses a tampered username, and the CLI peer says so", async () => {
  const expiry = Math.floor(Date.now() / 1000) + 600;
  await ownCredentialsRefused(`${expiry + 86_400}:someone`, `${expiry}:someone`);
});

coturnTest("coturn accepts a peer's own credentials signed with its secret", async () => {
  await using coturn = await Coturn.start();
  const { child: server, url } = await spawnServer();
  await using _server = server;
  const username = `${Math.floor(Date.now() / 1000) + 600}:operator`;
  const credential = await turnPassword(await turnKey(coturn.secret), username);
  const { accepter, accepterId, asker } = await cliPair(
    url,
    { SWITCHBOARD_ICE_CREDENTIAL: credential },
    "--ice-server",
    coturn.udpUrl,
    "--ice-username",
    username,
  );
  await using _a = accepter;
  await using _b = asker;
  await asker.waitForLine(openVia(accepterId, "via TURN relay"), "stdout", 20_000);
});

async function idOf(page: Page): Promise<string> {
  await waitForState(page, "ready");
  return (await page.textContent("#my-id")) ?? "";
}

coturnTest(
  "two relay-only browser pages chat through coturn and show the relayed path",
  async () => {
    await using coturn = await Coturn.start();
    const { child: server, port } = await turnServer(coturn);
    await using _server = server;
    await using browser = await launchBrowser();
    const alice = await browser.open(`http://127.0.0.1:${port}/?relay=1`);
    const aliceId = await idOf(alice);
    const bob = await browser.open(`http://127.0.0.1:${port}/?relay=1&peer=${aliceId}`);
    await waitForState(alice, "pairing");
    await alice.click("#requests button:text('Accept')");
    await waitForState(alice, "open");
    await waitForState(bob, "open");
    const status = (await alice.textContent("#status")) ?? "";
    assert.match(status, /\(opened in \d+ ms, via TURN relay\)$/);
    console.log(`Chromium relay-only open: ${status.match(/(\d+) ms/)?.[1]} ms`);
    assert.equal(await bob.getAttribute("body", "data-path"), "relay");
    assert.equal(await alice.textContent("#path"), "peer-to-peer via TURN relay");

    await say(bob, "relayed by coturn");
    await waitForLine(alice, "theirs", "relayed by coturn");
    await say(alice, "and back");
    await waitForLine(bob, "theirs", "and back");
    assert.equal(relayedChat(await metricsOf(port)), 0);
    await allocatedFor(coturn, aliceId);
    assert.deepEqual(browser.errors, []);
  },
  true,
);

coturnTest("with a wrong secret relay-only pages say coturn refused the credentials", async () => {
  await using coturn = await Coturn.start();
  const { child: server, port } = await turnServer(coturn, "not-the-shared-secret");
  await using _server = server;
  await using browser = await launchBrowser();
  const alice = await browser.open(`http://127.0.0.1:${port}/?relay=1&p2p_timeout=30`);
  const aliceId = await idOf(alice);
  const bob = await browser.open(
    `http://127.0.0.1:${port}/?relay=1&p2p_timeout=30&peer=${aliceId}`,
  );
  await waitForState(alice, "pairing");
  await alice.click("#requests button:text('Accept')");
  await waitForState(alice, "relay", 15_000);
  await waitForState(bob, "relay", 15_000);
  assert.equal(await alice.textContent("#status"), `Via server: ${REFUSED}`);
  await say(bob, "via the server instead");
  await waitForLine(alice, "theirs", "via the server instead");
}, true);

coturnTest("a relay-only CLI peer and a relay-only page chat through coturn", async () => {
  await using coturn = await Coturn.start();
  const { child: server, url, port } = await turnServer(coturn);
  await using _server = server;
  await using peer = spawnPeer({}, "--url", url, "--accept");
  const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
  await using browser = await launchBrowser();
  const page = await browser.open(`http://127.0.0.1:${port}/?relay=1&peer=${peerId}`);
  await waitForState(page, "open");
  const pageId = (await page.textContent("#my-id")) ?? "";
  await peer.waitForLine(openVia(pageId, "via TURN relay"), "stdout", 20_000);
  assert.equal(await page.getAttribute("body", "data-path"), "relay");
  await say(page, "from the page");
  await peer.waitForLine(new RegExp(`^${pageId}: from the page$`), "stdout");
  await peer.type("send from the terminal");
  await waitForLine(page, "theirs", "from the terminal");
  assert.equal(relayedChat(await metricsOf(port)), 0);
  assert.deepEqual(browser.errors, []);
}, true);
