/**
 * The documents hold together: every relative link in the README,
 * BENCHMARKS.md and the guides in `docs/` reaches a file that exists (and a
 * heading in it, when it names one), every path in backticks names a file or
 * folder of the checkout, and the README's task table names every task in
 * `deno.json` with permissions it really grants. Modules move; a guide that
 * still points at the old place fails here instead of misleading a reader.
 */

import assert from "node:assert/strict";

/** The checkout, found from here: no import of the programs, so a docs check never waits on them. */
const ROOT = new URL("..", import.meta.url).pathname;

/** The Markdown files a reader follows links between, relative to the checkout. */
async function documents(): Promise<string[]> {
  const guides: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (entry.isFile && entry.name.endsWith(".md")) guides.push(`docs/${entry.name}`);
  }
  return ["README.md", "BENCHMARKS.md", ...guides.toSorted()];
}

/** `text` without its fenced code blocks, whose `#` lines are comments, not headings. */
function withoutFences(text: string): string {
  return text.replace(/^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?^[ \t]*\1[ \t]*$/gm, "");
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors of every heading in `text`, a repeated one numbered as GitHub does (`-1`, `-2`). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of withoutFences(text).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** The targets of the links and images in `text`, outside code. */
function linkTargets(text: string): string[] {
  const prose = withoutFences(text).replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?: "[^"]*")?\)/g)].map((m) => m[1]!);
}

/**
 * The checkout's paths that open a span in backticks: `lib/…`, `tests/…`,
 * `bench/…`, `docs/…`, `.ci/…` (up to a space, as in `.ci/isolated deno task test`).
 */
function codePaths(text: string): string[] {
  return [...text.matchAll(/`((?:lib|tests|bench|docs|\.ci)\/[^`\s<>*]*)/g)].map((m) => m[1]!);
}

/**
 * Whether `path` (relative to the checkout) exists: a file, or a folder with
 * something in it (git keeps no empty folder, so an empty one is a leftover).
 */
async function exists(path: string): Promise<boolean> {
  try {
    if ((await Deno.stat(`${ROOT}${path}`)).isFile) return true;
    for await (const _ of Deno.readDir(`${ROOT}${path}`)) return true;
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `target` as a path relative to the checkout, for a link in `from`. */
function resolve(from: string, target: string): string {
  const url = new URL(target, `file:///${from}`);
  return decodeURIComponent(url.pathname.slice(1));
}

/**
 * What is wrong with the relative links of `file`, whose text is `text`: one
 * line per link that reaches no file or no heading. `read` gives another
 * document's text.
 */
async function brokenLinks(
  file: string,
  text: string,
  read: (path: string) => Promise<string>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
    const [path = "", fragment] = target.split("#", 2);
    const resolved = path === "" ? file : resolve(file, path);
    if (path !== "" && !await exists(resolved)) {
      problems.push(`${file}: (${target}): no file ${resolved}`);
      continue;
    }
    if (fragment === undefined) continue;
    const other = resolved === file ? text : await read(resolved);
    if (!anchors(other).has(decodeURIComponent(fragment))) {
      problems.push(`${file}: (${target}): ${resolved} has no heading #${fragment}`);
    }
  }
  return problems;
}

const readDocument = (path: string) => Deno.readTextFile(`${ROOT}${path}`);

Deno.test("slug() makes the anchors GitHub makes for this repository's headings", () => {
  assert.equal(slug("TLS: wss:// and https://"), "tls-wss-and-https");
  assert.equal(slug("Who may read /metrics"), "who-may-read-metrics");
  assert.equal(
    slug("The command-line peer: `deno task peer`"),
    "the-command-line-peer-deno-task-peer",
  );
  assert.equal(
    slug("Files: `sendfile`, and the page's Send a file"),
    "files-sendfile-and-the-pages-send-a-file",
  );
});

Deno.test("anchors() skips # lines in code blocks and numbers a repeated heading", () => {
  const text =
    "# A\n\n```sh\n# From a file\n```\n\n1. Then:\n   ```sh\n   # indented\n   ```\n\n## A\n";
  assert.deepEqual([...anchors(text)], ["a", "a-1"]);
});

Deno.test("brokenLinks() names a link to a missing file and one to a missing heading", async () => {
  const text =
    "[ok](#a) [gone](docs/nowhere.md) [bad](#b) [web](https://example.com/x.md)\n\n# A\n";
  assert.deepEqual(await brokenLinks("README.md", text, readDocument), [
    "README.md: (docs/nowhere.md): no file docs/nowhere.md",
    "README.md: (#b): README.md has no heading #b",
  ]);
});

Deno.test("every relative link in the README, BENCHMARKS.md and docs/ reaches an existing file and heading", async () => {
  const problems: string[] = [];
  for (const file of await documents()) {
    problems.push(...await brokenLinks(file, await readDocument(file), readDocument));
  }
  assert.deepEqual(problems, []);
});

Deno.test("every lib/, tests/, bench/, docs/ or .ci/ path the documents name in backticks exists", async () => {
  const missing: string[] = [];
  for (const file of await documents()) {
    for (const path of codePaths(await readDocument(file))) {
      if (!await exists(path)) missing.push(`${file}: ${path}`);
    }
  }
  assert.deepEqual(missing, []);
});

/** The README's "Tasks and permissions" section, and the tasks of `deno.json`. */
async function taskTable(): Promise<{ section: string; tasks: Record<string, string> }> {
  const { tasks } = JSON.parse(await readDocument("deno.json"));
  const readme = await readDocument("README.md");
  const start = readme.indexOf("\n## Tasks and permissions\n");
  assert.notEqual(start, -1, "README.md has no section Tasks and permissions");
  return { section: readme.slice(start + 1).split(/\n## /)[0]!, tasks };
}

Deno.test("the README's task table names every task in deno.json", async () => {
  const { section, tasks } = await taskTable();
  const named = new Set([...section.matchAll(/`(?:deno task )?([\w:+-]+)`/g)].map((m) => m[1]));
  assert.deepEqual(Object.keys(tasks).filter((task) => !named.has(task)), []);
});

Deno.test("each --allow-… flag the README's task table names is one its task grants", async () => {
  const { section, tasks } = await taskTable();
  const wrong: string[] = [];
  for (const row of section.split("\n").filter((line) => line.startsWith("| `deno task "))) {
    const [, names = "", , permissions = ""] = row.split("|");
    const rowTasks = [...names.matchAll(/`(?:deno task )?([\w:+-]+)`/g)].map((m) => m[1]!);
    for (const [flag] of permissions.matchAll(/--allow-[a-z]+(?:=[^\s`]+)?/g)) {
      for (const task of rowTasks) {
        if (!tasks[task]?.split(/\s+/).some((word) => word.startsWith(flag))) {
          wrong.push(`${task}: ${flag}`);
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});
