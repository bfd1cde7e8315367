/**
 * Pure summary statistics for the benchmark: percentiles, medians, ranges.
 *
 * @module
 */

/**
 * The `p`-th percentile of `values` by the nearest-rank method, so every
 * figure reported is one that was actually measured.
 *
 * @param values The samples, in any order; not modified.
 * @param p The percentile, from 0 to 100.
 * @returns The percentile, or `NaN` when there are no samples.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 * percentile([5, 1, 4, 2, 3], 50); // 3
 * ```
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

/**
 * The median of `values`: the mean of the middle two for an even count.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid] ?? NaN
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** A median with the smallest and largest sample beside it. */
export interface Spread {
  /** The median sample. */
  median: number;
  /** The smallest sample. */
  min: number;
  /** The largest sample. */
  max: number;
}

/**
 * Summarises repeated measurements of one figure.
 *
 * @example
 * ```ts
 * import { spread } from "./stats.ts";
 * spread([3, 1, 2]); // { median: 2, min: 1, max: 3 }
 * ```
 */
export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
  };
}

/**
 * Pairwise ratios `a[i] / b[i]`: each round of A is divided by the round of B
 * run right after it, so a drift in machine speed cancels out.
 *
 * @example
 * ```ts
 * import { ratios } from "./stats.ts";
 * ratios([2, 3], [1, 2]); // [2, 1.5]
 * ```
 */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((a[i] ?? NaN) / (b[i] ?? NaN));
  return out;
}
