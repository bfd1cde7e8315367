/**
 * The shell commands of the README and the guides in `docs/`, for tests that
 * run them as written: a section's `sh` blocks, split into commands, and
 * the few mechanical changes that let a command written for the checkout
 * run from another folder on a free port.
 *
 * @module
 */

import { Child, ROOT, within } from "./helpers.ts";

/**
 * The commands in the `sh` blocks of the section whose heading is `heading`
 * in `file` (the README, or a guide in `docs/`), up to the next heading:
 * continuation lines joined, comments and blank lines dropped.
 *
 * @param heading The section's heading, without its `#`s.
 * @param file The Markdown file, relative to the checkout.
 */
export async function readmeCommands(heading: string, file = "README.md"): Promise<string[]> {
  const text = await Deno.readTextFile(`${ROOT}${file}`);
  const start = text.split("\n").findIndex((line) => line.replace(/^#+ /, "") === heading);
  if (start === -1) throw new Error(`${file} has no section "${heading}"`);
  const lines = text.split("\n").slice(start + 1);
  const end = lines.findIndex((line) => /^#{1,6} /.test(line));
  const section = (end === -1 ? lines : lines.slice(0, end)).join("\n");
  const commands: string[] = [];
  for (const [, block] of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const command of block!.replace(/\\\n\s*/g, "").split("\n")) {
      const bare = command.replace(/(^|\s+)#.*$/, "").trim();
      if (bare !== "") commands.push(bare);
    }
  }
  return commands;
}

/**
 * `command` as it runs from another folder than the checkout: `deno task`
 * finds the checkout's `deno.json`, `server.ts` and `client.ts` are the
 * checkout's, and port 8765 is `port`. Nothing else changes: not a file
 * name, not a permission.
 */
export function fromElsewhere(command: string, port: number): string {
  return command
    .replace(/\bdeno task\b/g, `deno task --config ${ROOT}deno.json`)
    .replace(/(^|\s)((?:server|client)\.ts)\b/g, `$1${ROOT}$2`)
    .replace(/:8765\b/g, `:${port}`);
}

/** The environment in which `deno` is this test's Deno, for `sh -c`. */
export function shellEnv(extra: Record<string, string> = {}): Record<string, string> {
  const bin = Deno.execPath().replace(/\/[^/]+$/, "");
  return { PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`, ...extra };
}

/**
 * `sh -c command` in `cwd`, with this test's Deno first on the `PATH`.
 * Disposing of it sends SIGTERM before SIGKILL, so that `deno task` (run
 * with `exec`, in place of the shell) passes the signal on to the server
 * it started instead of leaving it running.
 */
export class ShellCommand extends Child {
  constructor(command: string, cwd: string, env: Record<string, string> = {}) {
    super(["-c", command], cwd, false, "sh", shellEnv(env));
  }

  /** SIGTERM, up to 10 s for a graceful exit, then what {@linkcode Child} does. */
  override async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await within(this.process.status, 10_000, "the command to exit on SIGTERM").catch(() => {});
    await super[Symbol.asyncDispose]();
  }
}
