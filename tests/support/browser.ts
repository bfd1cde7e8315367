/**
 * Headless Chromium for the page tests: Debian's `chromium`, driven by
 * playwright-core on a fresh profile, with loopback WebRTC allowed.
 *
 * @module
 */

import { type BrowserContext, chromium, type Page } from "./browser_deps.ts";

/** The real binary; `/usr/bin/chromium` is a slower wrapper script. */
export const CHROMIUM = "/usr/lib/chromium/chromium";

/** Whether Chromium is installed. */
export const HAVE_CHROMIUM: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/**
 * Whether browser tests are skipped: only on a machine without Chromium and
 * outside CI. With `CI=true` they run, and fail if Chromium is missing.
 */
export const SKIP_BROWSER_TESTS: boolean = !HAVE_CHROMIUM && Deno.env.get("CI") !== "true";

if (SKIP_BROWSER_TESTS) {
  console.error(
    `Skipping browser tests: no Chromium at ${CHROMIUM} (install it with: apt-get install chromium)`,
  );
}

/** The page's globals these helpers read, inside the browser. */
interface PageGlobals {
  document: {
    body: { dataset: Record<string, string | undefined> };
    getElementById(id: string): { textContent: string | null } | null;
    querySelector(selector: string): { textContent: string | null } | null;
    querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
  };
}

/** A headless browser with a fresh profile, removed on dispose. */
export interface TestBrowser extends AsyncDisposable {
  /** The browser context. */
  context: BrowserContext;
  /** Opens a page at `url` and collects its console errors into `errors`. */
  open(url: string): Promise<Page>;
  /** Console errors and uncaught exceptions of every page opened. */
  errors: string[];
}

/**
 * Launches Chromium.
 *
 * @param extraArgs More command-line switches, such as
 *   `--ignore-certificate-errors` for a test's self-signed certificate.
 */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "switchboard-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--allow-loopback-in-peer-connection",
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...(Deno.uid() === 0 ? ["--no-sandbox"] : []),
      ...extraArgs,
    ],
  });
  const errors: string[] = [];
  let first = true;
  return {
    context,
    errors,
    async open(url: string): Promise<Page> {
      const existing = first ? context.pages()[0] : undefined;
      first = false;
      const page = existing ?? await context.newPage();
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(String(error)));
      await page.goto(url);
      return page;
    },
    async [Symbol.asyncDispose]() {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}

/** Waits until the page's `data-state` is `state`. */
export async function waitForState(page: Page, state: string, ms = 20_000): Promise<void> {
  try {
    await page.waitForFunction(
      (s) => (globalThis as unknown as PageGlobals).document.body.dataset.state === s,
      state,
      { timeout: ms },
    );
  } catch (error) {
    const now = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return `${document.body.dataset.state}: ${document.getElementById("status")?.textContent}`;
    });
    throw new Error(`The page did not reach "${state}" (it is ${now}): ${error}`);
  }
}

/** The texts of the chat lines of `kind` (`theirs`, `mine`, `system`). */
export function chatLines(page: Page, kind: string): Promise<string[]> {
  return page.$$eval(
    `#messages li.${kind}`,
    (items) => items.map((item) => item.textContent ?? ""),
  );
}

/** Types a line in the chat box and presses Enter. */
export async function say(page: Page, text: string): Promise<void> {
  await page.fill("#message", text);
  await page.press("#message", "Enter");
}

/** Waits until a chat line of `kind` contains `text`. */
export async function waitForLine(page: Page, kind: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([k, t]) =>
      [...(globalThis as unknown as PageGlobals).document.querySelectorAll(`#messages li.${k}`)]
        .some((li) => li.textContent?.includes(t!)),
    [kind, text],
    { timeout: 10_000 },
  );
}

/**
 * Waits until the text of the first element matching `selector` matches
 * `pattern`, and returns it; fails naming both, and the text it saw.
 */
export async function waitForText(
  page: Page,
  selector: string,
  pattern: RegExp,
  ms = 10_000,
): Promise<string> {
  // A function, not a string: the page's Content-Security-Policy forbids eval.
  const read = (s: string) =>
    (globalThis as unknown as PageGlobals).document.querySelector(s)?.textContent ?? "";
  try {
    await page.waitForFunction(
      ([s, source, flags]) =>
        new RegExp(source!, flags).test(
          (globalThis as unknown as PageGlobals).document.querySelector(s!)?.textContent ?? "",
        ),
      [selector, pattern.source, pattern.flags],
      // Polled on a timer: a page in a background tab gets no animation frames.
      { timeout: ms, polling: 100 },
    );
  } catch (error) {
    const seen = await page.evaluate(read, selector).catch(() => "(the page is gone)");
    throw new Error(
      `${selector} did not match ${pattern} (it reads ${JSON.stringify(seen)}): ${error}`,
    );
  }
  return await page.evaluate(read, selector);
}

/**
 * Keeps every `RTCPeerConnection` the browser's pages make from now on, so a
 * test can close them as a failing network would ({@linkcode closePeerConnections}).
 */
export async function keepPeerConnections(browser: TestBrowser): Promise<void> {
  await browser.context.addInitScript({
    content: `{
      const Original = globalThis.RTCPeerConnection;
      globalThis.peerConnections = [];
      globalThis.RTCPeerConnection = class extends Original {
        constructor(...args) {
          super(...args);
          globalThis.peerConnections.push(this);
        }
      };
    }`,
  });
}

/** Closes every peer connection `page` made: its partner sees the channel close. */
export async function closePeerConnections(page: Page): Promise<void> {
  await page.evaluate("globalThis.peerConnections.forEach((pc) => pc.close())");
}
