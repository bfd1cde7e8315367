/**
 * One pairing of two headless Chromium pages on the server's own page: the
 * second page opens `/?peer=<id>`, the first clicks Accept; time to open as
 * each page shows it, then round trips on the data channel, timed and echoed
 * inside the pages through the chat form (no driver round trip in between).
 *
 * @module
 */

import { type BrowserContext, chromium, type Page } from "../tests/support/browser_deps.ts";
import { DEFAULT_TIMEOUTS, type PairingResult, type PairingTimeouts } from "./webrtc_cli.ts";

/** Debian's Chromium binary (not the `/usr/bin/chromium` shell wrapper). */
export const CHROMIUM_PATH = "/usr/lib/chromium/chromium";

/** Chromium's flags: loopback WebRTC without mDNS names, nothing in the background. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A headless Chromium with a throw-away profile. */
export interface Browser extends AsyncDisposable {
  /** Where pages are opened. */
  readonly context: BrowserContext;
}

/** Starts headless Chromium; disposing it closes it and removes its profile. */
export async function launchChromium(timeoutMs = 30_000): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "switchboard-bench-chromium-" });
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: timeoutMs,
    });
    return {
      context,
      async [Symbol.asyncDispose]() {
        await context.close().catch(() => {});
        await Deno.remove(profile, { recursive: true }).catch(() => {});
      },
    };
  } catch (error) {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw error;
  }
}

// In-page scripts are strings: the bench is type-checked without the DOM.

/** Answers every `ping-X` that arrives on the channel with `pong-X`. */
const INSTALL_ECHO = `(() => {
  const form = document.getElementById("chat-form");
  const input = document.getElementById("message");
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeName !== "LI" || !node.classList.contains("theirs")) continue;
        if (node.dataset.path !== "p2p") continue;
        const token = /ping-(\\S+)/.exec(node.textContent ?? "")?.[1];
        if (!token) continue;
        input.value = "pong-" + token;
        form.requestSubmit();
      }
    }
  }).observe(document.getElementById("messages"), { childList: true });
})()`;

/** Sends `ping-TOKEN` and resolves with the ms until `pong-TOKEN` arrives on the channel. */
function roundTripScript(token: string, timeoutMs: number): string {
  return `new Promise((resolve, reject) => {
  const token = ${JSON.stringify(token)};
  const list = document.getElementById("messages");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("message");
  const timer = setTimeout(() => {
    observer.disconnect();
    reject(new Error("no pong-" + token + " within ${timeoutMs} ms"));
  }, ${timeoutMs});
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeName !== "LI" || !node.classList.contains("theirs")) continue;
        if (node.dataset.path !== "p2p") continue;
        if (!(node.textContent ?? "").endsWith("pong-" + token)) continue;
        const elapsed = performance.now() - start;
        clearTimeout(timer);
        observer.disconnect();
        resolve(elapsed);
      }
    }
  });
  observer.observe(list, { childList: true });
  input.value = "ping-" + token;
  const start = performance.now();
  form.requestSubmit();
})`;
}

async function openedMs(page: Page, timeoutMs: number, what: string): Promise<number> {
  await page.waitForSelector("body[data-state=open]", { timeout: timeoutMs }).catch(async () => {
    const status = await page.textContent("#status").catch(() => "?");
    throw new Error(`${what}: no open channel within ${timeoutMs} ms (status: ${status})`);
  });
  const status = await page.textContent("#status") ?? "";
  const ms = /opened in (\d+(?:\.\d+)?) ms/.exec(status)?.[1];
  if (ms === undefined) throw new Error(`${what}: no time in the status "${status}"`);
  return Number(ms);
}

/**
 * Pairs two fresh pages of `context` on the server at `baseUrl`: B opens
 * `/?peer=<A's id>` and A accepts. Both pages are closed at the end.
 *
 * @param label Tells this pairing's messages apart.
 * @param echoes Round trips to time once the channel is open.
 */
export async function browserPairing(
  context: BrowserContext,
  baseUrl: string,
  label: string,
  echoes: number,
  timeouts: PairingTimeouts = DEFAULT_TIMEOUTS,
): Promise<PairingResult> {
  const result: PairingResult = { ok: false, openMs: [], roundTripsMs: [] };
  const pages: Page[] = [];
  try {
    const a = await context.newPage();
    pages.push(a);
    a.setDefaultTimeout(timeouts.startMs);
    await a.goto(baseUrl, { timeout: timeouts.startMs });
    // A function, not a string: the page's CSP forbids evaluating strings.
    await a.waitForFunction(
      () => {
        const { document } = globalThis as unknown as {
          document: { getElementById(id: string): { textContent: string | null } | null };
        };
        return /^[0-9a-f-]{8,}$/.test(document.getElementById("my-id")?.textContent ?? "");
      },
      undefined,
      { timeout: timeouts.startMs },
    );
    const idA = (await a.textContent("#my-id"))?.trim() ?? "";
    const b = await context.newPage();
    pages.push(b);
    b.setDefaultTimeout(timeouts.openMs);
    const withPeer = new URL(baseUrl);
    withPeer.searchParams.set("peer", idA);
    await b.goto(withPeer.href, { timeout: timeouts.startMs });
    // A person takes seconds to accept: the pages have warmed their WebRTC stack by then.
    for (const page of [a, b]) {
      await page.waitForSelector("body[data-warm]", {
        state: "attached",
        timeout: timeouts.startMs,
      });
    }
    await a.click("#requests button", { timeout: timeouts.openMs });
    const [openB, openA] = await Promise.all([
      openedMs(b, timeouts.openMs, "page B"),
      openedMs(a, timeouts.openMs, "page A"),
    ]);
    result.openMs.push(openB, openA);
    await b.evaluate(INSTALL_ECHO);
    for (let i = 0; i < echoes; i++) {
      result.roundTripsMs.push(
        await a.evaluate(roundTripScript(`${label}-${i}`, timeouts.echoMs)) as number,
      );
    }
    result.ok = true;
  } catch (error) {
    result.error = error instanceof Error ? error.message.split("\n")[0] ?? "" : String(error);
  } finally {
    for (const page of pages) await page.close().catch(() => {});
  }
  return result;
}
