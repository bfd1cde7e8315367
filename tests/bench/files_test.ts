import assert from "node:assert/strict";
import { fileTargetLine, renderFileTable, runFileBench } from "../../bench/files.ts";
import { parseBenchFlags } from "../../bench/run.ts";

Deno.test("parseBenchFlags() reads the file flags and rejects an unknown kind", () => {
  const flags = parseBenchFlags(["--files", "--file-mib", "4", "--file-kinds", "cli-cli"]);
  assert.equal(flags.files, true);
  assert.equal(flags.fileMib, 4);
  assert.deepEqual(flags.fileKinds, ["cli-cli"]);
  assert.throws(() => parseBenchFlags(["--file-kinds", "ftp"]), /unknown kind/);
});

Deno.test("renderFileTable() shows a failed transfer with its reason, and the target says it was not measured", () => {
  const failed = {
    ok: false,
    mbPerSecond: NaN,
    senderCpu: NaN,
    receiverCpu: NaN,
    error: "timed out",
  };
  assert.match(renderFileTable({ "cli-cli": failed }), /no: timed out/);
  assert.match(fileTargetLine({ "cli-cli": failed }), /not measured/);
});

Deno.test({
  name: "runFileBench() sends a small file CLI → CLI and reports a verified transfer",
  // werift leaves timers and sockets behind in the peer processes, never here.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const logDir = await Deno.makeTempDir({ prefix: "switchboard-files-bench-" });
    try {
      const results = await runFileBench({ fileMib: 1, kinds: ["cli-cli"], logDir });
      const cli = results["cli-cli"];
      assert.equal(cli?.ok, true, cli?.error);
      assert.ok((cli?.mbPerSecond ?? 0) > 0);
    } finally {
      await Deno.remove(logDir, { recursive: true });
    }
  },
});
