/**
 * CPU used by a headless Chromium the benchmark started, split the way the
 * file figures need it: each page's renderer process on its own, and the
 * browser's other processes (browser, network service — where the data
 * channel's UDP sockets live —, GPU, utilities) together.
 *
 * @module
 */

import type { Page } from "../tests/support/browser_deps.ts";
import { cpuSeconds } from "./proc.ts";

/** A process of the browser, from its command line. */
interface ChromiumProcess {
  pid: number;
  renderer: boolean;
}

/** Every process whose command line names `profile` (the browser's own profile folder). */
async function processesOf(profile: string): Promise<ChromiumProcess[]> {
  const { stdout } = await new Deno.Command("pgrep", { args: ["-af", profile] }).output();
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).map((line) => ({
    pid: Number(line.slice(0, line.indexOf(" "))),
    renderer: line.includes("--type=renderer"),
  }));
}

/** CPU seconds of each process of the browser, by pid; a process that ended is left out. */
export async function chromiumCpu(profile: string): Promise<Map<number, number>> {
  const cpu = new Map<number, number>();
  for (const { pid } of await processesOf(profile)) {
    const seconds = await cpuSeconds(pid).catch(() => undefined);
    if (seconds !== undefined) cpu.set(pid, seconds);
  }
  return cpu;
}

// The work a page does to show which renderer is its own: about 0.2 s of
// CPU. A fixed amount of work, not of time: on a loaded machine a page that
// spins for a while may get little CPU in it.
const SPIN = `(() => {
  let x = 0;
  for (let i = 0; i < 5e7; i++) x = (x + i * 7) % 1000003;
  return x;
})()`;

// CPU seconds the spin must show at least, well above a renderer's idle noise.
const SPIN_SECONDS = 0.08;

/**
 * The renderer process that runs `page`. A page does not know its process
 * id, so the page does a fixed piece of work and the renderer whose CPU time
 * grew by it, twice, is its own.
 *
 * @returns `undefined` when no renderer stands out: the page's CPU is then
 *   counted with the browser's other processes.
 */
export async function rendererOf(page: Page, profile: string): Promise<number | undefined> {
  // The first script a page runs also pays for setting up its script world.
  await page.evaluate("0");
  // Another renderer may be busy at the same moment (a page closing, a
  // spare renderer starting): only a renderer that stands out twice is taken.
  const wins = new Set<number>();
  for (let attempt = 0; attempt < 6; attempt++) {
    const renderers = (await processesOf(profile)).filter((p) => p.renderer).map((p) => p.pid);
    const before = new Map<number, number>();
    for (const pid of renderers) before.set(pid, await cpuSeconds(pid).catch(() => NaN));
    await page.evaluate(SPIN);
    const grown: [number, number][] = [];
    for (const pid of renderers) {
      const after = await cpuSeconds(pid).catch(() => NaN);
      grown.push([pid, after - before.get(pid)!]);
    }
    grown.sort((a, b) => (b[1] || 0) - (a[1] || 0));
    const [first, second] = grown;
    if (first === undefined || !(first[1] >= SPIN_SECONDS)) continue;
    if (second !== undefined && second[1] > first[1] / 2) continue;
    if (wins.has(first[0])) return first[0];
    wins.add(first[0]);
  }
  return undefined;
}

/** CPU seconds used between two {@link chromiumCpu} readings, split by process. */
export interface ChromiumCpuSplit {
  /** Each page's renderer, in the order asked; `NaN` when it was not found. */
  pages: number[];
  /** Every other process of the browser (and a page whose renderer was not found). */
  rest: number;
}

/**
 * Splits the CPU used between `before` and `after` into the pages' renderers
 * and the rest. A process that started in between counts from zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitChromiumCpu } from "./chromium_cpu.ts";
 * const before = new Map([[1, 10], [2, 5], [3, 1]]);
 * const after = new Map([[1, 11], [2, 7], [3, 1.5], [4, 0.25]]);
 * assert.deepEqual(splitChromiumCpu(before, after, [2, undefined]), { pages: [2, NaN], rest: 1.75 });
 * ```
 */
export function splitChromiumCpu(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  renderers: readonly (number | undefined)[],
): ChromiumCpuSplit {
  const used = (pid: number) => (after.get(pid) ?? 0) - (before.get(pid) ?? 0);
  const pages = renderers.map((pid) => pid === undefined ? NaN : used(pid));
  let rest = 0;
  for (const pid of after.keys()) {
    if (!renderers.includes(pid)) rest += Math.max(0, used(pid));
  }
  return { pages, rest };
}
