/**
 * `deno task bench --webrtc`: consecutive pairings of two command-line peers
 * (fresh processes each time) and of two headless Chromium pages (one
 * browser, two fresh pages each time) through one Switchboard started for
 * the purpose; how many open, how long from `paired` to an open channel, and
 * the round trip on it.
 *
 * @module
 */

import { markdownTable } from "./table.ts";
import { percentile } from "./stats.ts";
import { startServer, SWITCHBOARD } from "./servers.ts";
import {
  cliCodePairing,
  cliPairing,
  DEFAULT_TIMEOUTS,
  type PairingResult,
  type PairingTimeouts,
} from "./webrtc_cli.ts";
import { browserPairing, launchChromium } from "./webrtc_browser.ts";

/** Who is paired: two command-line peers, or two Chromium pages. */
export type PeerKind = "cli" | "cli-code" | "chromium" | "chromium-cold";

/** Every kind, in running order. */
export const PEER_KINDS: readonly PeerKind[] = ["cli", "cli-code", "chromium", "chromium-cold"];

/** The column heading for each kind. */
export const KIND_NAMES: Readonly<Record<PeerKind, string>> = {
  cli: "CLI ↔ CLI",
  "cli-code": "CLI ↔ CLI by code",
  chromium: "Chromium ↔ Chromium",
  "chromium-cold": "Chromium ↔ Chromium, no warm-up",
};

/** How many pairings, of which kinds. */
export interface WebrtcOptions {
  /** Consecutive pairings per kind. */
  pairings: number;
  /** Round trips timed per pairing. */
  echoes: number;
  /** Which kinds to run. */
  kinds: readonly PeerKind[];
  /** Where the server's log goes. */
  logDir: string;
  /** Limits on each wait. */
  timeouts?: PairingTimeouts;
  /** Progress notes; silent by default. */
  progress?: (line: string) => void;
}

/** Every pairing of each kind that ran. */
export type WebrtcResults = Partial<Record<PeerKind, PairingResult[]>>;

/**
 * Runs the pairings. A failed pairing is recorded with its reason and the
 * next one goes on; every wait has a timeout, and every peer process, page,
 * the browser and the server are gone when this returns.
 */
export async function runWebrtcBench(options: WebrtcOptions): Promise<WebrtcResults> {
  const progress = options.progress ?? (() => {});
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  // playwright under Deno reads a path only --allow-all opens; say so before
  // anything runs rather than after the command-line pairings.
  if (
    options.kinds.some((kind) => kind.startsWith("chromium")) &&
    (await Deno.permissions.query({ name: "ffi" })).state !== "granted"
  ) {
    throw new Error("The Chromium pairings need -A (playwright under Deno); or use --kinds cli");
  }
  const server = await startServer(SWITCHBOARD, undefined, options.logDir);
  const results: WebrtcResults = {};
  try {
    for (const kind of options.kinds) {
      const done: PairingResult[] = results[kind] = [];
      const note = (result: PairingResult): void => {
        done.push(result);
        progress(
          `webrtc ${kind} ${done.length}/${options.pairings}: ` +
            (result.ok
              ? `open ${result.openMs.join("/")} ms, round trip ${
                result.roundTripsMs.map((ms) => ms.toFixed(1)).join(" ")
              } ms`
              : `failed: ${result.error}`),
        );
      };
      if (kind === "cli" || kind === "cli-code") {
        const pairing = kind === "cli" ? cliPairing : cliCodePairing;
        for (let i = 0; i < options.pairings; i++) {
          note(await pairing(server.port, `${kind}${i}`, options.echoes, timeouts));
        }
      } else {
        await using browser = await launchChromium();
        for (let i = 0; i < options.pairings; i++) {
          // The reference: pages that do not warm their WebRTC stack while they wait.
          const url = `http://127.0.0.1:${server.port}/${
            kind === "chromium-cold" ? "?warm=0" : ""
          }`;
          note(await browserPairing(browser.context, url, `b${i}`, options.echoes, timeouts));
        }
      }
    }
  } finally {
    await server.stop();
  }
  return results;
}

/** One kind's figures. */
export interface KindSummary {
  /** Pairings whose channel opened and carried every round trip. */
  ok: number;
  /** Pairings tried. */
  tried: number;
  /** `paired` → open, the slower side of each successful pairing (ms). */
  openP50: number;
  /** The same, 90th percentile. */
  openP90: number;
  /** The same, largest. */
  openMax: number;
  /** Round trips over all successful pairings (ms). */
  roundTripP50: number;
  /** The same, 90th percentile. */
  roundTripP90: number;
  /** The first error, if any pairing failed. */
  firstError?: string;
}

/**
 * Summarises one kind's pairings. Each pairing counts once for time to open,
 * with the later of its two sides (each measured from its own `paired`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarise } from "./webrtc.ts";
 * const s = summarise([
 *   { ok: true, openMs: [30, 40], roundTripsMs: [2, 4] },
 *   { ok: false, openMs: [], roundTripsMs: [], error: "timed out" },
 * ]);
 * assert.equal(s.ok, 1);
 * assert.equal(s.tried, 2);
 * assert.equal(s.openP50, 40);
 * assert.equal(s.roundTripP50, 2);
 * assert.equal(s.firstError, "timed out");
 * ```
 */
export function summarise(pairings: readonly PairingResult[]): KindSummary {
  const good = pairings.filter((p) => p.ok);
  const opens = good.map((p) => Math.max(...p.openMs));
  const trips = good.flatMap((p) => p.roundTripsMs);
  const summary: KindSummary = {
    ok: good.length,
    tried: pairings.length,
    openP50: percentile(opens, 50),
    openP90: percentile(opens, 90),
    openMax: opens.length ? Math.max(...opens) : NaN,
    roundTripP50: percentile(trips, 50),
    roundTripP90: percentile(trips, 90),
  };
  const failed = pairings.find((p) => !p.ok);
  if (failed?.error !== undefined) summary.firstError = failed.error;
  return summary;
}

/**
 * The WebRTC table in Markdown, one column per kind that ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderWebrtcTable } from "./webrtc.ts";
 * const table = renderWebrtcTable({ cli: [{ ok: true, openMs: [30, 40], roundTripsMs: [2] }] });
 * assert.match(table, /\| pairings open\s+\| 1\/1\s+\|/);
 * ```
 */
export function renderWebrtcTable(results: WebrtcResults): string {
  const kinds = PEER_KINDS.filter((kind) => results[kind] !== undefined);
  const summaries = kinds.map((kind) => summarise(results[kind]!));
  const ms = (x: number, digits: number): string => Number.isNaN(x) ? "–" : x.toFixed(digits);
  const lines = [
    ["figure", ...kinds.map((kind) => KIND_NAMES[kind])],
    ["pairings open", ...summaries.map((s) => `${s.ok}/${s.tried}`)],
    ["paired → open p50 (ms)", ...summaries.map((s) => ms(s.openP50, 0))],
    ["paired → open p90 (ms)", ...summaries.map((s) => ms(s.openP90, 0))],
    ["paired → open max (ms)", ...summaries.map((s) => ms(s.openMax, 0))],
    ["round trip p50 (ms)", ...summaries.map((s) => ms(s.roundTripP50, 1))],
    ["round trip p90 (ms)", ...summaries.map((s) => ms(s.roundTripP90, 1))],
  ];
  return markdownTable(lines);
}

/**
 * The targets, each with its result: every pairing opens, and CLI ↔ CLI
 * opens within 100 ms at the median.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetLines } from "./webrtc.ts";
 * const lines = targetLines({ cli: [{ ok: true, openMs: [30, 40], roundTripsMs: [2] }] });
 * assert.deepEqual(lines, [
 *   "target CLI ↔ CLI: every pairing opens: 1/1, met",
 *   "target CLI ↔ CLI: paired → open p50 ≤ 100 ms: 40 ms, met",
 * ]);
 * ```
 */
export function targetLines(results: WebrtcResults): string[] {
  const lines: string[] = [];
  for (const kind of PEER_KINDS) {
    const pairings = results[kind];
    if (pairings === undefined) continue;
    const s = summarise(pairings);
    const met = (yes: boolean): string => yes ? "met" : "NOT met";
    lines.push(
      `target ${KIND_NAMES[kind]}: every pairing opens: ${s.ok}/${s.tried}, ${
        met(s.ok === s.tried)
      }`,
    );
    if (kind === "chromium") {
      lines.push(
        `target ${KIND_NAMES[kind]}: paired → open p50 ≤ 60 ms (warm pages): ${
          s.openP50.toFixed(0)
        } ms, ${met(s.openP50 <= 60)}`,
      );
    }
    if (kind === "cli" || kind === "cli-code") {
      lines.push(
        `target ${KIND_NAMES[kind]}: paired → open p50 ≤ 100 ms: ${s.openP50.toFixed(0)} ms, ${
          met(s.openP50 <= 100)
        }`,
      );
    }
    if (s.firstError !== undefined) {
      lines.push(`${KIND_NAMES[kind]}: first failure: ${s.firstError}`);
    }
  }
  return lines;
}
