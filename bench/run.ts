/**
 * `deno task bench`: Switchboard against the baseline server, in one table.
 *
 * ```sh
 * deno task bench                       # the quick default, about two minutes
 * deno task bench --rounds 7 --churn-n 50000 --modes churn
 * deno task bench --webrtc              # WebRTC pairings instead, about a minute
 * deno task bench --relay               # relay in memory, with Redis, across two instances
 * deno task bench --cluster             # keyed churn, resume and relay: cluster vs one instance
 * deno task bench --files --file-mib 64 # files, every way, against the raw data channel
 * deno task bench --files --file-kinds cli-cli-set --file-set 10000
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type BenchOptions, keyLines, type Mode, MODES, notes, rows, runBench } from "./bench.ts";
import { firstVerificationLines } from "./tokens.ts";
import { relayTargetLines, renderRelayTable, runRelayBench } from "./relay.ts";
import {
  clusterTargetLines,
  renderChurnTable,
  renderResumeTable,
  runClusterBench,
} from "./cluster.ts";
import { renderTable } from "./table.ts";
import {
  PEER_KINDS,
  type PeerKind,
  renderWebrtcTable,
  runWebrtcBench,
  targetLines,
  type WebrtcOptions,
} from "./webrtc.ts";
import {
  FILE_KINDS,
  type FileKind,
  fileTargetLines,
  renderFileSetTable,
  renderFileTable,
  runFileBench,
} from "./files.ts";
import { runResumeBench } from "./files_resume.ts";
import { loadAverage } from "./proc.ts";

/** `bench/run.ts --help`. */
export const BENCH_USAGE = `Usage: deno task bench [options]

  --modes LIST          comma-separated: churn,hold,abrupt (default all)
  --rounds N            rounds per mode per server, alternating (default 5)
  --warmup N            connections per server before measuring (default 10000)
  --churn-n N           connections per churn round (default 20000)
  -c, --concurrency N   connections in flight (default 100)
  --hold-n N            idle clients per hold round (default 5000)
  --hold-seconds S      how long each hold lasts (default 3)
  --abrupt-n N          clients held by the killed process (default 10000)
  --log-dir DIR         where server logs go (default /tmp)
  --no-keys             skip the churn run against Switchboard with API keys
  --webrtc              run WebRTC pairings instead of the modes above
  --pairings N          consecutive pairings per kind (default 20)
  --echoes N            data-channel round trips timed per pairing (default 5)
  --kinds LIST          comma-separated: cli,cli-code,chromium,chromium-cold (default all)
  --relay               relay between pairs instead: in memory, with --redis on one
                        instance, and across two instances sharing one Redis, without
                        and with API keys
  --pairs N             pairs exchanging messages at once (default 100)
  --relay-messages N    messages each client sends per round (default 200)
  --files               files over a data channel instead, side by side with the raw
                        channel they are judged by, each with MB/s and both sides' CPU;
                        the kinds, in running order:
                          raw-chromium     two Chromium pages, 64 KiB messages, bytes only
                          raw-cli          two werift peers (CLI permissions), the same
                          cli-cli          sendfile, CLI → CLI
                          cli-browser      sendfile, CLI → page (Accept clicked)
                          browser-cli      page → CLI
                          browser-browser  page → page, two pages of one Chromium
                          cli-cli-set      --file-set files of 1 KiB in one folder as one
                                           set (sendfile DIR), CLI → CLI, then one file of
                                           the same bytes
                          cli-cli-resume   --resume-mib MiB CLI → CLI uncut, then cut at
                                           50 % (receiver killed and started again) and
                                           resumed: time and bytes sent in all
                        then the target lines against raw-chromium; about 3 minutes
  --file-mib N          the file's size, and the raw runs', in MiB (default 32)
  --file-kinds LIST     comma-separated kinds from the list above (default all)
  --file-set N          files in the cli-cli-set kind (default 10000)
  --resume-mib N        the file's size in the cli-cli-resume kind, in MiB (default 256)
  --cluster             with API keys, two instances sharing one Redis against one
                        instance: keyed churn, resume after a SIGKILL, relay. Its own
                        defaults: --rounds 3 --warmup 2000 --churn-n 10000 --pairs 5
                        --relay-messages 1000; about 2 minutes
  --resume-runs N       instance kills timed in --cluster (default 20)
  -h, --help            show this help
`;

/**
 * Parses the benchmark's flags.
 *
 * @throws {TypeError} On an unknown flag or a bad value.
 */
export function parseBenchFlags(
  args: readonly string[],
):
  & BenchOptions
  & Omit<WebrtcOptions, "logDir">
  & {
    webrtc: boolean;
    relay: boolean;
    cluster: boolean;
    resumeRuns: number;
    pairs: number;
    relayMessages: number;
    files: boolean;
    fileMib: number;
    fileKinds: FileKind[];
    fileSet: number;
    resumeMib: number;
    help: boolean;
  } {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      modes: { type: "string", default: MODES.join(",") },
      // Defaults below: --cluster has its own.
      rounds: { type: "string" },
      warmup: { type: "string" },
      "churn-n": { type: "string" },
      concurrency: { type: "string", short: "c", default: "100" },
      "hold-n": { type: "string", default: "5000" },
      "hold-seconds": { type: "string", default: "3" },
      "abrupt-n": { type: "string", default: "10000" },
      "log-dir": { type: "string", default: "/tmp" },
      "no-keys": { type: "boolean", default: false },
      webrtc: { type: "boolean", default: false },
      pairings: { type: "string", default: "20" },
      echoes: { type: "string", default: "5" },
      kinds: { type: "string", default: PEER_KINDS.join(",") },
      relay: { type: "boolean", default: false },
      cluster: { type: "boolean", default: false },
      "resume-runs": { type: "string", default: "20" },
      pairs: { type: "string" },
      "relay-messages": { type: "string" },
      files: { type: "boolean", default: false },
      "file-mib": { type: "string", default: "32" },
      "file-kinds": { type: "string", default: FILE_KINDS.join(",") },
      "file-set": { type: "string", default: "10000" },
      "resume-mib": { type: "string", default: "256" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const modes = values.modes.split(",").map((m) => m.trim());
  const unknown = modes.filter((m) => !MODES.includes(m as Mode));
  if (unknown.length) throw new TypeError(`--modes: unknown mode(s) ${unknown.join(", ")}`);
  const kinds = values.kinds.split(",").map((k) => k.trim());
  const unknownKinds = kinds.filter((k) => !PEER_KINDS.includes(k as PeerKind));
  if (unknownKinds.length) {
    throw new TypeError(`--kinds: unknown kind(s) ${unknownKinds.join(", ")}`);
  }
  const fileKinds = values["file-kinds"].split(",").map((k) => k.trim());
  const unknownFileKinds = fileKinds.filter((k) => !FILE_KINDS.includes(k as FileKind));
  if (unknownFileKinds.length) {
    throw new TypeError(`--file-kinds: unknown kind(s) ${unknownFileKinds.join(", ")}`);
  }
  // --cluster times relay under light load and keeps its churn short, so the
  // whole run (three parts) stays near three minutes.
  const c = values.cluster;
  return {
    files: values.files,
    fileMib: whole("--file-mib", values["file-mib"], 1),
    fileKinds: fileKinds as FileKind[],
    fileSet: whole("--file-set", values["file-set"], 1),
    resumeMib: whole("--resume-mib", values["resume-mib"], 2),
    modes: modes as Mode[],
    rounds: whole("--rounds", values.rounds ?? (c ? "3" : "5"), 1),
    warmup: whole("--warmup", values.warmup ?? (c ? "2000" : "10000"), 0),
    churnN: whole("--churn-n", values["churn-n"] ?? (c ? "10000" : "20000"), 1),
    concurrency: whole("--concurrency", values.concurrency, 1),
    holdN: whole("--hold-n", values["hold-n"], 1),
    holdSeconds: whole("--hold-seconds", values["hold-seconds"], 0),
    abruptN: whole("--abrupt-n", values["abrupt-n"], 1),
    logDir: values["log-dir"],
    keys: !values["no-keys"],
    webrtc: values.webrtc,
    pairings: whole("--pairings", values.pairings, 1),
    echoes: whole("--echoes", values.echoes, 1),
    kinds: kinds as PeerKind[],
    relay: values.relay,
    cluster: c,
    resumeRuns: whole("--resume-runs", values["resume-runs"], 1),
    pairs: whole("--pairs", values.pairs ?? (c ? "5" : "100"), 1),
    relayMessages: whole("--relay-messages", values["relay-messages"] ?? (c ? "1000" : "200"), 1),
    help: values.help,
  };
}

function whole(flag: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min) {
    throw new TypeError(`${flag} takes a whole number of at least ${min}, got "${raw}"`);
  }
  return value;
}

if (import.meta.main) {
  let options;
  try {
    options = parseBenchFlags(Deno.args);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${BENCH_USAGE}`);
    Deno.exit(2);
  }
  if (options.help) {
    console.log(BENCH_USAGE);
    Deno.exit(0);
  }
  const started = performance.now();
  if (options.cluster) {
    const results = await runClusterBench({
      rounds: options.rounds,
      warmup: options.warmup,
      churnN: options.churnN,
      concurrency: options.concurrency,
      resumeRuns: options.resumeRuns,
      pairs: options.pairs,
      relayMessages: options.relayMessages,
      logDir: options.logDir,
      progress: (line) => console.error(line),
    });
    console.log(renderChurnTable(results));
    console.log();
    console.log(renderResumeTable(results.resume));
    console.log();
    console.log(renderRelayTable(results.relay));
    console.log();
    for (const line of clusterTargetLines(results)) console.log(line);
    console.log(
      `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, no CPU pinning, ` +
        `${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    Deno.exit(0);
  }
  if (options.relay) {
    const results = await runRelayBench({
      pairs: options.pairs,
      messages: options.relayMessages,
      rounds: options.rounds,
      logDir: options.logDir,
      progress: (line) => console.error(line),
    });
    console.log(renderRelayTable(results));
    console.log();
    for (const line of relayTargetLines(results)) console.log(line);
    console.log(
      `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, no CPU pinning, ` +
        `${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    Deno.exit(0);
  }
  if (options.files) {
    const loadBefore = await loadAverage();
    const results = await runFileBench({
      fileMib: options.fileMib,
      kinds: options.fileKinds,
      setFiles: options.fileSet,
      logDir: options.logDir,
      progress: (line) => console.error(line),
    });
    console.log(renderFileTable(results));
    console.log();
    for (const line of fileTargetLines(results)) console.log(line);
    const set = renderFileSetTable(results);
    if (set) console.log(`\n${set}`);
    if (options.fileKinds.includes("cli-cli-resume")) {
      const resume = await runResumeBench({
        mib: options.resumeMib,
        logDir: options.logDir,
        timeoutMs: 300_000,
        progress: (line) => console.error(line),
      });
      console.log(`\n${options.resumeMib} MiB, cut and resumed:\n\n${resume}`);
    }
    console.log();
    console.log(
      `${options.fileMib} MiB file, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
        `no CPU pinning, load average ${loadBefore.toFixed(2)} before and ` +
        `${(await loadAverage()).toFixed(2)} after, ${new Date().toISOString().slice(0, 16)}Z, ` +
        `${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    Deno.exit(0);
  }
  if (options.webrtc) {
    const results = await runWebrtcBench({ ...options, progress: (line) => console.error(line) });
    console.log(renderWebrtcTable(results));
    console.log();
    for (const line of targetLines(results)) console.log(line);
    console.log(
      `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, no CPU pinning, ` +
        `${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    Deno.exit(0);
  }
  const results = await runBench({ ...options, progress: (line) => console.error(line) });
  console.log(renderTable(rows(results)));
  console.log();
  for (const line of keyLines(results)) console.log(line);
  if (results.tokens) { for (const line of await firstVerificationLines()) console.log(line); }
  for (const line of await notes(results)) console.log(line);
  console.log(
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
      (results.pinned
        ? "servers pinned to CPU 0, load generator to CPU 1"
        : "no CPU pinning (taskset missing or one CPU)") +
      `, ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}
