/**
 * The project's import graph, read from source text: which file imports
 * which, and how (as code, as types only, or as text). Pure: source text in,
 * imports out; {@linkcode readImportGraph} is the one function that reads
 * files. `tests/architecture_test.ts` holds the layering rules over it.
 *
 * A small lexer, not a full parser: it blanks comments (so a doc example's
 * `import assert from "node:assert/strict"` is not an import), keeps strings,
 * and tells a regular expression literal from a division by the token before
 * it — enough for this code base, and checked by `import_graph_test.ts`.
 *
 * @module
 */

/** How a module is imported: run as code, for its types only, or as text. */
export type ImportKind = "code" | "type" | "text";

/** One import, re-export or dynamic import with a literal specifier. */
export interface Import {
  /** The specifier exactly as written. */
  specifier: string;
  /** How it is imported. */
  kind: ImportKind;
  /** The 1-based line it is written on. */
  line: number;
}

/** A source file with its comments and its strings blanked out, line breaks kept. */
export interface Lexed {
  /** The source with every comment replaced by spaces. */
  code: string;
  /** The source with every comment and every string's content replaced by spaces. */
  bare: string;
  /** The text of every comment, with its offset in the source. */
  comments: { text: string; at: number }[];
  /** Every string literal's value (escapes left as written) with its offset. */
  strings: { value: string; at: number }[];
}

// Keywords after which a `/` starts a regular expression, not a division.
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
]);

/**
 * Splits `source` into code, comments and strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lex } from "./import_graph.ts";
 * const { code, comments } = lex('const a = "//"; // note\n');
 * assert.equal(code, 'const a = "//";        \n');
 * assert.equal(comments[0]?.text, "// note");
 * ```
 */
export function lex(source: string): Lexed {
  const code = source.split("");
  const bare = source.split("");
  const comments: Lexed["comments"] = [];
  const strings: Lexed["strings"] = [];
  const blank = (into: string[], from: number, to: number) => {
    for (let i = from; i < to; i++) if (into[i] !== "\n") into[i] = " ";
  };
  // Open template literals' `${` depths: a `}` at the top depth resumes the template.
  const templates: number[] = [];
  let braces = 0;
  let previous = ""; // the last significant token, to tell a regex from a division
  let i = 0;
  const n = source.length;

  const readQuoted = (quote: string): number => {
    let j = i + 1;
    while (j < n && source[j] !== quote && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
    return Math.min(j + 1, n);
  };
  // Reads template text from `from` up to its closing backtick or a `${`.
  const readTemplate = (from: number): { end: number; opened: boolean } => {
    let j = from;
    while (j < n) {
      if (source[j] === "\\") j += 2;
      else if (source[j] === "`") return { end: j + 1, opened: false };
      else if (source[j] === "$" && source[j + 1] === "{") return { end: j + 2, opened: true };
      else j++;
    }
    return { end: n, opened: false };
  };
  const template = (from: number) => {
    const { end, opened } = readTemplate(from);
    blank(bare, from, opened ? end - 2 : end - 1);
    if (opened) templates.push(++braces);
    i = end;
    previous = opened ? "(" : "x";
  };

  while (i < n) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      comments.push({ text: source.slice(i, stop), at: i });
      blank(code, i, stop);
      blank(bare, i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      comments.push({ text: source.slice(i, stop), at: i });
      blank(code, i, stop);
      blank(bare, i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const end = readQuoted(c);
      strings.push({ value: source.slice(i + 1, end - 1), at: i });
      blank(bare, i + 1, end - 1);
      i = end;
      previous = "x";
    } else if (c === "`") {
      template(i + 1);
    } else if (
      c === "/" && (previous === "" || /[(,=:[!&|?{};+\-*%<>~^]$/.test(previous) ||
        BEFORE_REGEX.has(previous))
    ) {
      let j = i + 1;
      let inClass = false;
      while (j < n && source[j] !== "\n") {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        else if (source[j] === "/" && !inClass) break;
        j++;
      }
      blank(bare, i + 1, j);
      i = j + 1;
      while (i < n && /[a-z]/.test(source[i]!)) i++;
      previous = "x";
    } else if (c === "{") {
      braces++;
      previous = c;
      i++;
    } else if (c === "}") {
      if (templates.at(-1) === braces) {
        templates.pop();
        braces--;
        template(i + 1);
      } else {
        braces--;
        previous = c;
        i++;
      }
    } else if (/[\w$]/.test(c)) {
      let j = i;
      while (j < n && /[\w$]/.test(source[j]!)) j++;
      previous = source.slice(i, j);
      i = j;
    } else {
      if (!/\s/.test(c)) previous = c;
      i++;
    }
  }
  return { code: code.join(""), bare: bare.join(""), comments, strings };
}

const SPECIFIER = String.raw`["']([^"'\n]+)["']`;
// `import x from "m"`, `import { a, type B } from "m"`, `import * as m from "m"`,
// `import type { T } from "m"`, each at the start of a statement.
const STATIC_IMPORT = new RegExp(
  String.raw`(?:^|[\n;])[ \t]*import\s+(type\s+)?[\w$*\s{},]*?\s*from\s*${SPECIFIER}` +
    String.raw`(\s*with\s*\{\s*type\s*:\s*["'](\w+)["']\s*\})?`,
  "g",
);
// `import "m"`, for its side effects.
const BARE_IMPORT = new RegExp(String.raw`(?:^|[\n;])[ \t]*import\s*${SPECIFIER}`, "g");
// `export * from "m"`, `export * as m from "m"`, `export { a } from "m"`, `export type { T } from "m"`.
const RE_EXPORT = new RegExp(
  String.raw`(?:^|[\n;])[ \t]*export\s+(type\s+)?` +
    String.raw`(?:\*(?:\s+as\s+[\w$]+)?|\{[\w$\s,]*\})\s*from\s*${SPECIFIER}`,
  "g",
);
// `import("m")`, and `typeof import("m")` in a type.
const DYNAMIC_IMPORT = new RegExp(String.raw`(typeof\s+)?\bimport\s*\(\s*${SPECIFIER}\s*\)`, "g");
// A type in a JSDoc tag that names another module's export: `{import(SPECIFIER).Name}`.
const JSDOC_IMPORT = new RegExp(String.raw`\{[^{}]*?\bimport\s*\(\s*${SPECIFIER}\s*\)`, "g");

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Every import in `source`: static imports, side-effect imports, re-exports,
 * dynamic imports with a literal specifier, `with { type: "text" }` imports,
 * and the `import("…")` types of JSDoc comments (not those of `@example` code).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importsOf } from "./import_graph.ts";
 * const source = [
 *   'import { a } from "./a.ts";',
 *   'import page from "./page.html" with { type: "text" };',
 *   "/** import b from \"./not_an_import.ts\"; *\/",
 *   'export type { T } from "./t.ts";',
 * ].join("\n");
 * assert.deepEqual(importsOf(source).map((i) => [i.specifier, i.kind]), [
 *   ["./a.ts", "code"],
 *   ["./page.html", "text"],
 *   ["./t.ts", "type"],
 * ]);
 * ```
 */
export function importsOf(source: string): Import[] {
  const { code, comments } = lex(source);
  const found: { at: number; specifier: string; kind: ImportKind }[] = [];
  for (const match of code.matchAll(STATIC_IMPORT)) {
    const attribute = match[4];
    const kind = attribute === "text" || attribute === "bytes"
      ? "text"
      : match[1]
      ? "type"
      : "code";
    found.push({ at: match.index + match[0].indexOf("import"), specifier: match[2]!, kind });
  }
  for (const match of code.matchAll(BARE_IMPORT)) {
    found.push({
      at: match.index + match[0].indexOf("import"),
      specifier: match[1]!,
      kind: "code",
    });
  }
  for (const match of code.matchAll(RE_EXPORT)) {
    found.push({
      at: match.index + match[0].indexOf("export"),
      specifier: match[2]!,
      kind: match[1] ? "type" : "code",
    });
  }
  for (const match of code.matchAll(DYNAMIC_IMPORT)) {
    found.push({ at: match.index, specifier: match[2]!, kind: match[1] ? "type" : "code" });
  }
  for (const comment of comments.filter(({ text }) => text.startsWith("/**"))) {
    // An `@example` block is code a doc test runs on its own, not this module's import.
    const prose = comment.text.replace(/```[\s\S]*?(```|$)/g, (block) => " ".repeat(block.length));
    for (const match of prose.matchAll(JSDOC_IMPORT)) {
      found.push({ at: comment.at + match.index, specifier: match[1]!, kind: "type" });
    }
  }
  return found.sort((a, b) => a.at - b.at).map(({ at, specifier, kind }) => ({
    specifier,
    kind,
    line: lineAt(source, at),
  }));
}

/** Where a specifier points: a file of the project, a built-in, or a third party. */
export type Target =
  | { local: string }
  | { builtin: string }
  | { thirdParty: string };

/**
 * Resolves `specifier`, written in the project file `from` (a path relative
 * to the root, `/`-separated), to a project path, a `node:` built-in or a
 * third-party module (`npm:`, `jsr:`, `http(s):`, or a bare name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolve } from "./import_graph.ts";
 * assert.deepEqual(resolve("lib/server/start.ts", "../shared/protocol.js"), {
 *   local: "lib/shared/protocol.js",
 * });
 * assert.deepEqual(resolve("lib/runtime/deps.ts", "npm:uuid@14"), { thirdParty: "npm:uuid@14" });
 * ```
 */
export function resolve(from: string, specifier: string): Target {
  if (specifier.startsWith("node:")) return { builtin: specifier };
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
    return { thirdParty: specifier };
  }
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return { local: parts.join("/") };
}

/** One file's imports, resolved. */
export interface Edge extends Import {
  /** The importing file, relative to the root. */
  from: string;
  /** Where the specifier points. */
  to: Target;
}

/** The graph: every file read, its source, and its resolved imports. */
export interface ImportGraph {
  /** Each file's source, by path relative to the root. */
  sources: Map<string, string>;
  /** Every import of every file, in file order. */
  edges: Edge[];
}

/**
 * Builds the graph of `sources` (path relative to the root → text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { graphOf } from "./import_graph.ts";
 * const graph = graphOf(new Map([["lib/a.ts", 'import "./b.ts";']]));
 * assert.deepEqual(graph.edges[0]?.to, { local: "lib/b.ts" });
 * ```
 */
export function graphOf(sources: Map<string, string>): ImportGraph {
  const edges: Edge[] = [];
  for (const [from, source] of sources) {
    for (const found of importsOf(source)) {
      edges.push({ ...found, from, to: resolve(from, found.specifier) });
    }
  }
  return { sources, edges };
}

/**
 * The cycles among `edges`' local files: each strongly connected component of
 * more than one file (or a file importing itself), as one loop through it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cyclesOf, graphOf } from "./import_graph.ts";
 * const { edges } = graphOf(new Map([
 *   ["a.ts", 'import "./b.ts";'],
 *   ["b.ts", 'import "./a.ts";'],
 *   ["c.ts", 'import "./a.ts";'],
 * ]));
 * assert.deepEqual(cyclesOf(edges), [["a.ts", "b.ts", "a.ts"]]);
 * ```
 */
export function cyclesOf(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    if (!("local" in edge.to)) continue;
    const list = next.get(edge.from) ?? [];
    if (!list.includes(edge.to.local)) list.push(edge.to.local);
    next.set(edge.from, list);
  }
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file)!, index.get(to)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      const selfLoop = next.get(file)?.includes(file) ?? false;
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const file of [...next.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((component) => loopThrough(component.sort(), next));
}

// A shortest path from the component's first file back to itself, for the message.
function loopThrough(component: string[], next: Map<string, string[]>): string[] {
  const start = component[0]!;
  const members = new Set(component);
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const to of next.get(file) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at = file; at !== start; at = cameFrom.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, file);
        queue.push(to);
      }
    }
  }
  return [...component, start];
}

/**
 * Reads every `.ts` and `.js` file below each of `roots` (folders or files,
 * relative to `base`) into a graph; test files (`*_test.ts`) are skipped
 * unless named as a root.
 */
export async function readImportGraph(base: URL, roots: readonly string[]): Promise<ImportGraph> {
  const sources = new Map<string, string>();
  const read = async (path: string, named: boolean): Promise<void> => {
    const url = new URL(path, base);
    const info = await Deno.stat(url);
    if (info.isDirectory) {
      const names = [];
      for await (const entry of Deno.readDir(url)) names.push(entry.name);
      for (const name of names.sort()) await read(`${path}/${name}`, false);
    } else if (/\.(ts|js)$/.test(path) && (named || !path.endsWith("_test.ts"))) {
      sources.set(path, await Deno.readTextFile(url));
    }
  };
  for (const root of roots) await read(root, true);
  return graphOf(sources);
}
