import assert from "node:assert/strict";
import { printedBytes, renderResumeTable } from "../../bench/files_resume.ts";

Deno.test("printedBytes() reads a size as the peers print it", () => {
  assert.equal(printedBytes("41.9", "MB"), 41_900_000);
  assert.equal(printedBytes("1.2", "GB"), 1_200_000_000);
  assert.equal(printedBytes("512", "B"), 512);
  assert.ok(Number.isNaN(printedBytes("1", "PB")));
});

Deno.test("renderResumeTable() sets the cut run against the uncut one: time and bytes sent in all", () => {
  const size = 256 * 1024 * 1024;
  const table = renderResumeTable(
    size,
    { seconds: 20, sentBytes: size, heldAtCut: 0 },
    { seconds: 26, sentBytes: 270_000_000, heldAtCut: 134_000_000 },
  );
  assert.match(table, /\| × the uncut time\s+\| 1\.00\s+\| 1\.30\s+\|/);
  assert.match(table, /\| held at the cut \(MB\)\s+\| 0\.0\s+\| 134\.0\s+\|/);
  assert.match(table, /\| × the file's size\s+\| 1\.00\s+\| 1\.01\s+\|/);
  const failed = renderResumeTable(size, new Error("no channel\nmore"), {
    seconds: 1,
    sentBytes: 1,
    heldAtCut: 1,
  });
  assert.match(failed, /\| time \(s\)\s+\| failed: no channel\s+\| 1\.0\s+\|/);
});
