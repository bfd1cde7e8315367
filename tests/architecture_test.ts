/**
 * The house rules, held by a test: it reads the import graph of `lib/`, the
 * two entry points, `bench/` and `tests/support/`, and fails — naming every
 * offending file, line and import at once — when code reaches across a line
 * the layout draws:
 *
 * - `lib/shared/` is what the browser and Deno both run: it imports nothing
 *   outside itself, and each module says it is browser compatible;
 * - `lib/page/` imports only `lib/shared/` and itself;
 * - the server and the CLI do not import each other's code (the server
 *   embeds the page as text only in `page_assets.ts`);
 * - signaling, access control, the registry and metrics, runtime glue and
 *   the Deno-side protocol never reach up into the programs that use them;
 * - a module whose doc says it is pure imports no runtime glue and calls no
 *   `Deno` API;
 * - no import cycles; third-party specifiers only in `lib/runtime/deps.ts`
 *   (Deno's) and `lib/shared/deps.js` (what the page runs too, bundled for it);
 * - `bench/` uses `tests/support/` and `lib/`, never a test file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cyclesOf, type Edge, lex, readImportGraph } from "./support/import_graph.ts";

const ROOT = new URL("../", import.meta.url);
const graph = await readImportGraph(ROOT, [
  "lib",
  "server.ts",
  "client.ts",
  "bench",
  "tests/support",
]);

/** The glue between the pure core and Deno: logging, permissions, sockets, third parties. */
const RUNTIME_GLUE = [
  "lib/runtime/deps.ts",
  "lib/runtime/logging.ts",
  "lib/runtime/permissions.ts",
  "lib/runtime/json_socket.ts",
];

const BROWSER_COMPATIBLE = "// This module is browser compatible.";

const under = (folder: string) => (path: string) => path.startsWith(`${folder}/`);
const local = (edge: Edge): string | undefined => "local" in edge.to ? edge.to.local : undefined;
const target = (edge: Edge): string =>
  "local" in edge.to ? edge.to.local : "builtin" in edge.to ? edge.to.builtin : edge.to.thirdParty;

/** `lib/x.ts:12 imports "../y.ts" (lib/y.ts, as types)`: one line per offence. */
function describe(edge: Edge): string {
  const how = edge.kind === "code" ? "" : `, as ${edge.kind === "type" ? "types" : "text"}`;
  return `${edge.from}:${edge.line} imports "${edge.specifier}" (${target(edge)}${how})`;
}

/** Fails listing every offence, or passes when there is none. */
function holds(rule: string, offences: string[]): void {
  if (offences.length === 0) return;
  assert.fail(`${rule}: ${offences.length} violation(s)\n  ${offences.join("\n  ")}`);
}

/**
 * The imports from files `from` selects whose target `allowed` refuses;
 * `allowed` sees the target's project path, or undefined for a built-in or
 * third-party module.
 */
function offending(
  from: (path: string) => boolean,
  allowed: (to: string | undefined, edge: Edge) => boolean,
): string[] {
  return graph.edges
    .filter((edge) => from(edge.from) && !allowed(local(edge), edge))
    .map(describe);
}

Deno.test("the import graph reads every module and resolves every local import", () => {
  // A parser that silently read nothing would let every rule below pass.
  assert.ok(graph.sources.size > 80, `only ${graph.sources.size} files read`);
  assert.ok(
    graph.edges.some((edge) => edge.from === "server.ts" && local(edge) === "lib/server/start.ts"),
    "server.ts is not seen importing lib/server/start.ts",
  );
  const missing = graph.edges
    .filter((edge) => {
      const to = local(edge);
      return to !== undefined && !existsSync(new URL(to, ROOT));
    })
    .map(describe);
  holds("every local import names a file that exists", missing);
});

Deno.test("lib/shared/ imports nothing outside itself", () => {
  holds(
    "lib/shared/ is run by the browser and Deno alike, so it imports only lib/shared/",
    offending(
      under("lib/shared"),
      (to, edge) =>
        (to !== undefined && under("lib/shared")(to)) ||
        // Its deps module, which the page gets bundled, is where third parties come in.
        (edge.from === "lib/shared/deps.js" && "thirdParty" in edge.to),
    ),
  );
});

Deno.test("every lib/shared/ module says it is browser compatible", () => {
  const unmarked = [...graph.sources]
    .filter(([path]) => under("lib/shared")(path))
    .filter(([, source]) => {
      // The header: the leading `//` lines, such as `// @ts-check`.
      const header = source.split("\n");
      const end = header.findIndex((line) => !line.startsWith("//"));
      return !header.slice(0, end === -1 ? undefined : end).includes(BROWSER_COMPATIBLE);
    })
    .map(([path]) => `${path} does not start with "${BROWSER_COMPATIBLE}"`);
  holds("lib/shared/ modules are marked browser compatible", unmarked);
});

Deno.test("lib/page/ imports only lib/shared/ and lib/page/", () => {
  holds(
    "the page imports only the shared folder and itself",
    offending(
      under("lib/page"),
      (to) => to !== undefined && (under("lib/shared")(to) || under("lib/page")(to)),
    ),
  );
});

Deno.test("the server and the CLI do not import each other's code", () => {
  // Each entry point belongs to its program.
  const isServer = (path: string) => path === "server.ts" || under("lib/server")(path);
  const isCli = (path: string) => path === "client.ts" || under("lib/cli")(path);
  const server = offending(isServer, (to, edge) => {
    if (to === undefined) return true;
    if (under("lib/cli")(to)) return false;
    // The server embeds the page's files as text to serve them, in one module.
    if (under("lib/page")(to)) {
      return edge.kind === "text" && edge.from === "lib/server/page_assets.ts";
    }
    return true;
  });
  const cli = offending(
    isCli,
    (to) => !(to && ["lib/server", "lib/signaling", "lib/auth"].some((f) => under(f)(to))),
  );
  holds("lib/server/ imports no CLI or page code; lib/cli/ no server, signaling or auth code", [
    ...server,
    ...cli,
  ]);
});

Deno.test("lib/signaling/ imports no server or CLI code", () => {
  holds(
    "signaling is a subsystem the server uses, so it never imports the server or the CLI",
    offending(
      under("lib/signaling"),
      (to) => !(to && ["lib/server", "lib/cli"].some((f) => under(f)(to))),
    ),
  );
});

Deno.test("lib/auth/ and the server state at lib/ root import no server, CLI or page code", () => {
  // Access control, the registry and the metrics are parts the server wires
  // together; like signaling, they never reach back up into it.
  const isState = (path: string) => /^lib\/[^/]+\.ts$/.test(path);
  holds(
    "auth, registry and metrics sit below the server",
    offending(
      (path) => under("lib/auth")(path) || isState(path),
      (to) => !(to && ["lib/server", "lib/cli", "lib/page"].some((f) => under(f)(to))),
    ),
  );
});

Deno.test("lib/runtime/ and lib/protocol/ import no program code", () => {
  const programs = ["lib/server", "lib/cli", "lib/signaling", "lib/auth", "lib/page"];
  holds(
    "the runtime glue and the Deno-side protocol sit below every program",
    offending(
      (path) => under("lib/runtime")(path) || under("lib/protocol")(path),
      (to) => !(to && programs.some((f) => under(f)(to))),
    ),
  );
});

Deno.test("a pure module imports no runtime glue and uses no Deno API", () => {
  const pure = [...graph.sources]
    .filter(([path]) => under("lib")(path))
    .filter(([, source]) => {
      const doc = lex(source).comments.find((comment) => comment.text.includes("@module"));
      return doc !== undefined && /\bPure\b/.test(doc.text);
    })
    .map(([path]) => path);
  assert.ok(pure.length >= 15, `only ${pure.length} pure modules found: ${pure.join(", ")}`);
  const glue = offending(
    (path) => pure.includes(path),
    (to) => !(to && RUNTIME_GLUE.includes(to)),
  );
  // Purity is transitive: a pure module may not reach the glue or Deno through
  // code it runs. Type-only imports run nothing, so they are not followed.
  const usesDeno = (path: string) =>
    lex(graph.sources.get(path) ?? "").bare.split("\n").flatMap((line, index) =>
      /\bDeno\./.test(line) ? [`${path}:${index + 1} uses the Deno API: ${line.trim()}`] : []
    );
  const reached = pure.flatMap((start) => {
    const path = new Map<string, string>([[start, start]]);
    const queue = [start];
    const found: string[] = [];
    while (queue.length > 0) {
      const file = queue.shift()!;
      const via = path.get(file)!;
      if (file !== start && RUNTIME_GLUE.includes(file)) {
        // A direct import is reported above, with its line.
        if (via.split(" -> ").length > 2) found.push(`${start} runs runtime glue: ${via}`);
        continue;
      }
      const deno = usesDeno(file);
      if (file !== start && deno.length > 0) found.push(`${start} runs ${via}: ${deno[0]}`);
      for (const edge of graph.edges) {
        const to = local(edge);
        if (edge.from !== file || edge.kind !== "code" || !to || path.has(to)) continue;
        path.set(to, `${via} -> ${to}`);
        queue.push(to);
      }
    }
    return found;
  });
  holds("modules documented as pure stay pure", [
    ...glue,
    ...pure.flatMap(usesDeno),
    ...reached,
  ]);
});

Deno.test("there is no import cycle", () => {
  // Text imports load no module, so they cannot close a cycle.
  const cycles = cyclesOf(graph.edges.filter((edge) => edge.kind !== "text"));
  holds("no import cycles", cycles.map((cycle) => cycle.join(" -> ")));
});

Deno.test("third-party specifiers appear only in the deps modules", () => {
  // The test-only browser driver has its own one file, as deps.ts is the program's;
  // lib/shared/deps.js holds what the page runs too (the server serves it bundled).
  const deps = ["lib/runtime/deps.ts", "lib/shared/deps.js", "tests/support/browser_deps.ts"];
  const imports = offending(
    (path) => !deps.includes(path),
    (_, edge) => !("thirdParty" in edge.to),
  );
  // A specifier kept in a string, for a dynamic import(name), counts too.
  const strings = [...graph.sources]
    .filter(([path]) => !deps.includes(path))
    .flatMap(([path, source]) =>
      lex(source).strings
        .filter(({ value }) => /^(npm|jsr):/.test(value))
        .map(({ value, at }) =>
          `${path}:${source.slice(0, at).split("\n").length} names "${value}" in a string`
        )
    );
  holds("third-party code comes in through the deps modules alone", [...imports, ...strings]);
});

Deno.test("bench/ imports only tests/support/, lib/ and itself, never a test file", () => {
  const bench = offending(
    under("bench"),
    (to) =>
      to === undefined ||
      ["tests/support", "lib", "bench"].some((folder) => under(folder)(to)),
  );
  const testFiles = offending(
    (path) => under("bench")(path) || under("tests/support")(path),
    (to) => !to?.endsWith("_test.ts"),
  );
  holds("bench/ and tests/support/ import support and library code, not tests", [
    ...new Set([...bench, ...testFiles]),
  ]);
});

Deno.test("deno task test names every entry of lib/, so every module's examples run", async () => {
  // `lib/page/` is a workspace member of its own; given `lib/` whole, `deno test --doc` runs the
  // examples of that member alone, so each entry is named instead — and a new one must be too.
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const task: string = config.tasks.test;
  const named = new Set(task.split(/\s+/).map((arg) => arg.replace(/\/$/, "")));
  const missing: string[] = [];
  for await (const entry of Deno.readDir(new URL("lib/", ROOT))) {
    if (!named.has(`lib/${entry.name}`)) missing.push(`lib/${entry.name}`);
  }
  assert.deepEqual(missing.sort(), [], `not in the test task: ${missing.join(", ")}`);
  assert.ok(!named.has("lib"), "lib/ whole would hide every module outside lib/page/");
});
