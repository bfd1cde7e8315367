import assert from "node:assert/strict";
import { launchBrowser, SKIP_BROWSER_TESTS, waitForState } from "../support/browser.ts";
import type { Page } from "../support/browser_deps.ts";
import { spawnPeerWith, testServer } from "../support/helpers.ts";
import { TestIssuer, verifierFor } from "../support/tokens.ts";

function browserTest(name: string, fn: () => Promise<void>): void {
  // Chromium keeps timers and sockets of its own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

const issuer = await TestIssuer.create("k1");

/**
 * An app on an origin of its own that frames the page and mints tokens on
 * its "backend": the first (reason `start`) expires 2 s after the server's
 * allowance, the others in 5 minutes. It ignores the reasons in `?ignore=`.
 */
function appServer(switchboard: () => string) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/token") {
      const first = url.searchParams.get("reason") === "start";
      return new Response(await issuer.mint({ sub: "ada", expiresIn: first ? -28 : 300 }));
    }
    const origin = new URL(switchboard()).origin;
    return new Response(
      `<!doctype html><body><iframe id="sb" src="${switchboard()}"></iframe><script>
globalThis.asked = [];
const ignore = (new URLSearchParams(location.search).get("ignore") ?? "").split(",");
addEventListener("message", async (event) => {
  if (event.origin !== "${origin}" || event.data?.type !== "switchboard.token_needed") return;
  asked.push(event.data.reason);
  if (ignore.includes(event.data.reason)) return;
  const token = await (await fetch("/token?reason=" + event.data.reason)).text();
  document.getElementById("sb").contentWindow.postMessage({ type: "switchboard.token", token }, "${origin}");
});
</script>`,
      { headers: { "content-type": "text/html; charset=utf-8" } },
    );
  });
  return {
    // `localhost`, not the page's 127.0.0.1: another origin.
    origin: `http://localhost:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** The framed Switchboard page, as a page the helpers can wait on. */
async function framed(app: Page): Promise<Page> {
  const frame = await (await app.waitForSelector("#sb")).contentFrame();
  assert.ok(frame, "the frame to load");
  return frame as unknown as Page;
}

const asked = (app: Page) =>
  app.evaluate(() => (globalThis as unknown as { asked: string[] }).asked);

/**
 * A server that takes the test issuer's tokens and lets the app frame the
 * page, the app, and a browser showing the app at `query`; disposed together.
 */
async function embedded(query = "") {
  const stack = new AsyncDisposableStack();
  let switchboard = "";
  const app = stack.use(appServer(() => switchboard));
  const t = stack.use(
    testServer({ tokens: await verifierFor(issuer), embedOrigins: [app.origin] }),
  );
  switchboard = `http://127.0.0.1:${t.port}/`;
  const browser = stack.use(await launchBrowser());
  const page = await browser.open(`${app.origin}/${query}`);
  const sb = await framed(page);
  await waitForState(sb, "ready");
  const id = (await sb.textContent("#my-id")) ?? "";
  return { t, browser, page, sb, id, [Symbol.asyncDispose]: () => stack.disposeAsync() };
}

browserTest(
  "an app that frames the page hands it tokens by postMessage, and renews the token before it expires",
  async () => {
    await using e = await embedded();
    await e.t.logs.waitFor(new RegExp(`Client ${e.id} \\(user "ada"\\) connected`));
    // The first token had 2 s left: the server warned, the app sent a fresh one.
    await e.sb.waitForFunction(
      () =>
        Number(
          (globalThis as unknown as { document: { body: { dataset: { tokenLeft?: string } } } })
            .document.body.dataset.tokenLeft,
        ) > 300,
      undefined,
      { timeout: 10_000 },
    );
    assert.deepEqual(await asked(e.page), ["start", "expiring"]);
    assert.equal(await e.sb.textContent("#my-id"), e.id);
    assert.ok(!e.t.logs.lines.join("\n").includes("access token expired"));
    assert.deepEqual(e.browser.errors, []);
  },
);

browserTest(
  "a framed page whose token expired waits for the app's fresh one, then connects again",
  async () => {
    await using e = await embedded("?ignore=expiring");
    await e.t.logs.waitFor(new RegExp(`Client ${e.id} \\(user "ada"\\): access token expired`));
    await e.page.waitForFunction(
      () => (globalThis as unknown as { asked: string[] }).asked.includes("expired"),
      undefined,
      { timeout: 10_000 },
    );
    await waitForState(e.sb, "ready");
    await e.sb.waitForFunction(
      (before) =>
        (globalThis as unknown as {
          document: { getElementById(id: string): { textContent: string } | null };
        }).document.getElementById("my-id")?.textContent !== before,
      e.id,
      { timeout: 10_000 },
    );
    assert.deepEqual(await asked(e.page), ["start", "expiring", "expired"]);
  },
);

browserTest(
  "a page opened with #token= connects with it and takes it out of the address bar; without one it waits",
  async () => {
    await using t = testServer({ tokens: await verifierFor(issuer) });
    await using browser = await launchBrowser();
    const token = await issuer.mint({ sub: "bob", tenant: "acme" });
    const page = await browser.open(`http://127.0.0.1:${t.port}/#token=${token}`);
    await waitForState(page, "ready");
    const id = (await page.textContent("#my-id")) ?? "";
    await t.logs.waitFor(new RegExp(`Client ${id} \\(user "bob"\\) connected`));
    assert.equal(await page.evaluate(() => location.hash), "");
    assert.ok(!t.logs.lines.join("\n").includes(token));

    const without = await browser.open(`http://127.0.0.1:${t.port}/`);
    await waitForState(without, "token");
    assert.match((await without.textContent("#status")) ?? "", /Waiting for an access token/);
    assert.equal(await without.isVisible("#key-section"), false);
  },
);

browserTest(
  "a page whose token has grants.files false turns a CLI peer's file away, and both say why",
  async () => {
    await using t = testServer({ tokens: await verifierFor(issuer) });
    const dir = await Deno.makeTempDir({ prefix: "switchboard-peer-files-" });
    try {
      await using peer = spawnPeerWith(
        {
          cwd: dir,
          permissions: [`--allow-read=${dir}`],
          env: { SWITCHBOARD_TOKEN: await issuer.mint({ sub: "ada" }) },
        },
        "--url",
        t.url,
        "--accept",
      );
      const [, peerId] = await peer.waitForLine(
        /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/,
        "stdout",
      );
      await using browser = await launchBrowser();
      const token = await issuer.mint({ sub: "bob", grants: { files: false } });
      const page = await browser.open(`http://127.0.0.1:${t.port}/?peer=${peerId}#token=${token}`);
      await waitForState(page, "open");
      await Deno.writeTextFile(`${dir}/note.txt`, "hello");
      await peer.type("sendfile note.txt");
      await peer.waitForLine(
        /^\*\*\* \S+ declined note\.txt \(file 1\): this user may not receive files/,
        "stdout",
      );
      await page.waitForSelector("#transfers li.notice");
      assert.equal(
        await page.textContent("#transfers li.notice"),
        "Files from your partner are declined: this user may not receive files (the app's access token says so).",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
