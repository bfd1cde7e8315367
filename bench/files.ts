/**
 * `deno task bench --files`: files over a data channel, every way they go,
 * side by side in one run with the references they are judged by: the raw
 * data channel between two Chromium pages and between two command-line
 * peers, bytes and nothing else. One Switchboard is started for the run.
 * Each figure: MB/s, and the CPU each side used while it ran. Then a set of
 * many small files CLI → CLI, against one file of the same bytes.
 *
 * @module
 */

import { markdownTable } from "./table.ts";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "../tests/support/browser_deps.ts";
import { chromiumCpu, rendererOf, splitChromiumCpu } from "./chromium_cpu.ts";
import { rawChromium, rawCli, type RawMeasure, withTimeout } from "./files_raw.ts";
import { cpuSeconds, loadAverage } from "./proc.ts";
import { startServer, SWITCHBOARD } from "./servers.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./webrtc_browser.ts";
import { LineProcess } from "./webrtc_lines.ts";

/** What runs: the two references, each way a file goes, and a set of small files. */
export type FileKind =
  | "raw-chromium"
  | "raw-cli"
  | "cli-cli"
  | "cli-browser"
  | "browser-cli"
  | "browser-browser"
  | "cli-cli-set"
  | "cli-cli-resume";

/** Every kind, in running order. */
export const FILE_KINDS: readonly FileKind[] = [
  "raw-chromium",
  "raw-cli",
  "cli-cli",
  "cli-browser",
  "browser-cli",
  "browser-browser",
  "cli-cli-set",
  "cli-cli-resume",
];

/** A column of the tables: each kind, and the one file the set is compared with. */
export type FileColumn = Exclude<FileKind, "cli-cli-resume"> | "cli-cli-set-file";

/** The column heading of each column. */
export const FILE_COLUMN_NAMES: Readonly<Record<FileColumn, string>> = {
  "raw-chromium": "raw Chromium",
  "raw-cli": "raw CLI",
  "cli-cli": "CLI → CLI",
  "cli-browser": "CLI → page",
  "browser-cli": "page → CLI",
  "browser-browser": "page → page",
  "cli-cli-set": "set, CLI → CLI",
  "cli-cli-set-file": "one file, same bytes",
};

/** Each small file of the set: 1 KiB. */
export const SET_FILE_BYTES = 1024;

/** What one transfer measured. */
export interface FileResult {
  /** Whether it arrived whole: every SHA-256 verified, or every raw byte counted. */
  ok: boolean;
  /** Bytes sent. */
  bytes: number;
  /** Files sent (0 for the raw channel). */
  files: number;
  /** From the start (typed `sendfile`, the page's file chosen, the raw sender told to go) to the receiver's verified end. */
  seconds: number;
  /** MB (10^6 bytes) per second over `seconds`. */
  mbPerSecond: number;
  /** CPU seconds per second, sender side (1 = one core); for a page, its renderer process. */
  senderCpu: number;
  /** The same, receiver side. */
  receiverCpu: number;
  /** The same for Chromium's other processes (browser, network service, GPU), when a page took part. */
  browserCpu?: number;
  /** The one-minute load average of the machine when it started. */
  load: number;
  /** Why it failed. */
  error?: string;
}

/** A run's results, by column. */
export type FileResults = Partial<Record<FileColumn, FileResult>>;

const root = new URL("../", import.meta.url).pathname;
const TIMEOUT_MS = 300_000;
const START_MS = 20_000;

const ID = /^\*\*\* Your Client ID: (\S+) \*\*\*$/;
const CODE = /^\*\*\* Verification code with /;
// A single file's line ends "SHA-256 verified; saved as …", a set's "every SHA-256 verified; …".
const RECEIVED = /^\*\*\* Received .*SHA-256 verified/;
const FAILED = /failed|cancelled/;

/** The argv of a CLI peer of the run, with its extra permissions and flags. */
export function peerArgv(port: number, permissions: string[], extra: string[]): string[] {
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

/** Writes `bytes` random bytes to a new file at `path`. */
export async function randomFile(path: string, bytes: number): Promise<void> {
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

/** A folder of `count` random files of 1 KiB each. */
async function smallFiles(folder: string, count: number): Promise<void> {
  await Deno.mkdir(folder);
  const width = String(count).length;
  for (let i = 0; i < count; i++) {
    const data = crypto.getRandomValues(new Uint8Array(SET_FILE_BYTES));
    await Deno.writeFile(join(folder, `f${String(i).padStart(width, "0")}.bin`), data);
  }
}

/** A result from a measure: per-second figures from seconds. */
function result(bytes: number, files: number, load: number, measure: RawMeasure): FileResult {
  const perSecond = (cpu: number) => cpu / measure.seconds;
  return {
    ok: true,
    bytes,
    files,
    seconds: measure.seconds,
    mbPerSecond: bytes / 1e6 / measure.seconds,
    senderCpu: perSecond(measure.senderCpu),
    receiverCpu: perSecond(measure.receiverCpu),
    ...(measure.browserCpu === undefined ? {} : { browserCpu: perSecond(measure.browserCpu) }),
    load,
  };
}

function failure(bytes: number, files: number, load: number, error: unknown): FileResult {
  return {
    ok: false,
    bytes,
    files,
    seconds: NaN,
    mbPerSecond: NaN,
    senderCpu: NaN,
    receiverCpu: NaN,
    load,
    error: error instanceof Error ? error.message.split("\n")[0] ?? "" : String(error),
  };
}

/** Runs each kind asked for, once, in the order of {@link FILE_KINDS}. */
export async function runFileBench(options: {
  /** The size of the file, and of the raw runs, in MiB. */
  fileMib: number;
  kinds: readonly FileKind[];
  /** How many 1 KiB files the set holds. */
  setFiles: number;
  logDir: string;
  progress?: (line: string) => void;
}): Promise<FileResults> {
  const progress = options.progress ?? (() => {});
  const bytes = options.fileMib * 1024 * 1024;
  const kinds = FILE_KINDS.filter((kind) => options.kinds.includes(kind));
  const dir = await Deno.makeTempDir({ prefix: "switchboard-bench-files-" });
  const profile = await Deno.makeTempDir({ prefix: "switchboard-bench-files-chromium-" });
  const server = await startServer(SWITCHBOARD, undefined, options.logDir);
  const results: FileResults = {};
  const source = join(dir, "source.bin");
  await randomFile(source, bytes);
  const setFolder = join(dir, "set");
  const setSame = join(dir, "same.bin");
  if (kinds.includes("cli-cli-set")) {
    await smallFiles(setFolder, options.setFiles);
    await randomFile(setSame, options.setFiles * SET_FILE_BYTES);
  }
  const browserNeeded = kinds.some((kind) => !kind.startsWith("cli-cli") && kind !== "raw-cli");
  const context = browserNeeded
    ? await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
    })
    : undefined;
  // The page the browser opens with keeps a renderer busy for its first
  // second, which would blur which renderer runs which page.
  for (const page of context?.pages() ?? []) await page.close();
  const run = async (
    column: FileColumn,
    size: number,
    files: number,
    how: () => Promise<RawMeasure>,
  ) => {
    const load = await loadAverage();
    try {
      results[column] = result(size, files, load, await how());
    } catch (error) {
      results[column] = failure(size, files, load, error);
    }
    const r = results[column]!;
    progress(
      `files ${column}: ${
        r.ok
          ? `${r.mbPerSecond.toFixed(1)} MB/s in ${r.seconds.toFixed(1)} s`
          : `failed: ${r.error}`
      } (load ${load.toFixed(2)})`,
    );
  };
  const inbox = () => Deno.makeTempDir({ dir, prefix: "inbox-" });
  try {
    for (const kind of kinds) {
      switch (kind) {
        case "raw-chromium":
          await run(kind, bytes, 0, () => rawChromium(context!, profile, bytes, TIMEOUT_MS));
          break;
        case "raw-cli":
          await run(kind, bytes, 0, () => rawCli(bytes, TIMEOUT_MS));
          break;
        case "cli-cli":
          await run(kind, bytes, 1, async () => cliToCli(server.port, source, await inbox()));
          break;
        case "cli-browser":
          await run(kind, bytes, 1, () => cliToBrowser(server.port, context!, profile, source));
          break;
        case "browser-cli":
          await run(
            kind,
            bytes,
            1,
            async () => browserToCli(server.port, context!, profile, await inbox(), bytes),
          );
          break;
        case "browser-browser":
          await run(kind, bytes, 1, () => browserToBrowser(server.port, context!, profile, bytes));
          break;
        case "cli-cli-set": {
          const setBytes = options.setFiles * SET_FILE_BYTES;
          await run(
            kind,
            setBytes,
            options.setFiles,
            async () => cliToCli(server.port, setFolder, await inbox()),
          );
          await run(
            "cli-cli-set-file",
            setBytes,
            1,
            async () => cliToCli(server.port, setSame, await inbox()),
          );
          break;
        }
      }
    }
  } finally {
    await context?.close().catch(() => {});
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
  return results;
}

/** A CLI peer that accepts whoever pairs with it, and every file, into `inbox`. */
export async function cliReceiver(
  port: number,
  inbox: string,
): Promise<{ rx: LineProcess; id: string }> {
  const rx = new LineProcess(
    peerArgv(port, [`--allow-read=${inbox}`, `--allow-write=${inbox}`], [
      "--accept",
      "--accept-files",
      "--download-dir",
      inbox,
    ]),
  );
  const id = (await rx.waitFor(ID, { timeoutMs: START_MS, what: "the receiver's id" })).match[1]!;
  return { rx, id };
}

/** `sendfile source` (a file or a folder) from one CLI peer to another. */
async function cliToCli(port: number, source: string, inbox: string): Promise<RawMeasure> {
  const { rx, id } = await cliReceiver(port, inbox);
  await using _rx = rx;
  await using tx = new LineProcess(
    peerArgv(port, [`--allow-read=${source}`], ["--pair", id]),
  );
  await tx.waitFor(CODE, { timeoutMs: START_MS, what: "the sender's channel" });
  await rx.waitFor(CODE, { timeoutMs: START_MS, what: "the receiver's channel" });
  const cpu = [await cpuSeconds(tx.pid), await cpuSeconds(rx.pid)];
  const started = await tx.type(`sendfile ${source}`);
  const done = await rx.waitFor(RECEIVED, {
    timeoutMs: TIMEOUT_MS,
    what: "the file",
    failOn: FAILED,
  });
  return {
    seconds: (done.at - started) / 1000,
    senderCpu: await cpuSeconds(tx.pid) - cpu[0]!,
    receiverCpu: await cpuSeconds(rx.pid) - cpu[1]!,
  };
}

/**
 * Makes a file of `bytes` random bytes inside the page, ready to be chosen:
 * handing the bytes over from here (playwright's `setInputFiles`) would take
 * longer than the transfer, and making them is not part of it.
 */
async function prepareFile(page: Page, bytes: number): Promise<void> {
  await page.evaluate(`(() => {
    const data = new Uint8Array(${bytes});
    for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    const files = new DataTransfer();
    files.items.add(new File([data], "source.bin", { type: "application/octet-stream" }));
    globalThis.benchFiles = files.files;
  })()`);
}

/** Chooses the prepared file in the page's **Send a file** input, as a user would. */
async function offerPrepared(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const input = document.getElementById("file-input");
    input.files = globalThis.benchFiles;
    input.dispatchEvent(new Event("change"));
  })()`);
}

async function pageId(page: Page): Promise<string> {
  await page.waitForSelector("body[data-state=ready]", { timeout: START_MS });
  return (await page.textContent("#my-id"))?.trim() ?? "";
}

const RECEIVED_ROW = `#transfers li[data-direction="receive"]`;
const ENDED_ROW =
  `${RECEIVED_ROW}:is([data-state="done"], [data-state="rejected"], [data-state="stopped"])`;

/** Clicks Accept on the page's offer, as a user would, and waits for the end. */
async function acceptInPage(page: Page): Promise<void> {
  await page.click(`${RECEIVED_ROW}[data-state="offered"] button:text('Accept')`, {
    timeout: START_MS,
  });
  const row = await page.waitForSelector(ENDED_ROW, { timeout: TIMEOUT_MS });
  if (await row.getAttribute("data-state") !== "done") {
    throw new Error(`the page: ${(await row.textContent())?.trim().replace(/\s+/g, " ")}`);
  }
}

/** CPU over a timed stretch, for kinds with pages in the browser. */
async function browserCpuSince(
  profile: string,
  before: Map<number, number>,
  renderers: (number | undefined)[],
): Promise<{ pages: number[]; rest: number }> {
  return splitChromiumCpu(before, await chromiumCpu(profile), renderers);
}

async function cliToBrowser(
  port: number,
  context: BrowserContext,
  profile: string,
  source: string,
): Promise<RawMeasure> {
  await using tx = new LineProcess(peerArgv(port, [`--allow-read=${source}`], ["--accept"]));
  const id = (await tx.waitFor(ID, { timeoutMs: START_MS, what: "the sender's id" })).match[1]!;
  const page = await context.newPage();
  try {
    await page.goto(`http://127.0.0.1:${port}/?peer=${id}`);
    await page.waitForSelector("body[data-state=open]", { timeout: START_MS });
    await tx.waitFor(CODE, { timeoutMs: START_MS, what: "the sender's channel" });
    const renderer = await rendererOf(page, profile);
    const cpu = [await cpuSeconds(tx.pid), await chromiumCpu(profile)] as const;
    const started = await tx.type(`sendfile ${source}`);
    await acceptInPage(page);
    const seconds = (performance.now() - started) / 1000;
    const split = await browserCpuSince(profile, cpu[1], [renderer]);
    return {
      seconds,
      senderCpu: await cpuSeconds(tx.pid) - cpu[0],
      receiverCpu: split.pages[0]!,
      browserCpu: split.rest,
    };
  } finally {
    await page.close().catch(() => {});
  }
}

async function browserToCli(
  port: number,
  context: BrowserContext,
  profile: string,
  inbox: string,
  bytes: number,
): Promise<RawMeasure> {
  const { rx, id } = await cliReceiver(port, inbox);
  await using _rx = rx;
  const page = await context.newPage();
  try {
    await page.goto(`http://127.0.0.1:${port}/?peer=${id}`);
    await page.waitForSelector("body[data-state=open]", { timeout: START_MS });
    await rx.waitFor(CODE, { timeoutMs: START_MS, what: "the receiver's channel" });
    await prepareFile(page, bytes);
    const renderer = await rendererOf(page, profile);
    const cpu = [await chromiumCpu(profile), await cpuSeconds(rx.pid)] as const;
    const started = performance.now();
    await offerPrepared(page);
    const done = await rx.waitFor(RECEIVED, {
      timeoutMs: TIMEOUT_MS,
      what: "the file",
      failOn: FAILED,
    });
    const split = await browserCpuSince(profile, cpu[0], [renderer]);
    return {
      seconds: (done.at - started) / 1000,
      senderCpu: split.pages[0]!,
      receiverCpu: await cpuSeconds(rx.pid) - cpu[1],
      browserCpu: split.rest,
    };
  } finally {
    await page.close().catch(() => {});
  }
}

async function browserToBrowser(
  port: number,
  context: BrowserContext,
  profile: string,
  bytes: number,
): Promise<RawMeasure> {
  const a = await context.newPage();
  const b = await context.newPage();
  try {
    await a.goto(`http://127.0.0.1:${port}/`);
    const idA = await pageId(a);
    await b.goto(`http://127.0.0.1:${port}/?peer=${idA}`);
    await a.click("#requests button:text('Accept')", { timeout: START_MS });
    await a.waitForSelector("body[data-state=open]", { timeout: START_MS });
    await b.waitForSelector("body[data-state=open]", { timeout: START_MS });
    await prepareFile(a, bytes);
    const renderers = [await rendererOf(a, profile), await rendererOf(b, profile)];
    const before = await chromiumCpu(profile);
    const started = performance.now();
    await offerPrepared(a);
    await withTimeout(acceptInPage(b), TIMEOUT_MS, "the file");
    const seconds = (performance.now() - started) / 1000;
    const split = await browserCpuSince(profile, before, renderers);
    return {
      seconds,
      senderCpu: split.pages[0]!,
      receiverCpu: split.pages[1]!,
      browserCpu: split.rest,
    };
  } finally {
    await a.close().catch(() => {});
    await b.close().catch(() => {});
  }
}

const num = (x: number | undefined, digits: number): string =>
  x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits);

/** The main columns, in order. */
const MAIN_COLUMNS: readonly FileColumn[] = [
  "raw-chromium",
  "raw-cli",
  "cli-cli",
  "cli-browser",
  "browser-cli",
  "browser-browser",
];

/**
 * The file table in Markdown, one column per kind that ran (the set has its
 * own table): throughput, its ratio to the raw Chromium channel of the same
 * run, and each side's CPU.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderFileTable } from "./files.ts";
 * const run = { ok: true, bytes: 32 << 20, files: 1, seconds: 4, load: 1.5 };
 * const table = renderFileTable({
 *   "raw-chromium": { ...run, files: 0, mbPerSecond: 10, senderCpu: 0.5, receiverCpu: 0.4, browserCpu: 0.3 },
 *   "cli-cli": { ...run, mbPerSecond: 8, senderCpu: 0.9, receiverCpu: 0.7 },
 * });
 * assert.match(table, /\| throughput \(MB\/s\)\s+\| 10\.0\s+\| 8\.0\s+\|/);
 * assert.match(table, /\| × raw Chromium\s+\| 1\.00\s+\| 0\.80\s+\|/);
 * assert.match(table, /\| Chromium's other processes \(cores\)\s+\| 0\.30\s+\| –\s+\|/);
 * ```
 */
export function renderFileTable(results: FileResults): string {
  const columns = MAIN_COLUMNS.filter((column) => results[column] !== undefined);
  const rows = columns.map((column) => results[column]!);
  const raw = results["raw-chromium"];
  const reference = raw?.ok ? raw.mbPerSecond : NaN;
  const lines = [
    ["figure", ...columns.map((column) => FILE_COLUMN_NAMES[column])],
    ["arrived whole", ...rows.map((r) => r.ok ? "yes" : `no: ${r.error}`)],
    ["throughput (MB/s)", ...rows.map((r) => num(r.mbPerSecond, 1))],
    ["× raw Chromium", ...rows.map((r) => num(r.mbPerSecond / reference, 2))],
    ["sender CPU (cores)", ...rows.map((r) => num(r.senderCpu, 2))],
    ["receiver CPU (cores)", ...rows.map((r) => num(r.receiverCpu, 2))],
    ["Chromium's other processes (cores)", ...rows.map((r) => num(r.browserCpu, 2))],
    ["load average at start", ...rows.map((r) => num(r.load, 2))],
  ];
  return markdownTable(lines);
}

/**
 * The set's table in Markdown: the set of small files CLI → CLI against one
 * file of the same bytes, or `""` when no set ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderFileSetTable } from "./files.ts";
 * const run = { ok: true, bytes: 10_240_000, senderCpu: 0.5, receiverCpu: 0.5, load: 1 };
 * const table = renderFileSetTable({
 *   "cli-cli-set": { ...run, files: 10_000, seconds: 8, mbPerSecond: 1.28 },
 *   "cli-cli-set-file": { ...run, files: 1, seconds: 2, mbPerSecond: 5.12 },
 * });
 * assert.match(table, /\| files per second\s+\| 1250\s+\| 0\.5\s+\|/);
 * assert.match(table, /\| × one file's MB\/s\s+\| 0\.25\s+\| 1\.00\s+\|/);
 * ```
 */
export function renderFileSetTable(results: FileResults): string {
  const columns = (["cli-cli-set", "cli-cli-set-file"] as const).filter((column) =>
    results[column] !== undefined
  );
  if (columns.length === 0) return "";
  const rows = columns.map((column) => results[column]!);
  const one = results["cli-cli-set-file"];
  const reference = one?.ok ? one.mbPerSecond : NaN;
  const lines = [
    ["figure", ...columns.map((column) => FILE_COLUMN_NAMES[column])],
    ["files × size", ...rows.map((r) => r.files === 1 ? `1 × ${r.bytes} B` : `${r.files} × 1 KiB`)],
    ["every SHA-256 verified", ...rows.map((r) => r.ok ? "yes" : `no: ${r.error}`)],
    ["time (s)", ...rows.map((r) => num(r.seconds, 1))],
    ["files per second", ...rows.map((r) => num(r.files / r.seconds, r.files === 1 ? 1 : 0))],
    ["throughput (MB/s)", ...rows.map((r) => num(r.mbPerSecond, 2))],
    ["× one file's MB/s", ...rows.map((r) => num(r.mbPerSecond / reference, 2))],
    ["sender CPU (cores)", ...rows.map((r) => num(r.senderCpu, 2))],
    ["receiver CPU (cores)", ...rows.map((r) => num(r.receiverCpu, 2))],
    ["load average at start", ...rows.map((r) => num(r.load, 2))],
  ];
  return markdownTable(lines);
}

/** Each target: which column, and the least share of the raw Chromium channel it must reach. */
export const FILE_TARGETS: readonly { column: FileColumn; share: number }[] = [
  { column: "cli-cli", share: 1.5 },
  { column: "browser-browser", share: 0.9 },
  { column: "cli-browser", share: 0.8 },
  { column: "browser-cli", share: 0.8 },
];

/**
 * The targets, one line each: every way a file goes against the raw
 * Chromium data channel measured in the same run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileTargetLines } from "./files.ts";
 * const run = { ok: true, bytes: 1, files: 1, seconds: 1, senderCpu: 1, receiverCpu: 1, load: 1 };
 * assert.deepEqual(
 *   fileTargetLines({
 *     "raw-chromium": { ...run, mbPerSecond: 10 },
 *     "cli-cli": { ...run, mbPerSecond: 12 },
 *     "browser-browser": { ...run, mbPerSecond: 9.5 },
 *   }),
 *   [
 *     "target CLI → CLI ≥ 1.5× raw Chromium: 12.0 of 10.0 MB/s (1.20×), NOT met",
 *     "target page → page ≥ 0.9× raw Chromium: 9.5 of 10.0 MB/s (0.95×), met",
 *     "target CLI → page ≥ 0.8× raw Chromium: not measured",
 *     "target page → CLI ≥ 0.8× raw Chromium: not measured",
 *   ],
 * );
 * ```
 */
export function fileTargetLines(results: FileResults): string[] {
  const raw = results["raw-chromium"];
  return FILE_TARGETS.map(({ column, share }) => {
    const head = `target ${FILE_COLUMN_NAMES[column]} ≥ ${share}× raw Chromium`;
    const measured = results[column];
    if (!raw?.ok || !measured?.ok) return `${head}: not measured`;
    const ratio = measured.mbPerSecond / raw.mbPerSecond;
    return `${head}: ${measured.mbPerSecond.toFixed(1)} of ${raw.mbPerSecond.toFixed(1)} MB/s (${
      ratio.toFixed(2)
    }×), ${ratio >= share ? "met" : "NOT met"}`;
  });
}
