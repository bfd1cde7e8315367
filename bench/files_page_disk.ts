/**
 * A large file into a page, written to disk as it arrives: page → page
 * through one Switchboard started for the purpose, each page in a Chromium
 * of its own, the receiving page's renderer watched. Throughput, and the
 * receiving renderer's peak resident memory for a small file and for the
 * large one, side by side: flat means the file never sat in memory.
 *
 * Not part of `deno task bench` (a GiB takes minutes); run it alone:
 *
 * ```sh
 * deno run --frozen -A bench/files_page_disk.ts --file-mib 1024 --target private
 * ```
 *
 * `--target private` writes to the browser's private storage (then a Save
 * link), as a browser without save dialogs does; `--target chosen` writes
 * into a file "chosen" in a save dialog (answered by the bench with a real
 * file handle of the private storage, as nobody is there to answer it).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { chromium, type Page } from "../tests/support/browser_deps.ts";
import { startServer, SWITCHBOARD } from "./servers.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./webrtc_browser.ts";

const MIB = 1024 * 1024;
const SMALL_MIB = 8;

// In-page scripts are strings: the bench is type-checked without the DOM.

/** A save dialog answered with a real file handle, or no dialog at all. */
const TARGET_SCRIPTS = {
  chosen: `{
    globalThis.showSaveFilePicker = async ({ suggestedName }) => {
      const root = await navigator.storage.getDirectory();
      const picked = await root.getDirectoryHandle("picked", { create: true });
      return await picked.getFileHandle(suggestedName, { create: true });
    };
  }`,
  private: `{
    delete Window.prototype.showSaveFilePicker;
    delete globalThis.showSaveFilePicker;
  }`,
} as const;

/** Ids of `pid` and every process below it. */
async function processTree(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...children.get(ppid) ?? [], Number(entry.name)]);
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) found.push(...children.get(found[i]!) ?? []);
  return found;
}

/** CPU ticks of each renderer below this process. */
async function rendererTicks(): Promise<Map<number, number>> {
  const ticks = new Map<number, number>();
  for (const pid of await processTree(Deno.pid)) {
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
    if (!cmdline.includes("--type=renderer")) continue;
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** The peak resident size of `pid` in MiB, or restarts it from the present one. */
async function peakMiB(pid: number, reset = false): Promise<number> {
  if (reset) await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5");
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
}

async function randomFile(path: string, bytes: number): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true });
  const piece = new Uint8Array(MIB);
  for (let i = 0; i < piece.length; i += 65536) {
    crypto.getRandomValues(piece.subarray(i, i + 65536));
  }
  for (let done = 0; done < bytes; done += piece.length) {
    await file.write(piece.subarray(0, Math.min(piece.length, bytes - done)));
  }
}

async function launch(profile: string, script?: string) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  if (script) await context.addInitScript({ content: script });
  return context;
}

/** `sender` offers `path`; `receiver` accepts it; resolves with the row's status once verified. */
async function transfer(receiver: Page, sender: Page, path: string, timeoutMs: number) {
  const name = path.split("/").at(-1)!;
  const row = `#transfers li[data-direction="receive"][data-name="${name}"]`;
  await sender.setInputFiles("#file-input", path);
  await receiver.click(`${row}[data-state="offered"] button:text('Accept')`);
  const started = performance.now();
  await receiver.waitForSelector(`${row}[data-state="done"], ${row}[data-state="stopped"]`, {
    timeout: timeoutMs,
  });
  const seconds = (performance.now() - started) / 1000;
  const status = (await receiver.textContent(`${row} .file-status`)) ?? "";
  if (!/SHA-256 verified/.test(status)) throw new Error(`${name}: ${status}`);
  return { seconds, status, where: (await receiver.textContent(`${row} .file-saved`)) ?? "" };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "file-mib": { type: "string", default: "1024" },
      target: { type: "string", default: "private" },
    },
  });
  const fileMib = Number(values["file-mib"]);
  const target = values.target as keyof typeof TARGET_SCRIPTS;
  if (!(fileMib > SMALL_MIB) || !(target in TARGET_SCRIPTS)) {
    console.error("usage: files_page_disk.ts [--file-mib N>8] [--target private|chosen]");
    Deno.exit(2);
  }
  const dir = await Deno.makeTempDir({ prefix: "switchboard-bench-page-disk-" });
  const server = await startServer(SWITCHBOARD, undefined, dir);
  const receiving = await launch(join(dir, "receiver"), TARGET_SCRIPTS[target]);
  const sending = await launch(join(dir, "sender"));
  try {
    const receiver = receiving.pages()[0] ?? await receiving.newPage();
    await receiver.goto(`http://127.0.0.1:${server.port}/`);
    await receiver.waitForSelector('body[data-state="ready"]');
    const sender = sending.pages()[0] ?? await sending.newPage();
    await sender.goto(await receiver.inputValue("#share-link"));
    await receiver.click("#requests button:text('Accept')");
    await receiver.waitForSelector('body[data-state="open"]');
    await sender.waitForSelector('body[data-state="open"]');
    for (const [name, mib] of [["warm.bin", 1], ["small.bin", SMALL_MIB], ["large.bin", fileMib]]) {
      await randomFile(join(dir, name as string), (mib as number) * MIB);
    }

    // The receiving page's renderer: the one that worked during the first file.
    const before = await rendererTicks();
    await transfer(receiver, sender, join(dir, "warm.bin"), 60_000);
    const after = await rendererTicks();
    const renderer = [...after].sort(([a, x], [b, y]) =>
      (y - (before.get(b) ?? 0)) - (x - (before.get(a) ?? 0))
    )[0]![0];

    await peakMiB(renderer, true);
    const small = await transfer(receiver, sender, join(dir, "small.bin"), 60_000);
    const smallPeak = await peakMiB(renderer);
    await peakMiB(renderer, true);
    const large = await transfer(receiver, sender, join(dir, "large.bin"), 3_600_000);
    const largePeak = await peakMiB(renderer);
    const load = (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];
    console.log(
      `page → page, ${target} target, load ${load} on ${navigator.hardwareConcurrency} CPUs`,
    );
    console.log(`| file | MB/s | receiving renderer's peak RSS |`);
    console.log(`|---|---|---|`);
    for (
      const [mib, run, peak] of [[SMALL_MIB, small, smallPeak], [
        fileMib,
        large,
        largePeak,
      ]] as const
    ) {
      console.log(
        `| ${mib} MiB | ${(mib * MIB / 1e6 / run.seconds).toFixed(1)} | ${peak.toFixed(1)} MiB |`,
      );
    }
    console.log(`where: ${large.where}; status: ${large.status}`);
  } finally {
    await sending.close().catch(() => {});
    await receiving.close().catch(() => {});
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
