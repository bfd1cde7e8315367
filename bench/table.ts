/**
 * The benchmark's one table: each figure for Switchboard, for the baseline,
 * and their ratio, as medians with the min–max range over the rounds.
 *
 * @module
 */

import { ratios, type Spread, spread } from "./stats.ts";

/** One figure, measured once per round on each server. */
export interface Row {
  /** What was measured, with its unit. */
  label: string;
  /** Switchboard's value in each round. */
  ours: number[];
  /** The baseline's value in each round, paired with `ours` by index. */
  baseline: number[];
  /** Digits after the decimal point. */
  digits: number;
}

function cell(s: Spread, digits: number): string {
  const f = (x: number): string => x.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/**
 * Renders rows as a Markdown table, so the same text reads well in a
 * terminal and pastes into BENCHMARKS.md.
 *
 * @example
 * ```ts
 * import { renderTable } from "./table.ts";
 * renderTable([{ label: "x", ours: [2], baseline: [1], digits: 0 }]);
 * ```
 */
export function renderTable(rows: readonly Row[]): string {
  const lines = [
    ["figure", "Switchboard", "baseline", "ratio"],
    ...rows.map((row) => [
      row.label,
      cell(spread(row.ours), row.digits),
      cell(spread(row.baseline), row.digits),
      cell(spread(ratios(row.ours, row.baseline)), 2),
    ]),
  ];
  return markdownTable(lines);
}

/**
 * Lays out rows of cells as a Markdown table with padded columns; the first
 * row is the header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownTable } from "./table.ts";
 * assert.equal(
 *   markdownTable([["figure", "value"], ["x", "1"]]),
 *   "| figure | value |\n|--------|-------|\n| x      | 1     |",
 * );
 * ```
 */
export function markdownTable(lines: readonly (readonly string[])[]): string {
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((line) => line[i]!.length)));
  const format = (line: readonly string[]): string =>
    `| ${line.map((text, i) => text.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    format(lines[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...lines.slice(1).map(format),
  ].join("\n");
}
