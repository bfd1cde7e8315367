/**
 * The lines the command-line peer prints about a transfer as it ends or
 * resumes: words only, from what happened, so each can be read and tested
 * without a transfer. Names and reasons come in already made printable.
 *
 * @module
 */

import { formatBytes } from "../../shared/file_protocol.js";
import { setOutcome } from "../../shared/file_set.js";
import type { TransferEvent } from "../../shared/file_transfer.js";
import { printable } from "../../runtime/safe_text.ts";
import { sizeTimeRate } from "./progress.ts";

/** How many failures a set's result line names. */
export const LISTED = 10;

type Done = TransferEvent & { kind: "done" };
type Stopped = TransferEvent & { kind: "stopped" };

/**
 * `part` of `whole` as a whole percentage, never 100 % before the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percent } from "./transfer_lines.ts";
 * assert.equal(percent(612, 1000), "61 %");
 * assert.equal(percent(999_999, 1_000_000), "99 %");
 * assert.equal(percent(5, 5), "100 %");
 * ```
 */
export function percent(part: number, whole: number): string {
  if (whole === 0) return "0 %";
  const value = Math.floor((part / whole) * 100);
  return `${part < whole ? Math.min(value, 99) : value} %`;
}

/**
 * Two sizes for people, in bytes where rounding would make them look the
 * same (1001 B is over a limit of 1000 B; "1.0 kB" over "1.0 kB" is not).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compared } from "./transfer_lines.ts";
 * assert.deepEqual(compared(1001, 1000), ["1001 B", "1000 B"]);
 * assert.deepEqual(compared(5_000_000, 1000), ["5.0 MB", "1.0 kB"]);
 * ```
 */
export function compared(size: number, limit: number): [string, string] {
  const [a, b] = [formatBytes(size), formatBytes(limit)];
  return a === b ? [`${size} B`, `${limit} B`] : [a, b];
}

/**
 * The start of the line for a transfer that stopped, without its end: by
 * whom and why, or that it was interrupted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stoppedLine } from "./transfer_lines.ts";
 * const stopped = { kind: "stopped", reason: "the channel closed", by: "error" } as const;
 * assert.equal(stoppedLine("p", "a.txt (file 1)", stopped), "*** a.txt (file 1) failed: the channel closed");
 * assert.equal(
 *   stoppedLine("p", "a.txt (file 1)", { ...stopped, interrupted: true }),
 *   "*** a.txt (file 1) interrupted: the channel closed",
 * );
 * ```
 */
export function stoppedLine(peer: string, label: string, event: Stopped): string {
  const reason = printable(event.reason);
  if (event.interrupted) {
    return event.by === "you"
      ? `*** Stopped ${label}: ${reason}`
      : `*** ${label} interrupted: ${reason}`;
  }
  switch (event.by) {
    case "you":
      return `*** Cancelled ${label}`;
    case "peer":
      return `*** ${peer} cancelled ${label}: ${reason}`;
    case "error":
      return `*** ${label} failed: ${reason}`;
  }
}

/**
 * The receiver's line when a file resumes: how much was already here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumedLine } from "./transfer_lines.ts";
 * assert.equal(
 *   resumedLine("big.iso (file 2)", 612_400_000, 1_000_000_000),
 *   "*** Resumed big.iso (file 2) at 61 %: 612 MB already here ***",
 * );
 * ```
 */
export function resumedLine(label: string, held: number, size: number): string {
  return `*** Resumed ${label} at ${percent(held, size)}: ${formatBytes(held)} already here ***`;
}

/**
 * The sender's line when the receiver claims part of the file: how much it
 * has, and that the rest goes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partnerHasLine } from "./transfer_lines.ts";
 * assert.equal(
 *   partnerHasLine("p", "big.iso (file 1)", 612_400_000, 1_000_000_000),
 *   "*** p already has 612 MB (61 %) of big.iso (file 1): sending the rest ***",
 * );
 * ```
 */
export function partnerHasLine(peer: string, label: string, held: number, size: number): string {
  return `*** ${peer} already has ${formatBytes(held)} (${
    percent(held, size)
  }) of ${label}: sending the rest ***`;
}

/**
 * The receiver's line for a file or a set that arrived.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { receivedLine } from "./transfer_lines.ts";
 * const done = { kind: "done", size: 4_200_000, ms: 600, sha256: "" } as const;
 * assert.equal(
 *   receivedLine("a.pdf (file 1)", done, { savedAs: "a.pdf" }),
 *   "*** Received a.pdf (file 1): 4.2 MB in 0.6 s, 7.0 MB/s, SHA-256 verified; saved as a.pdf ***",
 * );
 * assert.equal(
 *   receivedLine("a.pdf (file 1)", done, { savedAs: "a.pdf", held: 1_000_000 }),
 *   "*** Received a.pdf (file 1): 4.2 MB, resumed with 1.0 MB already here, SHA-256 verified; saved as a.pdf ***",
 * );
 * ```
 */
export function receivedLine(
  label: string,
  event: Done,
  where: { savedAs?: string; tops?: readonly string[]; held?: number },
): string {
  if (event.files !== undefined) {
    const saved = where.tops?.map((top) => printable(top)).join(", ");
    return `*** Received ${label}: ${sizeTimeRate(event.size, event.ms)}, ${
      printable(setOutcome(event.files, event.failed ?? [], LISTED))
    }${saved ? `; saved in ${saved}` : ""} ***`;
  }
  const how = where.held === undefined
    ? sizeTimeRate(event.size, event.ms)
    : `${formatBytes(event.size)}, resumed with ${formatBytes(where.held)} already here`;
  return `*** Received ${label}: ${how}, SHA-256 verified; saved as ${
    printable(where.savedAs ?? "?")
  } ***`;
}

/**
 * The sender's line for a file or a set the receiver confirmed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sentLine } from "./transfer_lines.ts";
 * const done = { kind: "done", size: 41_900_000, ms: 4000, sha256: "" } as const;
 * assert.equal(
 *   sentLine("p", "big.bin (file 1)", done, 8_400_000),
 *   "*** Sent big.bin (file 1): 41.9 MB sent, 8.4 MB were already there; SHA-256 verified by p ***",
 * );
 * ```
 */
export function sentLine(peer: string, label: string, event: Done, held?: number): string {
  if (held !== undefined) {
    return `*** Sent ${label}: ${formatBytes(event.size)} sent, ${
      formatBytes(held)
    } were already there; SHA-256 verified by ${peer} ***`;
  }
  if (event.files !== undefined) {
    return `*** Sent ${label}: ${sizeTimeRate(event.size, event.ms)}, ${
      printable(setOutcome(event.files, event.failed ?? [], LISTED))
    } by ${peer} ***`;
  }
  return `*** Sent ${label}: ${
    sizeTimeRate(event.size, event.ms)
  }, SHA-256 verified by ${peer} ***`;
}
