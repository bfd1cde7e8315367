import assert from "node:assert/strict";
import { receivedLine, sentLine, stoppedLine } from "../../../lib/cli/files/transfer_lines.ts";

const label = "a.txt (file 3)";

Deno.test("a stopped transfer says who stopped it and why, or that it was interrupted", () => {
  const stopped = (by: "you" | "peer" | "error", interrupted = false) =>
    stoppedLine("peer-1", label, {
      kind: "stopped",
      reason: "why\u202E",
      by,
      ...(interrupted ? { interrupted } : {}),
    });
  assert.equal(stopped("you"), "*** Cancelled a.txt (file 3)");
  assert.equal(stopped("peer"), "*** peer-1 cancelled a.txt (file 3): why\\u202e");
  assert.equal(stopped("error"), "*** a.txt (file 3) failed: why\\u202e");
  assert.equal(stopped("you", true), "*** Stopped a.txt (file 3): why\\u202e");
  assert.equal(stopped("peer", true), "*** a.txt (file 3) interrupted: why\\u202e");
});

Deno.test("a set's end names how many verified, which failed, and where it was saved", () => {
  const done = {
    kind: "done" as const,
    size: 2_000_000,
    ms: 1000,
    sha256: "",
    files: 2,
    failed: [{ index: 1, path: "d/b", ok: false, reason: "disk full" }],
  };
  assert.equal(
    receivedLine(label, done, { tops: ["photos (1)"] }),
    "*** Received a.txt (file 3): 2.0 MB in 1.0 s, 2.0 MB/s, 1 of 2 verified; failed: d/b (disk full); saved in photos (1) ***",
  );
  assert.equal(
    sentLine("peer-1", label, done),
    "*** Sent a.txt (file 3): 2.0 MB in 1.0 s, 2.0 MB/s, 1 of 2 verified; failed: d/b (disk full) by peer-1 ***",
  );
});
