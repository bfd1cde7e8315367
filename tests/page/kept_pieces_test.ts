import assert from "node:assert/strict";
import { join } from "node:path";
import {
  launchBrowser,
  SKIP_BROWSER_TESTS,
  waitForState,
  waitForText,
} from "../support/browser.ts";
import { Child, testServer } from "../support/helpers.ts";
import { sha256Hex } from "../../lib/shared/sha256.js";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;
const MIB = 1024 * 1024;

// deno-lint-ignore no-explicit-any -- the page's own world, seen from a test without the DOM types
type PageWorld = any;

/** The names under the private storage's kept folder, each folder with its files. */
const KEPT_TREE = `(async () => {
  const root = await navigator.storage.getDirectory();
  let kept;
  try {
    kept = await root.getDirectoryHandle("switchboard-kept");
  } catch {
    return {};
  }
  const tree = {};
  for await (const [name, handle] of kept.entries()) {
    tree[name] = [];
    for await (const file of handle.keys()) tree[name].push(file);
  }
  return tree;
})()`;

Deno.test({
  name:
    "a page reloaded while it receives keeps each piece; offered the file again, it shows what is there and only the rest comes, unless the user starts over",
  ignore: SKIP_BROWSER_TESTS,
  // Chromium and werift keep timers and sockets of their own past a test.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using t = testServer();
    const dir = await Deno.makeTempDir({ prefix: "switchboard-kept-" });
    try {
      await using peer = new Child(
        [
          "run",
          "--allow-net",
          "--allow-env",
          "--allow-sys=networkInterfaces",
          `--allow-read=${dir}`,
          "--no-prompt",
          join(new URL("../..", import.meta.url).pathname, "client.ts"),
          "--webrtc",
          "--url",
          t.url,
          "--accept",
        ],
        dir,
        true,
      );
      const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
      const data = new Uint8Array(48 * MIB);
      for (let i = 0; i < data.length; i += 65536) {
        crypto.getRandomValues(data.subarray(i, i + 65536));
      }
      await Deno.writeFile(join(dir, "big.bin"), data);
      await using browser = await launchBrowser();
      const url = `http://127.0.0.1:${t.port}/?peer=${peerId}`;
      const page = await browser.open(url);
      await waitForState(page, "open");
      // The terminal's side opens a moment apart from the page's: files go once both have.
      await peer.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000, 1);

      const offer = (n: number) =>
        `#transfers li[data-direction="receive"][data-name="big.bin"]:nth-of-type(${n})`;
      await peer.type(`sendfile ${join(dir, "big.bin")}`);
      await page.click(`${offer(1)}[data-state="offered"] button:text('Accept')`);
      await page.waitForFunction(
        ([selector, bytes]) =>
          Number((globalThis as PageWorld).document.querySelector(selector)?.value) > bytes!,
        [`${offer(1)} progress`, 12 * MIB] as const,
        { polling: 50, timeout: 30_000 },
      );
      // The page goes mid-way; the link to it is opened again.
      await page.goto(url);
      await waitForState(page, "open");
      await peer.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000, 2);
      await peer.waitForLine(/^\*\*\* big\.bin \(file 1\) interrupted: /, "stdout");
      const kept = await page.evaluate(KEPT_TREE) as Record<string, string[]>;
      const [files = []] = Object.values(kept);
      // The piece under way when the page went is not kept: each piece is whole or absent.
      const pieces = files.filter((name) => /^\d+\.[0-9a-f]{64}$/.test(name));
      assert.ok(pieces.length >= 10, `pieces kept: ${JSON.stringify(kept)}`);

      await peer.type(`sendfile ${join(dir, "big.bin")}`);
      await waitForText(page, `${offer(1)} .file-saved`, /^Resuming: [\d.]+ MB already here$/);
      await page.click(`${offer(1)}[data-state="offered"] button:text('Accept')`);
      await page.waitForSelector(`${offer(1)}[data-state="done"]`, { timeout: 60_000 });
      const [, sent, there] = await peer.waitForLine(
        /^\*\*\* Sent big\.bin \(file 2\): ([\d.]+) MB sent, ([\d.]+) MB were already there; SHA-256 verified by /,
        "stdout",
      );
      // A piece whose writing the reload cut short is an empty file: named, but not claimed.
      const claimed = Number(there) * 1e6 / MIB;
      assert.ok(
        claimed >= pieces.length - 1.1 && claimed <= pieces.length + 0.1,
        `${there} MB claimed of ${pieces.length} pieces kept`,
      );
      assert.ok(
        Math.abs(Number(sent) + Number(there) - data.length / 1e6) < 0.2,
        `${sent} MB sent and ${there} MB there make the file`,
      );
      const [saved] = await Promise.all([
        page.waitForEvent("download"),
        page.click(`${offer(1)} a[download]`),
      ]);
      assert.equal(sha256Hex(await Deno.readFile(await saved.path())), sha256Hex(data));
      assert.deepEqual(await page.evaluate(KEPT_TREE), {}, "the kept pieces went once verified");

      // Cut again; offered again, the user would rather start over.
      const live =
        '#transfers li[data-direction="receive"][data-name="big.bin"]:not([data-state="done"])';
      await peer.type(`sendfile ${join(dir, "big.bin")}`);
      await page.click(`${live}[data-state="offered"] button:text('Accept')`);
      await page.waitForFunction(
        ([selector, bytes]) =>
          Number((globalThis as PageWorld).document.querySelector(selector)?.value) > bytes!,
        [`${live} progress`, 4 * MIB] as const,
        { polling: 50, timeout: 30_000 },
      );
      await page.goto(url);
      await waitForState(page, "open");
      await peer.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000, 3);
      await peer.waitForLine(/^\*\*\* big\.bin \(file 3\) interrupted: /, "stdout");
      await peer.type(`sendfile ${join(dir, "big.bin")}`);
      await waitForText(page, `${live} .file-saved`, /^Resuming: [\d.]+ MB already here$/);
      await page.click(`${live} button:text('Start over')`);
      await waitForText(
        page,
        `${live} .file-saved`,
        /^What was kept is deleted: the file comes whole$/,
      );
      assert.deepEqual(await page.evaluate(KEPT_TREE), {}, "nothing kept once discarded");
      await page.click(`${live}[data-state="offered"] button:text('Accept')`);
      await peer.waitForLine(
        /^\*\*\* Sent big\.bin \(file 4\): 50\.3 MB in [\d.]+ s, .*SHA-256 verified by /,
        "stdout",
        60_000,
      );
      assert.deepEqual(browser.errors, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
