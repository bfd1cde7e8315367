/**
 * `deno task bench --files --file-kinds cli-cli-resume`: one file CLI → CLI
 * cut half way (the receiver killed with SIGKILL, started again in the same
 * folder, paired again, the file offered again), against the same file
 * uncut in the same run: the time from the first `sendfile` to the verified
 * end, and the bytes sent in all.
 *
 * @module
 */

import { join } from "node:path";
import { cliReceiver, peerArgv, randomFile } from "./files.ts";
import { startServer, SWITCHBOARD } from "./servers.ts";
import { markdownTable } from "./table.ts";
import { LineProcess } from "./webrtc_lines.ts";

/** What the cut-and-resumed run and its uncut reference measured. */
export interface ResumeMeasure {
  /** From the first `sendfile` to the receiver's verified end, restart and pairing included. */
  seconds: number;
  /** Bytes that crossed: what the receiver held at the cut plus what the sender sent after it. */
  sentBytes: number;
  /** What the receiver held when it was killed. */
  heldAtCut: number;
}

const CODE = /^\*\*\* Verification code with /;
const RECEIVED = /^\*\*\* Received .*SHA-256 verified/;
const FAILED = /failed|cancelled/;
const SENT_AFTER = /^\*\*\* Sent .*: ([\d.]+) (B|kB|MB|GB) sent, /;
const START_MS = 20_000;

/**
 * Bytes from a size as the peers print it (`41.9 MB`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printedBytes } from "./files_resume.ts";
 * assert.equal(printedBytes("41.9", "MB"), 41_900_000);
 * assert.equal(printedBytes("512", "B"), 512);
 * ```
 */
export function printedBytes(value: string, unit: string): number {
  const scale = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[unit] ?? NaN;
  return Math.round(Number(value) * scale);
}

/**
 * Sends `source` (of `bytes`) CLI → CLI into `inbox`; with `cut`, kills the
 * receiver once half the file is in its `.part`, starts another in the same
 * folder, pairs with it and offers the file again.
 */
export async function resumedTransfer(
  port: number,
  source: string,
  bytes: number,
  inbox: string,
  cut: boolean,
  timeoutMs: number,
): Promise<ResumeMeasure> {
  const first = await cliReceiver(port, inbox);
  let rx: LineProcess = first.rx;
  await using tx = new LineProcess(
    peerArgv(port, [`--allow-read=${source}`], ["--pair", first.id]),
  );
  try {
    await tx.waitFor(CODE, { timeoutMs: START_MS, what: "the sender's channel" });
    await rx.waitFor(CODE, { timeoutMs: START_MS, what: "the receiver's channel" });
    const started = await tx.type(`sendfile ${source}`);
    if (!cut) {
      const done = await rx.waitFor(RECEIVED, { timeoutMs, what: "the file", failOn: FAILED });
      return { seconds: (done.at - started) / 1000, sentBytes: bytes, heldAtCut: 0 };
    }
    const part = join(inbox, `${source.split("/").at(-1)}.part`);
    const deadline = Date.now() + timeoutMs;
    let held = 0;
    while (held < bytes / 2) {
      if (Date.now() > deadline) throw new Error("the file never reached half way");
      await new Promise((resolve) => setTimeout(resolve, 20));
      held = (await Deno.stat(part).catch(() => undefined))?.size ?? 0;
    }
    await rx[Symbol.asyncDispose]();
    const heldAtCut = (await Deno.stat(part)).size;
    const second = await cliReceiver(port, inbox);
    rx = second.rx;
    await tx.type(`pair ${second.id}`);
    await tx.waitFor(CODE, { timeoutMs: START_MS, what: "the sender's second channel" });
    await rx.waitFor(CODE, { timeoutMs: START_MS, what: "the new receiver's channel" });
    await tx.type(`sendfile ${source}`);
    const done = await rx.waitFor(RECEIVED, { timeoutMs, what: "the file", failOn: FAILED });
    const sent = await tx.waitFor(SENT_AFTER, { timeoutMs: START_MS, what: "the sender's end" });
    return {
      seconds: (done.at - started) / 1000,
      sentBytes: heldAtCut + printedBytes(sent.match[1]!, sent.match[2]!),
      heldAtCut,
    };
  } finally {
    await rx[Symbol.asyncDispose]();
  }
}

/**
 * The resume table in Markdown: the cut run against the uncut one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderResumeTable } from "./files_resume.ts";
 * const table = renderResumeTable(256 << 20, { seconds: 20, sentBytes: 256 << 20, heldAtCut: 0 }, {
 *   seconds: 26,
 *   sentBytes: 270_000_000,
 *   heldAtCut: 134_000_000,
 * });
 * assert.match(table, /\| × the uncut time\s+\| 1\.00\s+\| 1\.30\s+\|/);
 * assert.match(table, /\| × the file's size\s+\| 1\.00\s+\| 1\.01\s+\|/);
 * ```
 */
export function renderResumeTable(
  bytes: number,
  uncut: ResumeMeasure | Error,
  resumed: ResumeMeasure | Error,
): string {
  const cell = (m: ResumeMeasure | Error, f: (m: ResumeMeasure) => string) =>
    m instanceof Error ? `failed: ${m.message.split("\n")[0]}` : f(m);
  const reference = uncut instanceof Error ? NaN : uncut.seconds;
  const both = [uncut, resumed];
  return markdownTable([
    ["figure", "uncut, CLI → CLI", "cut at 50 %, receiver restarted, resumed"],
    ["time (s)", ...both.map((m) => cell(m, (r) => r.seconds.toFixed(1)))],
    ["× the uncut time", ...both.map((m) => cell(m, (r) => (r.seconds / reference).toFixed(2)))],
    ["held at the cut (MB)", ...both.map((m) => cell(m, (r) => (r.heldAtCut / 1e6).toFixed(1)))],
    ["sent in all (MB)", ...both.map((m) => cell(m, (r) => (r.sentBytes / 1e6).toFixed(1)))],
    ["× the file's size", ...both.map((m) => cell(m, (r) => (r.sentBytes / bytes).toFixed(2)))],
  ]);
}

/**
 * Runs the uncut transfer, then the cut one, of one file of `mib` MiB on a
 * Switchboard of its own, and gives the table.
 */
export async function runResumeBench(options: {
  mib: number;
  logDir: string;
  timeoutMs: number;
  progress?: (line: string) => void;
}): Promise<string> {
  const bytes = options.mib * 1024 * 1024;
  const dir = await Deno.makeTempDir({ prefix: "switchboard-bench-resume-" });
  const server = await startServer(SWITCHBOARD, undefined, options.logDir);
  try {
    const source = join(dir, "source.bin");
    await randomFile(source, bytes);
    const measure = async (cut: boolean) => {
      const inbox = await Deno.makeTempDir({ dir, prefix: "inbox-" });
      try {
        const m = await resumedTransfer(server.port, source, bytes, inbox, cut, options.timeoutMs);
        options.progress?.(`files resume ${cut ? "cut" : "uncut"}: ${m.seconds.toFixed(1)} s`);
        return m;
      } catch (error) {
        options.progress?.(`files resume ${cut ? "cut" : "uncut"}: failed: ${error}`);
        return error instanceof Error ? error : new Error(String(error));
      }
    };
    const uncut = await measure(false);
    const resumed = await measure(true);
    return renderResumeTable(bytes, uncut, resumed);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
