import assert from "node:assert/strict";
import { generateKey, hashKey } from "../../lib/auth/key_file.ts";
import {
  launchBrowser,
  say,
  SKIP_BROWSER_TESTS,
  waitForLine,
  waitForState,
} from "../support/browser.ts";
import type { Page } from "../support/browser_deps.ts";
import { testServer } from "../support/helpers.ts";
import { makeCertificate } from "../support/tls_cert.ts";

function browserTest(name: string, fn: () => Promise<void>): void {
  // Chromium keeps timers and sockets of its own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

async function enterKey(page: Page, key: string): Promise<void> {
  await waitForState(page, "key");
  await page.fill("#api-key", key);
  await page.press("#api-key", "Enter");
}

browserTest(
  "a page over https:// asks for the key once, sends it as a subprotocol, and pairs within its key",
  async () => {
    await using cert = await makeCertificate();
    const key = generateKey();
    const other = generateKey();
    const AT = new Date().toISOString();
    await using t = testServer({
      apiKeys: [
        { label: "acme", sha256: hashKey(key), createdAt: AT },
        { label: "globex", sha256: hashKey(other), createdAt: AT },
      ],
      tls: { cert: cert.cert, key: cert.key },
    });
    assert.match(t.url, /^wss:/);
    // The test's own certificate is self-signed; nothing else in the suite ignores certificates.
    await using browser = await launchBrowser(["--ignore-certificate-errors"]);
    const origin = `https://127.0.0.1:${t.port}`;

    const alice = await browser.open(`${origin}/`);
    assert.equal(await alice.isVisible("#key-section"), true);
    await enterKey(alice, key);
    await waitForState(alice, "ready");
    assert.equal(await alice.isVisible("#key-section"), false);
    const aliceId = (await alice.textContent("#my-id")) ?? "";
    await t.logs.waitFor(new RegExp(`Client ${aliceId} \\(key "acme"\\) connected`));
    // Kept for this tab: a reload connects without asking.
    await alice.reload();
    await waitForState(alice, "ready");
    const aliceId2 = (await alice.textContent("#my-id")) ?? "";
    assert.notEqual(aliceId2, aliceId);
    assert.equal(await alice.evaluate(() => sessionStorage.getItem("switchboard.apiKey")), key);

    // Another tenant's page cannot reach alice: her id is unknown to it.
    const mallory = await browser.open(`${origin}/`);
    await enterKey(mallory, other);
    await waitForState(mallory, "ready");
    await mallory.fill("#peer-id", aliceId2);
    await mallory.press("#peer-id", "Enter");
    await waitForLine(mallory, "system", `no client has the id ${aliceId2.slice(0, 40)}`);

    // A page with the same key pairs by link, as on an open server.
    const bob = await browser.open(`${origin}/?peer=${aliceId2}`);
    await enterKey(bob, key);
    await waitForState(alice, "pairing");
    await alice.click("#requests button:text('Accept')");
    await waitForState(alice, "open");
    await waitForState(bob, "open");
    await say(bob, "over https, with a key");
    await waitForLine(alice, "theirs", "over https, with a key");

    assert.deepEqual(browser.errors, []);
    const logs = t.logs.lines.join("\n");
    assert.ok(!logs.includes(key) && !logs.includes(other), "no key in the log");
  },
);

browserTest(
  "a page whose key is refused or revoked asks again, and connects with the right one",
  async () => {
    const key = generateKey();
    const wrong = generateKey();
    const next = generateKey();
    const AT = new Date().toISOString();
    await using t = testServer({
      apiKeys: [{ label: "acme", sha256: hashKey(key), createdAt: AT }],
    });
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${t.port}/`);
    await enterKey(page, wrong);
    await waitForState(page, "key");
    assert.match((await page.textContent("#status")) ?? "", /check the API key/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("switchboard.apiKey")), null);
    await enterKey(page, key);
    await waitForState(page, "ready");
    await t.logs.waitFor(/Refused a handshake from 127\.0\.0\.1:\d+: 401 API key not valid/);
    // The browser logs the failed handshake itself, without the key.
    assert.equal(browser.errors.length, 1, browser.errors.join("\n"));
    assert.match(browser.errors[0]!, /HTTP Authentication failed/);

    // Revoked while connected: the page says so and asks, rather than retrying a dead key.
    await t.server.reloadKeys([{ label: "acme-2", sha256: hashKey(next), createdAt: AT }]);
    await waitForState(page, "key");
    assert.match((await page.textContent("#status")) ?? "", /revoked this API key/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("switchboard.apiKey")), null);
    assert.equal(await page.isDisabled("#send"), true);
    assert.equal(await page.isDisabled("#ask-to-pair"), true);
    await enterKey(page, next);
    await waitForState(page, "ready");

    const everything = [...browser.errors, ...t.logs.lines].join("\n");
    assert.ok(![wrong, key, next].some((k) => everything.includes(k)), "no key in logs or console");
  },
);

browserTest(
  "on an open server the page never asks for a key, until the server comes back wanting one",
  async () => {
    await using t = testServer();
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${t.port}/`);
    await waitForState(page, "ready");
    assert.equal(await page.isVisible("#key-section"), false);
    assert.deepEqual(browser.errors, []);

    // The same address, now with keys: the tab from before ends at the key form.
    await t.server.shutdown();
    const key = generateKey();
    await using keyed = testServer({
      port: t.port,
      apiKeys: [{ label: "acme", sha256: hashKey(key), createdAt: new Date().toISOString() }],
    });
    await waitForState(page, "key");
    assert.match((await page.textContent("#status")) ?? "", /now needs an API key/);
    await enterKey(page, key);
    await waitForState(page, "ready");
    await keyed.logs.waitFor(/Client \S+ \(key "acme"\) connected/);
  },
);
