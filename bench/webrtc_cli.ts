/**
 * One pairing of two command-line WebRTC peers (`deno task peer`), each a
 * fresh process: time to open as both peers print it, then round trips on
 * the data channel, echoed by the benchmark typing `send` into the other.
 *
 * @module
 */

import { LineProcess } from "./webrtc_lines.ts";

const root = new URL("../", import.meta.url).pathname;

/** What one pairing measured; `error` says why it failed, when it did. */
export interface PairingResult {
  /** Whether both sides reported the data channel open. */
  ok: boolean;
  /** `paired` → open as each side reported it (the one that asked first). */
  openMs: number[];
  /** Round trips on the data channel, in milliseconds. */
  roundTripsMs: number[];
  /** Why it failed. */
  error?: string;
}

/** Limits for each wait, in milliseconds. */
export interface PairingTimeouts {
  /** From start until the peer (or page) shows its id. */
  startMs: number;
  /** From the pairing request until both channels are open. */
  openMs: number;
  /** For one round trip. */
  echoMs: number;
}

/** Timeouts that suit a loaded two-core machine. */
export const DEFAULT_TIMEOUTS: PairingTimeouts = { startMs: 20_000, openMs: 20_000, echoMs: 5_000 };

/** The arguments of `deno task peer`, for a server on `port`. */
export function peerArgv(port: number, extra: readonly string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--frozen",
    "--allow-net",
    "--allow-env",
    "--allow-sys=networkInterfaces",
    `${root}client.ts`,
    "--webrtc",
    "--url",
    `ws://127.0.0.1:${port}`,
    ...extra,
  ];
}

const ID_LINE = /^\*\*\* Your Client ID: (\S+) \*\*\*$/;
const OPEN_LINE =
  /^\*\*\* Data channel open with \S+ \((\d+(?:\.\d+)?) ms(?:, [a-zA-Z ]+)?\) \*\*\*$/;
// The peer gave up on the channel and moved to the server relay.
const NO_CHANNEL = /^\*\*\* No peer-to-peer channel/;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Pairs two fresh peer processes through the server on `port`: A accepts
 * every request, B asks for A as soon as it has its own id. Both are killed
 * at the end, whatever happened.
 *
 * @param port The server, on 127.0.0.1.
 * @param label Tells this pairing's messages apart.
 * @param echoes Round trips to time once the channel is open.
 */
export async function cliPairing(
  port: number,
  label: string,
  echoes: number,
  timeouts: PairingTimeouts = DEFAULT_TIMEOUTS,
): Promise<PairingResult> {
  const result: PairingResult = { ok: false, openMs: [], roundTripsMs: [] };
  await using a = new LineProcess(peerArgv(port, ["--accept"]));
  try {
    const idA = (await a.waitFor(ID_LINE, { timeoutMs: timeouts.startMs, what: "peer A's id" }))
      .match[1]!;
    await using b = new LineProcess(peerArgv(port, ["--pair", idA]));
    const idB = (await b.waitFor(ID_LINE, { timeoutMs: timeouts.startMs, what: "peer B's id" }))
      .match[1]!;
    const open = { timeoutMs: timeouts.openMs, failOn: NO_CHANNEL };
    const [openB, openA] = await Promise.all([
      b.waitFor(OPEN_LINE, { ...open, what: "peer B's channel to open" }),
      a.waitFor(OPEN_LINE, { ...open, what: "peer A's channel to open" }),
    ]);
    result.openMs.push(Number(openB.match[1]), Number(openA.match[1]));
    result.roundTripsMs.push(...await roundTrips({ a, idA, b, idB }, label, echoes, timeouts));
    result.ok = true;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  return result;
}

const CODE_LINE = /^\*\*\* Your code: (\d+-[a-z]+-[a-z]+) /;
const PAIRED_BY_CODE = /^\*\*\* Paired with (\S+) by code \*\*\*$/;

/**
 * As {@linkcode cliPairing}, but by code: A asks for a code, B types it. The
 * time to open is from each side's `paired` line to its open line, as the
 * lines arrive here, so it includes the key exchange that proves the code
 * (the open line's own figure counts from the link's start, after it).
 */
export async function cliCodePairing(
  port: number,
  label: string,
  echoes: number,
  timeouts: PairingTimeouts = DEFAULT_TIMEOUTS,
): Promise<PairingResult> {
  const result: PairingResult = { ok: false, openMs: [], roundTripsMs: [] };
  await using a = new LineProcess(peerArgv(port, ["--code"]));
  try {
    const start = { timeoutMs: timeouts.startMs };
    const idA = (await a.waitFor(ID_LINE, { ...start, what: "peer A's id" })).match[1]!;
    const code = (await a.waitFor(CODE_LINE, { ...start, what: "peer A's code" })).match[1]!;
    await using b = new LineProcess(peerArgv(port, [code]));
    const idB = (await b.waitFor(ID_LINE, { ...start, what: "peer B's id" })).match[1]!;
    const open = { timeoutMs: timeouts.openMs, failOn: NO_CHANNEL };
    const side = async (peer: LineProcess, name: string): Promise<number> => {
      const paired = await peer.waitFor(PAIRED_BY_CODE, { ...open, what: `peer ${name} paired` });
      const opened = await peer.waitFor(OPEN_LINE, { ...open, what: `peer ${name}'s channel` });
      return opened.at - paired.at;
    };
    const [openB, openA] = await Promise.all([side(b, "B"), side(a, "A")]);
    result.openMs.push(openB, openA);
    result.roundTripsMs.push(...await roundTrips({ a, idA, b, idB }, label, echoes, timeouts));
    result.ok = true;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  return result;
}

/** Times `echoes` round trips on the data channel of two paired peers, A pinging B. */
async function roundTrips(
  { a, idA, b, idB }: { a: LineProcess; idA: string; b: LineProcess; idB: string },
  label: string,
  echoes: number,
  timeouts: PairingTimeouts,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < echoes; i++) {
    const token = `${label}-${i}`;
    // A line that came through the server reads "<id> (via server): …" and
    // does not match: only the data channel counts.
    const sent = await a.type(`send ping-${token}`);
    await b.waitFor(new RegExp(`^${escape(idA)}: ping-${escape(token)}$`), {
      timeoutMs: timeouts.echoMs,
      what: `ping ${token} at B`,
    });
    await b.type(`send pong-${token}`);
    const back = await a.waitFor(new RegExp(`^${escape(idB)}: pong-${escape(token)}$`), {
      timeoutMs: timeouts.echoMs,
      what: `pong ${token} at A`,
    });
    times.push(back.at - sent);
  }
  return times;
}
