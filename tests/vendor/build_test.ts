import assert from "node:assert/strict";
import { buildSharedDeps, BUNDLE_PATH } from "../../lib/vendor/build.ts";

Deno.test("the page's bundle of lib/shared/deps.js is what deno task vendor builds from the lock file", async () => {
  const built = await buildSharedDeps();
  const kept = await Deno.readTextFile(BUNDLE_PATH);
  assert.ok(kept === built, "lib/vendor/shared_deps.js is stale: run deno task vendor");
  // Every export of the deps module is in the bundle, and no machine's path.
  const deps = await Deno.readTextFile(new URL("../../lib/shared/deps.js", import.meta.url));
  for (const [, name] of deps.matchAll(/^export \{ (\w+) \}/gm)) {
    assert.match(kept, new RegExp(`\\b${name}\\b`), name);
  }
  assert.doesNotMatch(kept, /registry\.npmjs\.org|\/root\/|\/home\//);
});

Deno.test("the bundle runs as the browser runs it: its exports work without Deno's npm loader", async () => {
  const bundle = await import(BUNDLE_PATH.href);
  const digest = bundle.sha256(new TextEncoder().encode("abc"));
  assert.equal(
    Array.from(digest as Uint8Array, (byte) => byte.toString(16).padStart(2, "0")).join(""),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.ok(bundle.p256.Point.BASE.multiply(2n).equals(bundle.p256.Point.BASE.double()));
});
