import assert from "node:assert/strict";
import { join } from "node:path";
import {
  launchBrowser,
  say,
  SKIP_BROWSER_TESTS,
  waitForLine,
  waitForState,
} from "../support/browser.ts";
import { spawnPeerWith, testServer } from "../support/helpers.ts";

const CHANNEL_OPEN = /^\*\*\* Data channel open with /;

// deno-lint-ignore no-explicit-any
type PageWorld = any;

Deno.test({
  name:
    "a page and a terminal paired by code remember each other, and meet again without a code after both start again",
  ignore: SKIP_BROWSER_TESTS,
  // Chromium and werift keep timers and sockets of their own past a test.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using t = testServer();
    const dir = await Deno.makeTempDir({ prefix: "switchboard-page-devices-" });
    const peer = (...args: string[]) =>
      spawnPeerWith(
        { permissions: [`--allow-read=${dir}`, `--allow-write=${dir}`] },
        "--devices-dir",
        dir,
        "--url",
        t.url,
        ...args,
      );
    try {
      await using browser = await launchBrowser();
      {
        await using holder = peer("--code");
        const [, link = ""] = await holder.waitForLine(
          /^\*\*\* On the other side: deno task peer \S+, or open (\S+) \*\*\*$/,
          "stdout",
          15_000,
        );
        const page = await browser.open(link);
        await waitForState(page, "open");
        await holder.waitForLine(CHANNEL_OPEN, "stdout", 20_000);
        await page.fill("#remember-name", "laptop");
        await page.press("#remember-name", "Enter");
        await holder.waitForLine(/wants to remember this device/, "stdout");
        await holder.type("remember page");
        await holder.waitForLine(/^\*\*\* Remembered \S+ as page \(key [0-9a-f]{32}\); /, "stdout");
        await waitForLine(page, "system", "as laptop (key ");
        await page.waitForSelector('#devices li[data-name="laptop"]');
        // The page's device key is a Web Crypto key it cannot read out.
        const key = await page.evaluate(async () => {
          const world = globalThis as PageWorld;
          const db = await new Promise<PageWorld>((resolve) => {
            const request = world.indexedDB.open("switchboard-devices");
            request.onsuccess = () => resolve(request.result);
          });
          const saved = await new Promise<PageWorld>((resolve) => {
            const request = db.transaction("keys").objectStore("keys").get("device");
            request.onsuccess = () => resolve(request.result);
          });
          return { type: saved.privateKey.type, extractable: saved.privateKey.extractable };
        });
        assert.deepEqual(key, { type: "private", extractable: false });
        await page.close();
      }
      // Both start again: the terminal waits for the page, the page presses Pair.
      await using again = peer("--to", "page");
      await again.waitForLine(/^\*\*\* Waiting for page to come/, "stdout", 15_000);
      const page = await browser.open(`http://127.0.0.1:${t.port}/`);
      await waitForState(page, "ready");
      await page.waitForSelector('#devices li[data-name="laptop"]');
      const screenshot = Deno.env.get("SWITCHBOARD_DEVICES_SCREENSHOT");
      if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
      await page.click('#devices li[data-name="laptop"] button:text("Pair")');
      await waitForState(page, "open");
      await again.waitForLine(CHANNEL_OPEN, "stdout", 20_000);
      await say(page, "remembered, no code");
      await again.waitForLine(/: remembered, no code$/, "stdout");
      const devices = JSON.parse(await Deno.readTextFile(join(dir, "devices.json")));
      assert.deepEqual(Object.keys(devices), ["page"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
