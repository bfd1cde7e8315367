/**
 * `deno task bench --files`: one file of `--file-mib` random MiB sent over a
 * data channel, CLI → CLI, browser → CLI and browser → browser, through one
 * Switchboard started for the purpose; throughput and the CPU each side
 * used while it ran.
 *
 * @module
 */

import { markdownTable } from "./table.ts";
import { join } from "node:path";
import { chromium, type Page } from "../tests/support/browser_deps.ts";
import { cpuSeconds } from "./proc.ts";
import { startServer, SWITCHBOARD } from "./servers.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./webrtc_browser.ts";
import { LineProcess } from "./webrtc_lines.ts";

/** Which way a file goes. */
export type FileKind = "cli-cli" | "browser-cli" | "browser-browser";

/** Every kind, in running order. */
export const FILE_KINDS: readonly FileKind[] = ["cli-cli", "browser-cli", "browser-browser"];

/** The column heading of each kind. */
export const FILE_KIND_NAMES: Readonly<Record<FileKind, string>> = {
  "cli-cli": "CLI → CLI",
  "browser-cli": "Chromium → CLI",
  "browser-browser": "Chromium → Chromium",
};

/** What one transfer measured. */
export interface FileResult {
  /** Whether the file arrived with its SHA-256 verified. */
  ok: boolean;
  /** MB (10^6 bytes) per second, from the offer to the verified end. */
  mbPerSecond: number;
  /** CPU seconds per second of transfer, sender side (1 = one core). */
  senderCpu: number;
  /** The same, receiver side; for browser → browser, both pages' browser together. */
  receiverCpu: number;
  /** Why it failed. */
  error?: string;
}

const root = new URL("../", import.meta.url).pathname;
const TIMEOUT_MS = 300_000;

function peerArgv(port: number, permissions: string[], extra: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--frozen",
    "--allow-net",
    "--allow-env",
    "--allow-sys=networkInterfaces",
    ...permissions,
    `${root}client.ts`,
    "--webrtc",
    "--url",
    `ws://127.0.0.1:${port}`,
    ...extra,
  ];
}

const ID = /^\*\*\* Your Client ID: (\S+) \*\*\*$/;
const CODE = /^\*\*\* Verification code with /;

async function randomFile(path: string, bytes: number): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  const piece = new Uint8Array(1 << 20);
  for (let i = 0; i < piece.length; i += 65536) {
    crypto.getRandomValues(piece.subarray(i, i + 65536));
  }
  for (let done = 0; done < bytes; done += piece.length) {
    await file.write(piece.subarray(0, Math.min(piece.length, bytes - done)));
  }
  file.close();
}

/** CPU seconds of every process whose command line names `marker` (a browser's profile). */
async function cpuOf(marker: string): Promise<number> {
  const { stdout } = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
  let total = 0;
  for (const pid of new TextDecoder().decode(stdout).split("\n").filter(Boolean)) {
    total += await cpuSeconds(Number(pid)).catch(() => 0);
  }
  return total;
}

/** Runs one transfer of each kind asked for. */
export async function runFileBench(options: {
  fileMib: number;
  kinds: readonly FileKind[];
  logDir: string;
  progress?: (line: string) => void;
}): Promise<Partial<Record<FileKind, FileResult>>> {
  const progress = options.progress ?? (() => {});
  const bytes = options.fileMib * 1024 * 1024;
  const dir = await Deno.makeTempDir({ prefix: "switchboard-bench-files-" });
  const profile = await Deno.makeTempDir({ prefix: "switchboard-bench-files-chromium-" });
  const server = await startServer(SWITCHBOARD, undefined, options.logDir);
  const results: Partial<Record<FileKind, FileResult>> = {};
  const source = join(dir, "source.bin");
  await randomFile(source, bytes);
  const browserNeeded = options.kinds.some((kind) => kind !== "cli-cli");
  const context = browserNeeded
    ? await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
    })
    : undefined;
  try {
    for (const kind of options.kinds) {
      const inbox = await Deno.makeTempDir({ dir, prefix: "inbox-" });
      try {
        results[kind] = kind === "cli-cli"
          ? await cliToCli(server.port, source, inbox, bytes)
          : kind === "browser-cli"
          ? await browserToCli(server.port, context!, profile, inbox, bytes)
          : await browserToBrowser(server.port, context!, profile, bytes);
      } catch (error) {
        results[kind] = {
          ok: false,
          mbPerSecond: NaN,
          senderCpu: NaN,
          receiverCpu: NaN,
          error: error instanceof Error ? error.message.split("\n")[0] ?? "" : String(error),
        };
      }
      const r = results[kind]!;
      progress(
        `files ${kind}: ${r.ok ? `${r.mbPerSecond.toFixed(1)} MB/s` : `failed: ${r.error}`}`,
      );
    }
  } finally {
    await context?.close().catch(() => {});
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
  return results;
}

async function cliReceiver(port: number, inbox: string): Promise<{ rx: LineProcess; id: string }> {
  const rx = new LineProcess(
    peerArgv(port, [`--allow-read=${inbox}`, `--allow-write=${inbox}`], [
      "--accept",
      "--accept-files",
      "--download-dir",
      inbox,
    ]),
  );
  const id = (await rx.waitFor(ID, { timeoutMs: 20_000, what: "the receiver's id" })).match[1]!;
  return { rx, id };
}

async function cliToCli(
  port: number,
  source: string,
  inbox: string,
  bytes: number,
): Promise<FileResult> {
  const { rx, id } = await cliReceiver(port, inbox);
  await using _rx = rx;
  await using tx = new LineProcess(
    peerArgv(port, [`--allow-read=${source}`], ["--pair", id]),
  );
  await tx.waitFor(CODE, { timeoutMs: 20_000, what: "the sender's channel" });
  await rx.waitFor(CODE, { timeoutMs: 20_000, what: "the receiver's channel" });
  const cpu = [await cpuSeconds(tx.pid), await cpuSeconds(rx.pid)];
  const started = await tx.type(`sendfile ${source}`);
  const done = await rx.waitFor(/^\*\*\* Received .*SHA-256 verified/, {
    timeoutMs: TIMEOUT_MS,
    what: "the file",
    failOn: /failed|cancelled/,
  });
  const seconds = (done.at - started) / 1000;
  return {
    ok: true,
    mbPerSecond: bytes / 1e6 / seconds,
    senderCpu: (await cpuSeconds(tx.pid) - cpu[0]!) / seconds,
    receiverCpu: (await cpuSeconds(rx.pid) - cpu[1]!) / seconds,
  };
}

type Context = Awaited<ReturnType<typeof chromium.launchPersistentContext>>;

/**
 * Makes a file of `bytes` random bytes inside the page and offers it through
 * the file input, as a user choosing it would: handing the bytes over from
 * here (playwright's `setInputFiles`) would take longer than the transfer.
 */
async function offerFromPage(page: Page, bytes: number): Promise<void> {
  await page.evaluate(`(() => {
    const data = new Uint8Array(${bytes});
    for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    const files = new DataTransfer();
    files.items.add(new File([data], "source.bin", { type: "application/octet-stream" }));
    const input = document.getElementById("file-input");
    input.files = files.files;
    input.dispatchEvent(new Event("change"));
  })()`);
}

async function pageId(page: Page): Promise<string> {
  await page.waitForSelector("body[data-state=ready]", { timeout: 20_000 });
  return (await page.textContent("#my-id"))?.trim() ?? "";
}

async function browserToCli(
  port: number,
  context: Context,
  profile: string,
  inbox: string,
  bytes: number,
): Promise<FileResult> {
  const { rx, id } = await cliReceiver(port, inbox);
  await using _rx = rx;
  const page = await context.newPage();
  try {
    await page.goto(`http://127.0.0.1:${port}/?peer=${id}`);
    await page.waitForSelector("body[data-state=open]", { timeout: 20_000 });
    await rx.waitFor(CODE, { timeoutMs: 20_000, what: "the receiver's channel" });
    const cpu = [await cpuOf(profile), await cpuSeconds(rx.pid)];
    const started = performance.now();
    await offerFromPage(page, bytes);
    const done = await rx.waitFor(/^\*\*\* Received .*SHA-256 verified/, {
      timeoutMs: TIMEOUT_MS,
      what: "the file",
      failOn: /failed|cancelled/,
    });
    const seconds = (done.at - started) / 1000;
    return {
      ok: true,
      mbPerSecond: bytes / 1e6 / seconds,
      senderCpu: (await cpuOf(profile) - cpu[0]!) / seconds,
      receiverCpu: (await cpuSeconds(rx.pid) - cpu[1]!) / seconds,
    };
  } finally {
    await page.close().catch(() => {});
  }
}

async function browserToBrowser(
  port: number,
  context: Context,
  profile: string,
  bytes: number,
): Promise<FileResult> {
  const a = await context.newPage();
  const b = await context.newPage();
  try {
    await a.goto(`http://127.0.0.1:${port}/`);
    const idA = await pageId(a);
    await b.goto(`http://127.0.0.1:${port}/?peer=${idA}`);
    await a.click("#requests button:text('Accept')", { timeout: 20_000 });
    await a.waitForSelector("body[data-state=open]", { timeout: 20_000 });
    await b.waitForSelector("body[data-state=open]", { timeout: 20_000 });
    const cpu = await cpuOf(profile);
    const started = performance.now();
    await offerFromPage(a, bytes);
    await b.click(`#transfers li[data-state="offered"] button:text('Accept')`, { timeout: 20_000 });
    await b.waitForSelector(`#transfers li[data-state="done"]`, { timeout: TIMEOUT_MS });
    const seconds = (performance.now() - started) / 1000;

    const both = (await cpuOf(profile) - cpu) / seconds;
    return { ok: true, mbPerSecond: bytes / 1e6 / seconds, senderCpu: both, receiverCpu: both };
  } finally {
    await a.close().catch(() => {});
    await b.close().catch(() => {});
  }
}

/**
 * The file table in Markdown, one column per kind that ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderFileTable } from "./files.ts";
 * const table = renderFileTable({
 *   "cli-cli": { ok: true, mbPerSecond: 8, senderCpu: 0.9, receiverCpu: 0.7 },
 * });
 * assert.match(table, /\| throughput \(MB\/s\)\s+\| 8\.0\s+\|/);
 * ```
 */
export function renderFileTable(results: Partial<Record<FileKind, FileResult>>): string {
  const kinds = FILE_KINDS.filter((kind) => results[kind] !== undefined);
  const rows = kinds.map((kind) => results[kind]!);
  const num = (x: number, digits: number): string => Number.isNaN(x) ? "–" : x.toFixed(digits);
  const lines = [
    ["figure", ...kinds.map((kind) => FILE_KIND_NAMES[kind])],
    ["verified", ...rows.map((r) => r.ok ? "yes" : `no: ${r.error}`)],
    ["throughput (MB/s)", ...rows.map((r) => num(r.mbPerSecond, 1))],
    ["sender CPU (cores)", ...rows.map((r) => num(r.senderCpu, 2))],
    ["receiver CPU (cores)", ...rows.map((r) => num(r.receiverCpu, 2))],
  ];
  return markdownTable(lines);
}

/**
 * The target: CLI → CLI at least half of Chromium → Chromium, in one run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileTargetLine } from "./files.ts";
 * const ok = { ok: true, senderCpu: 1, receiverCpu: 1 };
 * assert.equal(
 *   fileTargetLine({ "cli-cli": { ...ok, mbPerSecond: 6 }, "browser-browser": { ...ok, mbPerSecond: 10 } }),
 *   "target CLI → CLI ≥ half of Chromium → Chromium: 6.0 of 10.0 MB/s (60 %), met",
 * );
 * ```
 */
export function fileTargetLine(results: Partial<Record<FileKind, FileResult>>): string {
  const cli = results["cli-cli"];
  const browsers = results["browser-browser"];
  if (!cli?.ok || !browsers?.ok) {
    return "target CLI → CLI ≥ half of Chromium → Chromium: not measured";
  }
  const share = cli.mbPerSecond / browsers.mbPerSecond;
  return `target CLI → CLI ≥ half of Chromium → Chromium: ${cli.mbPerSecond.toFixed(1)} of ${
    browsers.mbPerSecond.toFixed(1)
  } MB/s (${Math.round(share * 100)} %), ${share >= 0.5 ? "met" : "NOT met"}`;
}
