import assert from "node:assert/strict";
import { assetResponse, ASSETS, CONTENT_SECURITY_POLICY } from "../lib/web/assets.ts";
import { testServer } from "./helpers.ts";

const WEB = new URL("../lib/web/", import.meta.url);

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
  assert.match(html, /<script type="module" src="\/app.js"><\/script>/);
});

Deno.test("every file the page loads is served as it is on disk, with its type", async () => {
  await using t = testServer();
  const files: Record<string, [string, RegExp]> = {
    "/": ["index.html", /^text\/html/],
    "/style.css": ["style.css", /^text\/css/],
    "/app.js": ["app.js", /^text\/javascript/],
    "/peer_link.js": ["peer_link.js", /^text\/javascript/],
    "/protocol.js": ["protocol.js", /^text\/javascript/],
    "/file_protocol.js": ["file_protocol.js", /^text\/javascript/],
    "/file_transfer.js": ["file_transfer.js", /^text\/javascript/],
    "/files_ui.js": ["files_ui.js", /^text\/javascript/],
    "/sha256.js": ["sha256.js", /^text\/javascript/],
    "/verification.js": ["verification.js", /^text\/javascript/],
    "/printable.js": ["printable.js", /^text\/javascript/],
  };
  assert.deepEqual([...ASSETS.keys()].sort(), Object.keys(files).sort());
  for (const [path, [file, type]] of Object.entries(files)) {
    const response = await fetch(`http://127.0.0.1:${t.port}${path}`);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get("content-type") ?? "", type, path);
    assert.equal(await response.text(), await Deno.readTextFile(new URL(file, WEB)), path);
  }
});

Deno.test("the page loads nothing from elsewhere: no absolute URL and no inline script or style", async () => {
  const files = [...ASSETS.keys()].map((path) => path === "/" ? "index.html" : path.slice(1));
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, WEB));
    assert.doesNotMatch(text, /(src|href)="(https?:)?\/\//, file);
    assert.doesNotMatch(text, /@import|url\(http/, file);
    if (file === "index.html") {
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
