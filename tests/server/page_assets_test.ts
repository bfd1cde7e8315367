import assert from "node:assert/strict";
import { assetResponse, ASSETS, CONTENT_SECURITY_POLICY } from "../../lib/server/page_assets.ts";
import { testServer } from "../support/helpers.ts";

// The page is served from the paths its files have below lib/.
const LIB = new URL("../../lib/", import.meta.url);

Deno.test("GET / serves the page with a strict Content-Security-Policy", async () => {
  await using t = testServer();
  const response = await fetch(`http://127.0.0.1:${t.port}/`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  const csp = response.headers.get("content-security-policy") ?? "";
  assert.equal(csp, CONTENT_SECURITY_POLICY);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  const html = await response.text();
  assert.match(html, /<script type="module" src="\/page\/app.js"><\/script>/);
});

/** Every file of `lib/page/` and `lib/shared/` by the path it is served at: `/` for the HTML. */
async function filesOnDisk(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const folder of ["page", "shared"]) {
    for await (const entry of Deno.readDir(new URL(`${folder}/`, LIB))) {
      // The page's deno.json is for `deno check`, not the browser.
      if (!/\.(html|css|js)$/.test(entry.name)) continue;
      const file = `${folder}/${entry.name}`;
      // The browser cannot load npm: modules: shared/deps.js is served as their bundle.
      const served = file === "shared/deps.js" ? "vendor/shared_deps.js" : file;
      files[file === "page/index.html" ? "/" : `/${file}`] = served;
    }
  }
  return files;
}

Deno.test("every file of the page and the shared folder is served as it is on disk, with its type", async () => {
  await using t = testServer();
  const files = await filesOnDisk();
  assert.deepEqual([...ASSETS.keys()].sort(), Object.keys(files).sort());
  assert.ok(files["/page/app.js"] && files["/shared/protocol.js"]);
  const types: Record<string, RegExp> = {
    html: /^text\/html/,
    css: /^text\/css/,
    js: /^text\/javascript/,
  };
  for (const [path, file] of Object.entries(files)) {
    const response = await fetch(`http://127.0.0.1:${t.port}${path}`);
    assert.equal(response.status, 200, path);
    const type = types[file.split(".").pop() ?? ""];
    assert.ok(type, `${file}: a type the page serves`);
    assert.match(response.headers.get("content-type") ?? "", type, path);
    assert.equal(await response.text(), await Deno.readTextFile(new URL(file, LIB)), path);
  }
});

Deno.test("the page loads nothing from elsewhere: no absolute URL and no inline script or style", async () => {
  const files = [...ASSETS.keys()].map((path) => path === "/" ? "page/index.html" : path.slice(1));
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, LIB));
    assert.doesNotMatch(text, /(src|href)="(https?:)?\/\//, file);
    assert.doesNotMatch(text, /@import|url\(http/, file);
    if (file === "page/index.html") {
      assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)/, "no inline script");
      assert.doesNotMatch(text, /<style|style="/, "no inline style");
    }
  }
});

Deno.test("assetResponse() knows only the page's paths", () => {
  assert.equal(assetResponse("/healthz"), undefined);
  assert.equal(assetResponse("/../deno.json"), undefined);
  assert.equal(assetResponse("/index.html"), undefined);
});

Deno.test("other paths keep their answers while the page is on", async () => {
  await using t = testServer();
  const health = await fetch(`http://127.0.0.1:${t.port}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const other = await fetch(`http://127.0.0.1:${t.port}/nothing-here`);
  assert.notEqual(other.status, 200);
  await other.body?.cancel();
});
