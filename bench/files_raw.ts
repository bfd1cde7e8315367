/**
 * The references of the file benchmark: the raw data channel with nothing on
 * it but bytes — no file, no hashing, no disk, no protocol — between two
 * pages of one headless Chromium, and between two command-line werift peers
 * (`raw_cli_peer.ts`, each its own process with the CLI peer's permissions).
 * The sender sends 64 KiB messages with the file transfer's high and low
 * water marks on `bufferedAmount`; the receiver counts bytes.
 *
 * @module
 */

import type { BrowserContext, Page } from "../tests/support/browser_deps.ts";
import { CHUNK_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../lib/shared/file_protocol.js";
import { chromiumCpu, rendererOf, splitChromiumCpu } from "./chromium_cpu.ts";
import { cpuSeconds } from "./proc.ts";
import { LineProcess } from "./webrtc_lines.ts";

/** What one raw run measured: seconds from the start to the last byte, and CPU seconds. */
export interface RawMeasure {
  /** From the sender's start to the receiver's last byte. */
  seconds: number;
  /** CPU seconds of the sender over that time. */
  senderCpu: number;
  /** The same, receiver. */
  receiverCpu: number;
  /** CPU seconds of Chromium's other processes, when the pages ran in it. */
  browserCpu?: number;
}

const root = new URL("../", import.meta.url).pathname;
const OPEN_MS = 20_000;

function rawPeerArgv(role: "send" | "receive", bytes: number): string[] {
  return [
    Deno.execPath(),
    "run",
    "--frozen",
    // The command-line peer's own permissions, nothing more.
    "--allow-net",
    "--allow-env",
    "--allow-sys=networkInterfaces",
    `${root}bench/raw_cli_peer.ts`,
    role,
    String(bytes),
  ];
}

/** Two werift peers, each its own process, the benchmark carrying their offer and answer. */
export async function rawCli(bytes: number, timeoutMs: number): Promise<RawMeasure> {
  await using tx = new LineProcess(rawPeerArgv("send", bytes));
  await using rx = new LineProcess(rawPeerArgv("receive", bytes));
  const offer = await tx.waitFor(/^offer .+$/, { timeoutMs: OPEN_MS, what: "the raw offer" });
  await rx.type(offer.match[0]);
  const answer = await rx.waitFor(/^answer .+$/, { timeoutMs: OPEN_MS, what: "the raw answer" });
  await tx.type(answer.match[0]);
  await tx.waitFor(/^open$/, { timeoutMs: OPEN_MS, what: "the raw sender's channel" });
  await rx.waitFor(/^open$/, { timeoutMs: OPEN_MS, what: "the raw receiver's channel" });
  const cpu = [await cpuSeconds(tx.pid), await cpuSeconds(rx.pid)];
  const started = await tx.type("go");
  const done = await rx.waitFor(/^done \d+$/, { timeoutMs, what: "the raw bytes" });
  return {
    seconds: (done.at - started) / 1000,
    senderCpu: await cpuSeconds(tx.pid) - cpu[0]!,
    receiverCpu: await cpuSeconds(rx.pid) - cpu[1]!,
  };
}

// In-page scripts are strings: the bench is type-checked without the DOM.

/** Resolves once ICE gathering is complete: the description then holds every candidate. */
const GATHERED = `(pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === "complete") return resolve();
  pc.addEventListener("icegatheringstatechange", () => {
    if (pc.iceGatheringState === "complete") resolve();
  });
})`;

const OFFER = `(async () => {
  const gathered = ${GATHERED};
  const pc = new RTCPeerConnection();
  const channel = pc.createDataChannel("raw", { ordered: true });
  channel.binaryType = "arraybuffer";
  channel.bufferedAmountLowThreshold = ${LOW_WATER_BYTES};
  globalThis.raw = { pc, channel, open: new Promise((resolve) => { channel.onopen = resolve; }) };
  await pc.setLocalDescription();
  await gathered(pc);
  return JSON.stringify(pc.localDescription);
})()`;

function answerScript(offer: string, bytes: number): string {
  return `(async () => {
  const gathered = ${GATHERED};
  const pc = new RTCPeerConnection();
  let received = 0;
  let opened;
  const open = new Promise((resolve) => { opened = resolve; });
  const done = new Promise((resolve) => {
    pc.ondatachannel = ({ channel }) => {
      channel.binaryType = "arraybuffer";
      channel.onopen = opened;
      if (channel.readyState === "open") opened();
      channel.onmessage = ({ data }) => {
        received += data.byteLength ?? data.length;
        if (received >= ${bytes}) resolve(received);
      };
    };
  });
  globalThis.raw = { pc, open, done };
  await pc.setRemoteDescription(${offer});
  await pc.setLocalDescription();
  await gathered(pc);
  return JSON.stringify(pc.localDescription);
})()`;
}

function sendScript(bytes: number): string {
  return `(async () => {
  const { channel } = globalThis.raw;
  const message = new Uint8Array(${CHUNK_BYTES});
  crypto.getRandomValues(message);
  for (let sent = 0; sent < ${bytes};) {
    if (channel.bufferedAmount > ${HIGH_WATER_BYTES}) {
      await new Promise((resolve) => { channel.onbufferedamountlow = resolve; });
      continue;
    }
    const size = Math.min(message.length, ${bytes} - sent);
    channel.send(size === message.length ? message : message.subarray(0, size));
    sent += size;
  }
})()`;
}

/**
 * Two pages of the browser on `about:blank`, their offer and answer carried
 * by the benchmark (no server: the channel is all that is measured).
 */
export async function rawChromium(
  context: BrowserContext,
  profile: string,
  bytes: number,
  timeoutMs: number,
): Promise<RawMeasure> {
  const pages: Page[] = [];
  try {
    const a = await context.newPage();
    pages.push(a);
    const b = await context.newPage();
    pages.push(b);
    const offer = await a.evaluate(OFFER) as string;
    const answer = await b.evaluate(answerScript(offer, bytes)) as string;
    await a.evaluate(`globalThis.raw.pc.setRemoteDescription(${answer})`);
    await withTimeout(
      Promise.all([a.evaluate("globalThis.raw.open"), b.evaluate("globalThis.raw.open")]),
      OPEN_MS,
      "the raw Chromium channel",
    );
    const renderers = [await rendererOf(a, profile), await rendererOf(b, profile)];
    const before = await chromiumCpu(profile);
    const started = performance.now();
    const sending = a.evaluate(sendScript(bytes));
    await withTimeout(b.evaluate("globalThis.raw.done"), timeoutMs, "the raw Chromium bytes");
    const seconds = (performance.now() - started) / 1000;
    const split = splitChromiumCpu(before, await chromiumCpu(profile), renderers);
    await sending;
    return {
      seconds,
      senderCpu: split.pages[0]!,
      receiverCpu: split.pages[1]!,
      browserCpu: split.rest,
    };
  } finally {
    for (const page of pages) await page.close().catch(() => {});
  }
}

/** `promise`, or an error naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
