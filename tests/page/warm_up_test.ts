import assert from "node:assert/strict";
import {
  keepPeerConnections,
  launchBrowser,
  SKIP_BROWSER_TESTS,
  waitForState,
} from "../support/browser.ts";
import { spawnPeer, testServer } from "../support/helpers.ts";

// deno-lint-ignore no-explicit-any
type PageWorld = any;

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

Deno.test({
  name:
    "a page warms its WebRTC stack while it waits: a throw-away connection, and the certificate its real connection uses",
  ignore: SKIP_BROWSER_TESTS,
  // Chromium and werift keep timers and sockets of their own past a test.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using t = testServer();
    await using browser = await launchBrowser();
    await keepPeerConnections(browser);
    const page = await browser.open(`http://127.0.0.1:${t.port}/`);
    await page.waitForSelector("body[data-warm='1']", { state: "attached", timeout: 10_000 });
    // The throw-away connection: two of the page's own, both closed again.
    const before = await page.evaluate(() =>
      (globalThis as PageWorld).peerConnections.map((pc: PageWorld) => pc.connectionState)
    );
    assert.deepEqual(before, ["closed", "closed"]);
    assert.equal(await page.textContent("#my-id") !== "", true);

    await using peer = spawnPeer("--url", t.url, "--accept");
    const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout", 15_000);
    await page.fill("#peer-id", peerId);
    await page.press("#peer-id", "Enter");
    await waitForState(page, "open");
    // The real connection's DTLS certificate is the one made ahead.
    const same = await page.evaluate(async () => {
      const world = globalThis as PageWorld;
      const { certificate } = await import("/page/warm_up.js");
      const made = await certificate;
      const expected = made.getFingerprints()[0].value.toUpperCase();
      const pcs = world.peerConnections;
      const sdp: string = pcs[pcs.length - 1].localDescription.sdp;
      return sdp.toUpperCase().includes(expected);
    });
    assert.equal(same, true);
  },
});
