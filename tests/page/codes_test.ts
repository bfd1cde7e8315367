import assert from "node:assert/strict";
// The decoder is for tests only, so it stays out of the program's deps.js
// (and the page's bundle); pinned to the encoder's version.
// deno-lint-ignore no-import-prefix
import decodeQR from "npm:@paulmillr/qr@0.3.0/decode.js";
import {
  launchBrowser,
  say,
  SKIP_BROWSER_TESTS,
  waitForLine,
  waitForState,
  waitForText,
} from "../support/browser.ts";
import type { Page } from "../support/browser_deps.ts";
import { spawnPeer, testServer } from "../support/helpers.ts";
import { failureLine } from "../../lib/cli/code_pairing.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;
const CODE = /^(\d+)-([a-z]+)-([a-z]+)$/;

/** Where a test run leaves the README's screenshot, when asked to. */
const SCREENSHOT = Deno.env.get("SWITCHBOARD_CODE_SCREENSHOT");

// deno-lint-ignore no-explicit-any
type PageWorld = any;

function browserTest(name: string, fn: () => Promise<void>): void {
  // Chromium and werift keep timers and sockets of their own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

/** Clicks "Get a code" and returns the code the page shows. */
async function getCode(page: Page): Promise<string> {
  await waitForState(page, "ready");
  await page.click("#get-code");
  return await waitForText(page, "#code-text", CODE);
}

/** Types a code in the pair box and submits it. */
async function typeCode(page: Page, code: string): Promise<void> {
  await waitForState(page, "ready");
  await page.fill("#peer-id", code);
  await page.press("#peer-id", "Enter");
}

/** The QR code as the browser drew it, in pixels: what a phone's camera would see. */
async function qrPixels(page: Page) {
  return await page.evaluate(async () => {
    const { document } = globalThis as PageWorld;
    const image = document.getElementById("code-qr");
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 400;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0, 400, 400);
    const { data } = context.getImageData(0, 0, 400, 400);
    return { width: 400, height: 400, data: Array.from(data as Uint8ClampedArray) };
  });
}

browserTest(
  "two pages pair by code: the code, its link and a QR code that decodes to the link, then a proven channel",
  async () => {
    await using t = testServer();
    await using browser = await launchBrowser();
    const alice = await browser.open(`http://127.0.0.1:${t.port}/`);
    const code = await getCode(alice);
    const link = await alice.inputValue("#code-link");
    assert.equal(link, `http://127.0.0.1:${t.port}/#code=${code}`);
    const pixels = await qrPixels(alice);
    assert.equal(
      decodeQR({ ...pixels, data: new Uint8Array(pixels.data) }),
      link,
      "the QR code is the link",
    );
    assert.match((await alice.textContent("#status")) ?? "", /whoever types it within 5 min/);
    if (SCREENSHOT) await alice.screenshot({ path: SCREENSHOT, fullPage: true });
    const password = code.replace(/^\d+-/, "");
    assert.ok(!t.logs.lines.some((line) => line.includes(password)), "the server never saw it");

    const bob = await browser.open(`http://127.0.0.1:${t.port}/`);
    await typeCode(bob, code.toUpperCase().replaceAll("-", " "));
    await waitForState(bob, "open");
    await waitForState(alice, "open");
    await waitForLine(alice, "system", "The code matched");
    await waitForLine(bob, "system", "The code matched");
    assert.equal(await alice.isHidden("#code-box"), true, "a spent code is no longer shown");
    await say(bob, "paired by a code");
    await waitForLine(alice, "theirs", "paired by a code");
    assert.match(t.server.signaling.metricsText(), /^switchboard_code_pairings_total 1$/m);
  },
);

browserTest(
  "a terminal's code link opened in a page pairs the two, and leaves the address bar",
  async () => {
    await using t = testServer();
    await using holder = spawnPeer("--url", t.url, "--code");
    const [, holderId = ""] = await holder.waitForLine(ID_LINE, "stdout", 15_000);
    const [, link = ""] = await holder.waitForLine(
      /^\*\*\* On the other side: deno task peer \S+, or open (\S+) \*\*\*$/,
      "stdout",
      15_000,
    );
    assert.match(link, new RegExp(`^http://127\\.0\\.0\\.1:${t.port}/#code=\\d+-[a-z]+-[a-z]+$`));
    await using browser = await launchBrowser();
    const page = await browser.open(link);
    await waitForState(page, "open");
    assert.equal(page.url(), `http://127.0.0.1:${t.port}/`, "the code left the address bar");
    await holder.waitForLine(/^\*\*\* The code matched: /, "stdout");
    await holder.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
    await say(page, "from the page, by code");
    await holder.waitForLine(/: from the page, by code$/, "stdout");
    await holder.type("send from the terminal, by code");
    await waitForLine(page, "theirs", "from the terminal, by code");
    assert.ok(holderId);
  },
);

browserTest(
  "a wrong code typed in the terminal for a page's code ends the pairing on both sides",
  async () => {
    await using t = testServer();
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${t.port}/`);
    const code = await getCode(page);
    const [, nameplate = "", first = ""] = CODE.exec(code) ?? [];
    const wrong = `${nameplate}-${first === "tidy" ? "orbit" : "tidy"}-${first}`;
    await using typist = spawnPeer("--url", t.url, wrong);
    await typist.waitForLine(
      new RegExp(
        `^${failureLine("wrong_code", false, wrong).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`,
      ),
      "stdout",
      15_000,
    );
    await page.waitForFunction(
      () => (globalThis as PageWorld).document.body.dataset.codeFailure === "wrong_code",
      undefined,
      { timeout: 10_000 },
    );
    await waitForLine(page, "system", "The code did not match");
    await typist.waitForLine(/^\*\*\* Peer [0-9a-f-]{36} left \(unpaired\) \*\*\*$/, "stdout");
    assert.ok(!typist.stdout.some((line) => /Data channel open/.test(line)));
  },
);
