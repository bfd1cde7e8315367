/**
 * Builds `shared_deps.js`, the page's copy of `lib/shared/deps.js`: one
 * browser bundle of its npm exports, made by `deno bundle` from the pinned
 * versions in the lock file. The comments `deno bundle` writes with each
 * module's path in the local npm cache are rewritten to the package's own
 * path, so the file is the same on every machine.
 *
 * Run it with `deno task vendor` after changing `lib/shared/deps.js`.
 *
 * @module
 */

/** Where the bundle is kept, next to this script. */
export const BUNDLE_PATH = new URL("./shared_deps.js", import.meta.url);

const DEPS = new URL("../shared/deps.js", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);

/**
 * Builds the bundle's text: what `shared_deps.js` must hold.
 *
 * @returns The bundle, with every npm cache path made machine-independent.
 */
export async function buildSharedDeps(): Promise<string> {
  // Beside the bundle, so the task needs no write permission outside this folder.
  const out = new URL(`./shared_deps.${crypto.randomUUID()}.tmp.js`, import.meta.url).pathname;
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--frozen",
        "--config",
        CONFIG.pathname,
        "--platform",
        "browser",
        DEPS.pathname,
        "-o",
        out,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`deno bundle failed: ${new TextDecoder().decode(stderr)}`);
    return machineFree(await Deno.readTextFile(out));
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/**
 * Rewrites `// …/registry.npmjs.org/@noble/hashes/2.4.0/sha2.js` to
 * `// npm:@noble/hashes@2.4.0/sha2.js`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { machineFree } from "./build.ts";
 * assert.equal(
 *   machineFree("// ../../root/.cache/deno/npm/registry.npmjs.org/@noble/hashes/2.4.0/sha2.js\n"),
 *   "// npm:@noble/hashes@2.4.0/sha2.js\n",
 * );
 * ```
 */
export function machineFree(bundle: string): string {
  return bundle.replace(
    /^\/\/ \S*?\/registry\.npmjs\.org\/((?:@[^/\s]+\/)?[^/\s]+)\/([^/\s]+)\/(\S*)$/gm,
    "// npm:$1@$2/$3",
  );
}

if (import.meta.main) {
  await Deno.writeTextFile(BUNDLE_PATH, await buildSharedDeps());
  console.log(`Wrote ${BUNDLE_PATH.pathname}`);
}
