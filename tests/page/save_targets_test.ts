import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CHROMIUM,
  launchBrowser,
  SKIP_BROWSER_TESTS,
  type TestBrowser,
  waitForState,
  waitForText,
} from "../support/browser.ts";
import type { Page } from "../support/browser_deps.ts";
import { testServer } from "../support/helpers.ts";
import { sha256Hex } from "../../lib/shared/sha256.js";

const MIB = 1024 * 1024;
/** The module under test, as the page loads it (a variable: Deno must not resolve it). */
const MODULE = "/page/save_targets.js";
/** The private storage folder of files being received (`INCOMING_FOLDER`). */
const INCOMING = "switchboard-incoming";

/** The page's world, as code passed to `page.evaluate()` sees it: the DOM, unchecked here. */
// deno-lint-ignore no-explicit-any
type PageWorld = any;

function browserTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  // Chromium and werift keep timers and sockets of their own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

/** Writes `size` random bytes to `path`, and returns their SHA-256. */
async function randomFile(path: string, size: number): Promise<string> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  await Deno.writeFile(path, data);
  return sha256Hex(data);
}

/** The row of the received file `name`. */
function row(name: string): string {
  return `#transfers li[data-direction="receive"][data-name="${name}"]`;
}

/** The names in a folder of the page's private storage (none if it is missing). */
function privateFiles(page: Page, folder: string): Promise<Record<string, number>> {
  return page.evaluate(async (name) => {
    const root = await (globalThis as PageWorld).navigator.storage.getDirectory();
    const found: Record<string, number> = {};
    let dir: PageWorld;
    try {
      dir = await root.getDirectoryHandle(name);
    } catch {
      return found;
    }
    for await (const [entry, handle] of dir.entries()) {
      if (handle.kind !== "file") {
        found[entry] = -1;
        continue;
      }
      // The page may be clearing this folder while it is listed: a file gone meanwhile is gone.
      try {
        found[entry] = (await handle.getFile()).size;
      } catch (error) {
        if ((error as Error).name !== "NotFoundError") throw error;
      }
    }
    return found;
  }, folder);
}

/** The SHA-256 of a file of the page's private storage, read there. */
function privateFileSha256(page: Page, folder: string, name: string): Promise<string> {
  return page.evaluate(async ([folder, name]) => {
    const root = await (globalThis as PageWorld).navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(folder!);
    const file = await (await dir.getFileHandle(name!)).getFile();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  }, [folder, name]);
}

// In a headless browser nobody answers a save dialog. The page's own
// `showSaveFilePicker` is replaced by one that answers as a person would:
// with a REAL file handle, from a folder `picked` of the private storage, so
// the page's real `createWritable()` path runs. `globalThis.placeChosen`
// false answers as a person who closes the dialog.
const CHOOSING_PERSON = `{
  globalThis.placeChosen = true;
  globalThis.showSaveFilePicker = async ({ suggestedName }) => {
    if (!globalThis.placeChosen) throw new DOMException("The user aborted a request.", "AbortError");
    const root = await navigator.storage.getDirectory();
    const picked = await root.getDirectoryHandle("picked", { create: true });
    return await picked.getFileHandle(suggestedName, { create: true });
  };
  globalThis.showDirectoryPicker = async () => {
    if (!globalThis.placeChosen) throw new DOMException("The user aborted a request.", "AbortError");
    const root = await navigator.storage.getDirectory();
    return await root.getDirectoryHandle("folder", { create: true });
  };
}`;

// A sender that lies: bytes of a file channel are changed after the
// sender's digest has read them, as a broken link or a meddler would.
// `globalThis.corruptFileBytes` set to an offset flips the byte there.
const CORRUPTING_SENDER = `{
  const send = RTCDataChannel.prototype.send;
  const sent = new WeakMap();
  RTCDataChannel.prototype.send = function (data) {
    const at = globalThis.corruptFileBytes;
    if (typeof at === "number" && this.label.startsWith("file:") && typeof data !== "string") {
      const before = sent.get(this) ?? 0;
      const bytes = new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength);
      sent.set(this, before + bytes.length);
      if (at >= before && at < before + bytes.length) {
        const copy = bytes.slice();
        copy[at - before] ^= 0xff;
        return send.call(this, copy);
      }
    }
    return send.call(this, data);
  };
}`;

/** Ids of the processes below `pid`, and `pid`. */
async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...parents.get(ppid) ?? [], Number(entry.name)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) found.push(...parents.get(found[i]!) ?? []);
  return found;
}

/** CPU ticks a process has used. */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** The Chromium browser processes this test process started. */
async function chromiumProcesses(): Promise<Set<number>> {
  const found = new Set<number>();
  for (const pid of (await processTree(Deno.pid)).slice(1)) {
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
    if (cmdline.startsWith(`${CHROMIUM}\0`) && !cmdline.includes("--type=")) found.add(pid);
  }
  return found;
}

/** Launches a browser, and returns it with the id of its main process. */
async function launchWatched(): Promise<{ browser: TestBrowser; pid: number }> {
  const before = await chromiumProcesses();
  const browser = await launchBrowser();
  const pid = [...await chromiumProcesses()].find((pid) => !before.has(pid));
  assert.ok(pid !== undefined, "the browser's process is found");
  return { browser, pid };
}

/** CPU ticks of each renderer process of the browser whose main process is `browserPid`. */
async function rendererTicks(browserPid: number): Promise<Map<number, number>> {
  const ticks = new Map<number, number>();
  for (const pid of await processTree(browserPid)) {
    try {
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
      if (cmdline.includes("--type=renderer")) ticks.set(pid, await cpuTicks(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks;
}

/**
 * The renderer process of a browser that worked most while `work` ran: the
 * page's, when `work` is a transfer (the first blank page's and a spare
 * renderer idle).
 */
async function rendererDoing(browserPid: number, work: () => Promise<void>): Promise<number> {
  const before = await rendererTicks(browserPid);
  await work();
  let best = { pid: 0, ticks: -1 };
  for (const [pid, ticks] of await rendererTicks(browserPid)) {
    const used = ticks - (before.get(pid) ?? 0);
    if (used > best.ticks) best = { pid, ticks: used };
  }
  assert.ok(best.pid > 0, "the page's renderer process is found");
  return best.pid;
}

/** A `kB` field of `/proc/<pid>/status`, in MiB. */
async function statusMiB(pid: number, field: "VmHWM" | "VmRSS"): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1]);
  assert.ok(kb > 0, `${field} of ${pid}`);
  return kb / 1024;
}

/**
 * Collects the page's garbage every `ms` until disposed: each received
 * message is an ArrayBuffer of its own, and V8 may leave tens of MB of
 * dead ones before it collects them by itself. Peaks then show what the page
 * holds, not how late its collector runs.
 */
async function collectingGarbage(page: Page, ms: number): Promise<AsyncDisposable> {
  const cdp = await page.context().newCDPSession(page);
  let collecting: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    collecting = collecting.then(() => cdp.send("HeapProfiler.collectGarbage")).catch(() => {});
  }, ms);
  return {
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      await collecting;
      await cdp.detach();
    },
  };
}

/** Restarts the peak resident size of `pid` from its present one (Linux's clear_refs). */
async function resetPeak(pid: number): Promise<void> {
  await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5");
}

/** Two pages paired by link, the channel open: the first receives, the second sends. */
async function pairedPages(
  port: number,
  receiving: TestBrowser,
  sending = receiving,
): Promise<[Page, Page]> {
  const receiver = await receiving.open(`http://127.0.0.1:${port}/`);
  await waitForState(receiver, "ready");
  const link = await receiver.inputValue("#share-link");
  const sender = await sending.open(link);
  await waitForState(receiver, "pairing");
  await receiver.click("#requests button:text('Accept')");
  await waitForState(receiver, "open");
  await waitForState(sender, "open");
  return [receiver, sender];
}

/** `sender` offers the file at `path`; `receiver` accepts it. */
async function offerAndAccept(receiver: Page, sender: Page, path: string): Promise<void> {
  const name = path.split("/").at(-1) ?? "";
  await sender.setInputFiles("#file-input", path);
  await receiver.click(`${row(name)}[data-state="offered"] button:text('Accept')`);
}

/** `sender` offers the file at `path`; `receiver` accepts it and waits until it is verified. */
async function transfer(receiver: Page, sender: Page, path: string): Promise<void> {
  await offerAndAccept(receiver, sender, path);
  const name = path.split("/").at(-1) ?? "";
  await receiver.waitForSelector(`${row(name)}[data-state="done"]`, { timeout: 40_000 });
}

browserTest(
  "a page writes a file it receives to disk as it arrives, shows it verified, and deletes it when the SHA-256 does not match",
  async (t) => {
    await using server = testServer();
    // The sender is a browser of its own: its renderer is not the one measured.
    const { browser, pid } = await launchWatched();
    await using _browser = browser;
    await browser.context.addInitScript({ content: CHOOSING_PERSON });
    await using sending = await launchBrowser();
    await sending.context.addInitScript({ content: CORRUPTING_SENDER });
    const [receiver, sender] = await pairedPages(server.port, browser, sending);
    const dir = await Deno.makeTempDir({ prefix: "switchboard-save-targets-" });
    try {
      await t.step(
        "without save dialogs, 64 MiB go to the private storage with the renderer's peak memory as for 8 MiB",
        async () => {
          // As in a browser without the File System Access API (Firefox, Safari).
          await receiver.evaluate(`{
            globalThis.choosingPerson = globalThis.showSaveFilePicker;
            delete globalThis.showSaveFilePicker;
            delete Window.prototype.showSaveFilePicker;
          }`);
          await randomFile(join(dir, "warm.bin"), MIB);
          await randomFile(join(dir, "small.bin"), 8 * MIB);
          const sha256 = await randomFile(join(dir, "big.bin"), 64 * MIB);

          // Warmed by a first transfer, the page's renderer is found by the work it did.
          const renderer = await rendererDoing(
            pid,
            () => transfer(receiver, sender, join(dir, "warm.bin")),
          );
          await using _collector = await collectingGarbage(receiver, 250);
          await resetPeak(renderer);
          await transfer(receiver, sender, join(dir, "small.bin"));
          const peakSmall = await statusMiB(renderer, "VmHWM");

          await resetPeak(renderer);
          await offerAndAccept(receiver, sender, join(dir, "big.bin"));
          // Where the bytes go is said while they arrive.
          await waitForText(
            receiver,
            `${row("big.bin")} .file-saved`,
            /^Writing to this browser's storage; a Save link follows once verified$/,
          );
          await receiver.waitForSelector(`${row("big.bin")}[data-state="done"]`, {
            timeout: 40_000,
          });
          const peakBig = await statusMiB(renderer, "VmHWM");
          console.log(
            `renderer peak: ${peakSmall.toFixed(1)} MiB (8 MiB), ${
              peakBig.toFixed(1)
            } MiB (64 MiB)`,
          );
          // Held in memory, 64 MiB would raise the peak by 56 MiB or more.
          assert.ok(
            peakBig - peakSmall < 8,
            `the renderer's peak grew from ${peakSmall.toFixed(1)} to ${peakBig.toFixed(1)} MiB`,
          );

          // Verified, and offered from the file on disk.
          assert.match(
            (await receiver.textContent(`${row("big.bin")} .file-status`)) ?? "",
            /SHA-256 verified/,
          );
          const stored = await privateFiles(receiver, INCOMING);
          const entry = Object.entries(stored).find(([, size]) => size === 64 * MIB)?.[0] ?? "";
          assert.ok(entry, `a 64 MiB file is in the private storage: ${JSON.stringify(stored)}`);
          assert.equal(await privateFileSha256(receiver, INCOMING, entry), sha256);
          const [saved] = await Promise.all([
            receiver.waitForEvent("download"),
            receiver.click(`${row("big.bin")} a[download]`),
          ]);
          assert.equal(saved.suggestedFilename(), "big.bin");
          assert.equal(sha256Hex(await Deno.readFile(await saved.path())), sha256);
          await receiver.evaluate("globalThis.showSaveFilePicker = globalThis.choosingPerson");
        },
      );

      await t.step(
        "64 MiB arrive verified in the chosen file, written as they arrive",
        async () => {
          const path = join(dir, "chosen.bin");
          const sha256 = await randomFile(path, 64 * MIB);
          await offerAndAccept(receiver, sender, path);
          const saved = `${row("chosen.bin")} .file-saved`;
          await waitForText(receiver, saved, /^Writing to chosen\.bin, where you chose$/);
          // Written to the chosen file's swap file while the bytes arrive.
          await receiver.waitForFunction(
            ([selector, bytes]) =>
              Number((globalThis as PageWorld).document.querySelector(selector)?.value) > bytes!,
            [`${row("chosen.bin")} progress`, 8 * MIB] as const,
            { polling: 50, timeout: 20_000 },
          );
          const during = await privateFiles(receiver, "picked");
          assert.ok(
            "chosen.bin.crswap" in during,
            `written as it arrives: ${JSON.stringify(during)}`,
          );
          await receiver.waitForSelector(`${row("chosen.bin")}[data-state="done"]`, {
            timeout: 40_000,
          });
          assert.match(
            (await receiver.textContent(`${row("chosen.bin")} .file-status`)) ?? "",
            /SHA-256 verified/,
          );
          assert.equal(await receiver.textContent(saved), "Saved as chosen.bin, where you chose");
          assert.deepEqual(await privateFiles(receiver, "picked"), { "chosen.bin": 64 * MIB });
          assert.equal(await privateFileSha256(receiver, "picked", "chosen.bin"), sha256);
        },
      );

      await t.step("a chosen file whose SHA-256 does not match is deleted", async () => {
        const path = join(dir, "damaged.bin");
        await randomFile(path, 3 * MIB);
        await sender.evaluate("globalThis.corruptFileBytes = 2 * 1024 * 1024 + 5");
        await offerAndAccept(receiver, sender, path);
        await receiver.waitForSelector(`${row("damaged.bin")}[data-state="stopped"]`);
        assert.equal(
          await receiver.textContent(`${row("damaged.bin")} .file-status`),
          "Failed: SHA-256 mismatch: the file was damaged on the way",
        );
        assert.equal(
          await receiver.textContent(`${row("damaged.bin")} .file-saved`),
          "Nothing kept: what was written is deleted",
        );
        assert.deepEqual(await privateFiles(receiver, "picked"), { "chosen.bin": 64 * MIB });
      });

      await t.step(
        "with the dialog closed, the private storage takes the file, and deletes it when the SHA-256 does not match",
        async () => {
          await receiver.evaluate("globalThis.placeChosen = false");
          const before = await privateFiles(receiver, INCOMING);
          const path = join(dir, "unplaced.bin");
          await randomFile(path, 3 * MIB);
          await offerAndAccept(receiver, sender, path);
          await waitForText(
            receiver,
            `${row("unplaced.bin")} .file-saved`,
            /^No place chosen: writing to this browser's storage; a Save link follows once verified$/,
          );
          await receiver.waitForSelector(`${row("unplaced.bin")}[data-state="stopped"]`);
          assert.equal(
            await receiver.textContent(`${row("unplaced.bin")} .file-saved`),
            "Nothing kept: what was written is deleted",
          );
          assert.deepEqual(await privateFiles(receiver, INCOMING), before);
        },
      );
      assert.deepEqual([...browser.errors, ...sending.errors], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

browserTest(
  "save targets for sets of files, stale files and small browsers, in Chromium",
  async (t) => {
    await using server = testServer();
    await using browser = await launchBrowser();
    await browser.context.addInitScript({ content: CHOOSING_PERSON });
    const page = await browser.open(`http://127.0.0.1:${server.port}/`);
    await waitForState(page, "ready");

    /** The names in the chosen folder, `path: size` for files and `path/` for folders. */
    const chosenFolder = () =>
      page.evaluate(async () => {
        const root = await (globalThis as PageWorld).navigator.storage.getDirectory();
        const found: string[] = [];
        const walk = async (dir: PageWorld, prefix: string) => {
          for await (const [name, handle] of dir.entries()) {
            if (handle.kind === "directory") {
              found.push(`${prefix}${name}/`);
              await walk(handle, `${prefix}${name}/`);
            } else found.push(`${prefix}${name}: ${(await handle.getFile()).size}`);
          }
        };
        await walk(await root.getDirectoryHandle("folder", { create: true }), "");
        return found.sort();
      });

    await t.step(
      "folderFileSink() writes a file at its path in the chosen folder, making its folders",
      async () => {
        const result = await page.evaluate(async (url) => {
          const targets = await import(url);
          const root = await targets.askForFolder();
          const sink = await targets.folderFileSink(root, "photos/2024/a.txt");
          const where = sink.where;
          await sink.write(new TextEncoder().encode("hel"));
          await sink.write(new TextEncoder().encode("lo"));
          await sink.commit();
          return { path: sink.path, where, outcome: sink.outcome };
        }, MODULE);
        assert.deepEqual(result, {
          path: "photos/2024/a.txt",
          where: "Writing to photos/2024/a.txt in folder",
          outcome: "Saved as photos/2024/a.txt in folder",
        });
        assert.deepEqual(await chosenFolder(), ["photos/", "photos/2024/", "photos/2024/a.txt: 5"]);
      },
    );

    await t.step(
      "folderFileSink() keeps a taken name, and abort deletes only the file it made",
      async () => {
        const result = await page.evaluate(async (url) => {
          const targets = await import(url);
          const root = await targets.askForFolder();
          const sink = await targets.folderFileSink(root, "photos/2024/a.txt");
          await sink.write(new Uint8Array(3 * 1024 * 1024));
          await sink.abort();
          return { path: sink.path, outcome: sink.outcome };
        }, MODULE);
        assert.deepEqual(result, {
          path: "photos/2024/a (1).txt",
          outcome: "Nothing kept: what was written is deleted",
        });
        assert.deepEqual(await chosenFolder(), ["photos/", "photos/2024/", "photos/2024/a.txt: 5"]);
      },
    );

    await t.step("makeFolder() makes an empty folder and those above it", async () => {
      await page.evaluate(async (url) => {
        const targets = await import(url);
        await targets.makeFolder(await targets.askForFolder(), "empty/inner");
      }, MODULE);
      assert.deepEqual(await chosenFolder(), [
        "empty/",
        "empty/inner/",
        "photos/",
        "photos/2024/",
        "photos/2024/a.txt: 5",
      ]);
    });

    await t.step(
      "folderFileSink() and makeFolder() refuse paths that leave the folder or name nothing",
      async () => {
        const paths = [
          "../x",
          "a/../../x",
          "/etc/passwd",
          "a//b",
          "a/./b",
          "C:/x",
          "a\\b",
          "",
          "a/",
        ];
        const refused = await page.evaluate(async ([url, paths]) => {
          const targets = await import(url as string);
          const root = await targets.askForFolder();
          const errors: string[] = [];
          for (const path of paths as string[]) {
            for (const make of [targets.folderFileSink, targets.makeFolder]) {
              errors.push(
                await make(root, path).then(
                  () => "made",
                  (error: Error) => `${error.name}: ${error.message}`,
                ),
              );
            }
          }
          return errors;
        }, [MODULE, paths]);
        // Refused before the browser is asked: the message is the page's own.
        assert.deepEqual(
          refused,
          paths.flatMap((path) =>
            Array(2).fill(
              `TypeError: not a relative path inside the folder: ${JSON.stringify(path)}`,
            )
          ),
        );
        assert.equal((await chosenFolder()).length, 5, "nothing was made");
      },
    );

    await t.step(
      "askForFolder() and askWhereToSave() give undefined for a closed dialog",
      async () => {
        const answers = await page.evaluate(async (url) => {
          const targets = await import(url);
          (globalThis as PageWorld).placeChosen = false;
          const answers = [await targets.askForFolder(), await targets.askWhereToSave("a.txt")];
          (globalThis as PageWorld).placeChosen = true;
          return answers.map(String);
        }, MODULE);
        assert.deepEqual(answers, ["undefined", "undefined"]);
      },
    );

    await t.step(
      "clearStaleFiles() deletes what closed pages left, and no open page's files",
      async () => {
        const result = await page.evaluate(async ([url, folderName]) => {
          const world = globalThis as PageWorld;
          const targets = await import(url!);
          // The page's own clearing at its start is done: only this call deletes here.
          await targets.clearLeftFiles();
          const root = await world.navigator.storage.getDirectory();
          const folder = await root.getDirectoryHandle(folderName!, { create: true });
          for (const name of ["closed.1", "closed.1.crswap", "open.1"]) {
            await folder.getFileHandle(name, { create: true });
          }
          // Held as an open page holds its own.
          await new Promise((held) =>
            world.navigator.locks.request(`switchboard-incoming:open`, () => {
              held(undefined);
              return new Promise(() => {});
            })
          );
          const deleted = await targets.clearStaleFiles(folder);
          const left: string[] = [];
          for await (const name of folder.keys()) left.push(name);
          return { deleted: deleted.sort(), left };
        }, [MODULE, INCOMING]);
        assert.deepEqual(result, { deleted: ["closed.1", "closed.1.crswap"], left: ["open.1"] });
      },
    );

    await t.step("a page that opens clears the files a closed page left", async () => {
      await page.evaluate(async (folderName) => {
        const root = await (globalThis as PageWorld).navigator.storage.getDirectory();
        const folder = await root.getDirectoryHandle(folderName, { create: true });
        for (const name of ["crashed.1", "crashed.1.crswap"]) {
          await folder.getFileHandle(name, { create: true });
        }
      }, INCOMING);
      assert.ok("crashed.1" in await privateFiles(page, INCOMING));
      // "other.1" is another open page's: it holds the lock, as a page does while open.
      const other = await browser.open(`http://127.0.0.1:${server.port}/`);
      await other.evaluate(async (folderName) => {
        const world = globalThis as PageWorld;
        const root = await world.navigator.storage.getDirectory();
        const folder = await root.getDirectoryHandle(folderName);
        // The lock first: a page's own clearing at its start may be under way.
        await new Promise((held) =>
          world.navigator.locks.request("switchboard-incoming:other", () => {
            held(undefined);
            return new Promise(() => {});
          })
        );
        await folder.getFileHandle("other.1", { create: true });
      }, INCOMING);
      // Reloaded, the page is a new page: the lock it held for "open.1" is gone.
      await page.reload();
      await waitForState(page, "ready");
      const deadline = Date.now() + 10_000;
      let left = await privateFiles(page, INCOMING);
      while (
        Object.keys(left).some((name) => name.startsWith("crashed.")) && Date.now() < deadline
      ) {
        left = await privateFiles(page, INCOMING);
      }
      assert.deepEqual(left, { "other.1": 0 }, "the open page's file is kept");
    });

    await t.step(
      "a page with no file storage keeps small files in memory and declines larger ones",
      async () => {
        const result = await page.evaluate(async (url) => {
          const world = globalThis as PageWorld;
          const targets = await import(url);
          const getDirectory = world.StorageManager.prototype.getDirectory;
          delete world.StorageManager.prototype.getDirectory;
          try {
            const small = await targets.saveSinkFor({ name: "a.txt", size: 10 }, {});
            const large = await targets.saveSinkFor(
              { name: "b.bin", size: targets.MEMORY_LIMIT_BYTES + 1 },
              {},
            ).then(() => "taken", (error: Error) => `${error.name}: ${error.message}`);
            return { kind: small.kind, best: targets.bestSaveKind({}), where: small.where, large };
          } finally {
            world.StorageManager.prototype.getDirectory = getDirectory;
          }
        }, MODULE);
        assert.deepEqual(result, {
          kind: "memory",
          best: "memory",
          where: "Kept in memory (this browser has no file storage: up to 100 MB)",
          large: "RangeError: too large for this browser, which can keep only 100 MB in memory",
        });
      },
    );
    assert.deepEqual(browser.errors, []);
  },
);
