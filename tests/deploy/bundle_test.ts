/**
 * The one-file build, as an operator uses it: `deno task bundle`, the two
 * files copied into an empty folder with no `deno.json`, the server run
 * with `--allow-net` alone, a client connected with the client file, the
 * page loaded in Chromium, and a SIGTERM that ends it with exit 0.
 */

import assert from "node:assert/strict";
import { launchBrowser, SKIP_BROWSER_TESTS, waitForState } from "../support/browser.ts";
import { Child, ROOT, within } from "../support/helpers.ts";

/** `deno task bundle` in the project; the two files' SHA-256 as SHA256SUMS lists them. */
async function bundle(): Promise<Map<string, string>> {
  const { code, stderr } = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["task", "bundle"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output(),
    120_000,
    "deno task bundle",
  );
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const sums = await Deno.readTextFile(`${ROOT}dist/SHA256SUMS`);
  const listed = new Map(
    sums.trim().split("\n").map((line) => {
      const [sum, name] = line.split(/\s+/);
      return [name!, sum!] as const;
    }),
  );
  for (const [name, sum] of listed) {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      await Deno.readFile(`${ROOT}dist/${name}`),
    );
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(hex, sum, `${name} matches SHA256SUMS`);
  }
  return listed;
}

Deno.test({
  name:
    "the one-file build runs from an empty folder with --allow-net alone: a client, the page, SIGTERM",
  ignore: SKIP_BROWSER_TESTS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const first = await bundle();
    assert.deepEqual([...first.keys()], ["switchboard.js", "switchboard-client.js"]);
    // Built again from the same sources, byte for byte the same: a checksum means something.
    assert.deepEqual(await bundle(), first);
    const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
    try {
      for (const name of first.keys()) await Deno.copyFile(`${ROOT}dist/${name}`, `${dir}/${name}`);
      const server = new Child(
        [
          "run",
          "--allow-net",
          "--no-prompt",
          "switchboard.js",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
        ],
        dir,
      );
      await using _server = server;
      const [, port] = await server.waitForLine(
        /Server listening on ws:\/\/127\.0\.0\.1:(\d+)/,
        "stderr",
        30_000,
      );

      await using client = new Child(
        [
          "run",
          "--allow-net",
          "--no-prompt",
          "switchboard-client.js",
          "--url",
          `ws://127.0.0.1:${port}`,
          "--once",
        ],
        dir,
      );
      assert.equal((await within(client.exit(), 30_000, "the client to exit")).code, 0);
      assert.match(client.stdout.join("\n"), /\*\*\* Your Client ID: [0-9a-f-]{36} \*\*\*/);

      await using browser = await launchBrowser();
      const page = await browser.open(`http://127.0.0.1:${port}/`);
      await waitForState(page, "ready");
      assert.deepEqual(browser.errors, []);

      server.process.kill("SIGTERM");
      assert.equal((await within(server.exit(), 30_000, "the server to stop")).code, 0);
      assert.match(server.stderr.join("\n"), /Server stopped\./);
      // Nothing was written next to the files: no lock file, no cache, no config.
      const left = [];
      for await (const entry of Deno.readDir(dir)) left.push(entry.name);
      assert.deepEqual(left.sort(), ["switchboard-client.js", "switchboard.js"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
