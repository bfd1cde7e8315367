import assert from "node:assert/strict";
import {
  type FileResult,
  fileTargetLines,
  renderFileSetTable,
  renderFileTable,
  runFileBench,
} from "../../bench/files.ts";
import { splitChromiumCpu } from "../../bench/chromium_cpu.ts";
import { parseBenchFlags } from "../../bench/run.ts";

function measured(mbPerSecond: number, more: Partial<FileResult> = {}): FileResult {
  return {
    ok: true,
    bytes: 32 << 20,
    files: 1,
    seconds: 4,
    mbPerSecond,
    senderCpu: 0.5,
    receiverCpu: 0.5,
    load: 1,
    ...more,
  };
}

const failed: FileResult = {
  ok: false,
  bytes: 32 << 20,
  files: 1,
  seconds: NaN,
  mbPerSecond: NaN,
  senderCpu: NaN,
  receiverCpu: NaN,
  load: 1,
  error: "timed out",
};

Deno.test("parseBenchFlags() reads the file flags, defaults the set to 10000 files, and rejects an unknown kind", () => {
  const flags = parseBenchFlags([
    "--files",
    "--file-mib",
    "4",
    "--file-kinds",
    "raw-chromium,cli-browser,cli-cli-set",
  ]);
  assert.equal(flags.files, true);
  assert.equal(flags.fileMib, 4);
  assert.deepEqual(flags.fileKinds, ["raw-chromium", "cli-browser", "cli-cli-set"]);
  assert.equal(flags.fileSet, 10_000);
  assert.equal(parseBenchFlags(["--file-set", "500"]).fileSet, 500);
  assert.equal(parseBenchFlags([]).fileKinds.length, 8);
  assert.equal(parseBenchFlags([]).resumeMib, 256);
  assert.equal(parseBenchFlags(["--resume-mib", "64"]).resumeMib, 64);
  assert.throws(() => parseBenchFlags(["--resume-mib", "1"]), /--resume-mib/);
  assert.throws(() => parseBenchFlags(["--file-kinds", "ftp"]), /unknown kind/);
  assert.throws(() => parseBenchFlags(["--file-set", "0"]), /--file-set/);
});

Deno.test("fileTargetLines() judges each way against the raw Chromium channel of the same run, the share itself counting as met", () => {
  const lines = fileTargetLines({
    "raw-chromium": measured(10),
    "cli-cli": measured(15),
    "browser-browser": measured(8.9),
    "cli-browser": measured(8),
    "browser-cli": failed,
  });
  assert.deepEqual(lines, [
    "target CLI → CLI ≥ 1.5× raw Chromium: 15.0 of 10.0 MB/s (1.50×), met",
    "target page → page ≥ 0.9× raw Chromium: 8.9 of 10.0 MB/s (0.89×), NOT met",
    "target CLI → page ≥ 0.8× raw Chromium: 8.0 of 10.0 MB/s (0.80×), met",
    "target page → CLI ≥ 0.8× raw Chromium: not measured",
  ]);
});

Deno.test("fileTargetLines() measures nothing without the raw Chromium reference, however fast the rest", () => {
  const lines = fileTargetLines({ "raw-chromium": failed, "cli-cli": measured(100) });
  assert.equal(lines.length, 4);
  for (const line of lines) assert.match(line, /: not measured$/);
});

Deno.test("renderFileTable() shows a failure with its reason, each ratio to raw Chromium, and Chromium's shared CPU only where a page ran", () => {
  const table = renderFileTable({
    "raw-chromium": measured(10, { files: 0, browserCpu: 0.4 }),
    "raw-cli": measured(9, { files: 0 }),
    "cli-browser": failed,
    "cli-cli-set": measured(1), // its own table, not this one
  });
  const rows = table.split("\n");
  assert.match(rows[0]!, /\| figure\s+\| raw Chromium \| raw CLI \| CLI → page\s+\|$/);
  assert.match(table, /\| arrived whole\s+\| yes\s+\| yes\s+\| no: timed out \|/);
  assert.match(table, /\| × raw Chromium\s+\| 1\.00\s+\| 0\.90\s+\| –\s+\|/);
  assert.match(table, /\| Chromium's other processes \(cores\) \| 0\.40\s+\| –\s+\| –\s+\|/);
  assert.doesNotMatch(table, /set/);
});

Deno.test("renderFileSetTable() compares the set with one file of the same bytes, and is empty when no set ran", () => {
  assert.equal(renderFileSetTable({ "cli-cli": measured(8) }), "");
  const table = renderFileSetTable({
    "cli-cli-set": measured(0.5, { files: 10_000, bytes: 10_240_000, seconds: 20.48 }),
    "cli-cli-set-file": failed,
  });
  assert.match(table, /\| files × size\s+\| 10000 × 1 KiB\s+\| 1 × 33554432 B\s+\|/);
  assert.match(table, /\| files per second\s+\| 488\s+\| –\s+\|/);
  assert.match(table, /\| × one file's MB\/s\s+\| –\s+\| –\s+\|/);
});

Deno.test("splitChromiumCpu() gives each page its renderer's CPU and the rest to the browser, a new process counting from zero", () => {
  const before = new Map([[10, 1], [20, 2], [30, 3]]);
  const after = new Map([[10, 1.5], [20, 2.25], [30, 4], [40, 0.5]]);
  assert.deepEqual(splitChromiumCpu(before, after, [20, 10]), { pages: [0.25, 0.5], rest: 1.5 });
  // A renderer not found leaves its CPU with the rest.
  assert.deepEqual(splitChromiumCpu(before, after, [undefined]), { pages: [NaN], rest: 2.25 });
});

Deno.test({
  name:
    "runFileBench() measures the raw channels of Chromium and of the CLI, and a set of small files CLI → CLI against one file of the same bytes",
  // werift leaves timers and sockets behind in the peer processes, never here;
  // the browser's pipes close with it.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const logDir = await Deno.makeTempDir({ prefix: "switchboard-files-bench-" });
    try {
      const results = await runFileBench({
        fileMib: 1,
        kinds: ["raw-chromium", "raw-cli", "cli-cli-set"],
        setFiles: 20,
        logDir,
      });
      for (
        const column of ["raw-chromium", "raw-cli", "cli-cli-set", "cli-cli-set-file"] as const
      ) {
        const r = results[column];
        assert.equal(r?.ok, true, `${column}: ${r?.error}`);
        assert.ok(r.mbPerSecond > 0, column);
        // A page's renderer may not be told apart on a loaded machine: "–", never negative.
        assert.ok(!(r.senderCpu < 0) && !(r.receiverCpu < 0), column);
        assert.ok(Number.isFinite(r.load), column);
      }
      assert.ok(results["raw-chromium"]!.browserCpu! >= 0);
      assert.equal(results["raw-cli"]!.browserCpu, undefined);
      assert.deepEqual(
        [results["cli-cli-set"]!.files, results["cli-cli-set"]!.bytes],
        [20, 20 * 1024],
      );
      assert.equal(results["cli-cli-set-file"]!.bytes, 20 * 1024);
      assert.equal(results["cli-cli"], undefined);
    } finally {
      await Deno.remove(logDir, { recursive: true });
    }
  },
});
