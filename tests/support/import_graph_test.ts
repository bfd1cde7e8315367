import assert from "node:assert/strict";
import { cyclesOf, graphOf, importsOf, lex, resolve } from "./import_graph.ts";

const specifiers = (source: string) => importsOf(source).map((i) => `${i.kind} ${i.specifier}`);

Deno.test("importsOf() reads multi-line imports, re-exports and side-effect imports", () => {
  const source = [
    "import {",
    "  a,",
    "  type B,",
    '} from "./a.ts";',
    'import * as c from "../c.ts";',
    'import "./side_effect.ts";',
    'export * from "./all.ts";',
    'export { d as e } from "./d.ts";',
    'export type { T } from "./t.ts";',
    'import type { U } from "./u.ts";',
  ].join("\n");
  assert.deepEqual(specifiers(source), [
    "code ./a.ts",
    "code ../c.ts",
    "code ./side_effect.ts",
    "code ./all.ts",
    "code ./d.ts",
    "type ./t.ts",
    "type ./u.ts",
  ]);
  assert.equal(importsOf(source)[1]?.line, 5);
});

Deno.test("importsOf() reads dynamic, typeof and text imports", () => {
  const source = [
    'const m = await import("./lazy.ts");',
    'type M = typeof import("./types.ts");',
    'import page from "./page.html" with { type: "text" };',
    "const name = `./x.ts`;",
    "await import(name);",
  ].join("\n");
  assert.deepEqual(specifiers(source), ["code ./lazy.ts", "type ./types.ts", "text ./page.html"]);
});

Deno.test("importsOf() ignores imports in comments, strings and doc examples", () => {
  const source = [
    "// import x from './commented.ts';",
    "/**",
    " * ```ts",
    ' * import assert from "node:assert/strict";',
    ' * const y = await import("./example.ts");',
    " * ```",
    " */",
    "const s = 'import z from \"./in_string.ts\"';",
  ].join("\n");
  assert.deepEqual(specifiers(source), []);
});

Deno.test("importsOf() reads JSDoc import types, but only inside a JSDoc type", () => {
  const source = [
    '/** @typedef {import("./peer_link.js").PeerConnectionLike} Connection */',
    '/** @param {Promise<import("./files.js").Offer>} offer */',
    '// a line comment mentioning {import("./not_jsdoc.js").X}',
    '/** prose mentioning import("./prose.js") */',
  ].join("\n");
  assert.deepEqual(specifiers(source), ["type ./peer_link.js", "type ./files.js"]);
});

Deno.test("lex() tells a regex from a division and keeps templates' code", () => {
  const source = [
    String.raw`const quote = /["'\/]/; import "./after_regex.ts";`,
    "const half = a / 2; // b / c",
    'const t = `${"}"} ${`nested ${import("./in_template.ts")}`} // not a comment`;',
    'import "./after_template.ts";',
  ].join("\n");
  assert.deepEqual(specifiers(source), [
    "code ./after_regex.ts",
    "code ./in_template.ts",
    "code ./after_template.ts",
  ]);
  const { comments, bare } = lex(source);
  assert.deepEqual(comments.map((c) => c.text), ["// b / c"]);
  assert.ok(!bare.includes("not a comment"), "a template's text is blanked in bare");
});

Deno.test("lex() lists strings with their offsets", () => {
  const { strings } = lex('const WERIFT = "npm:werift@0.25.2";');
  assert.deepEqual(strings, [{ value: "npm:werift@0.25.2", at: 15 }]);
});

Deno.test("resolve() tells project files, built-ins and third parties apart", () => {
  assert.deepEqual(resolve("lib/cli/werift/peer.ts", "../../runtime/deps.ts"), {
    local: "lib/runtime/deps.ts",
  });
  assert.deepEqual(resolve("server.ts", "./lib/server/start.ts"), {
    local: "lib/server/start.ts",
  });
  assert.deepEqual(resolve("lib/a.ts", "node:util"), { builtin: "node:util" });
  assert.deepEqual(resolve("lib/a.ts", "jsr:@std/assert"), { thirdParty: "jsr:@std/assert" });
  assert.deepEqual(resolve("lib/a.ts", "https://deno.land/x/y.ts"), {
    thirdParty: "https://deno.land/x/y.ts",
  });
});

Deno.test("cyclesOf() names each cycle once, and a file that imports itself", () => {
  const { edges } = graphOf(
    new Map([
      ["a.ts", 'import "./b.ts";'],
      ["b.ts", 'import "./c.ts";'],
      ["c.ts", 'import "./a.ts"; import "./d.ts";'],
      ["d.ts", 'import "./d.ts";'],
      ["e.ts", 'import "./a.ts";'],
    ]),
  );
  assert.deepEqual(cyclesOf(edges), [["d.ts", "d.ts"], ["a.ts", "b.ts", "c.ts", "a.ts"]]);
  assert.deepEqual(cyclesOf(edges.filter((edge) => edge.from !== "c.ts")), [["d.ts", "d.ts"]]);
});
