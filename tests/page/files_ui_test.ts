import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import {
  launchBrowser,
  SKIP_BROWSER_TESTS,
  waitForState,
  waitForText,
} from "../support/browser.ts";
import { Child, testServer } from "../support/helpers.ts";
import { sha256Hex } from "../../lib/shared/sha256.js";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;
const CODE_LINE = /^\*\*\* Verification code with \S+: (\d{3} \d{3}) /;

function browserTest(name: string, fn: () => Promise<void>): void {
  // Chromium and werift keep timers and sockets of their own past a test.
  Deno.test({ name, fn, ignore: SKIP_BROWSER_TESTS, sanitizeOps: false, sanitizeResources: false });
}

/** A CLI peer that may read and write its own temporary folder. */
async function spawnPeer(
  ...args: string[]
): Promise<{ peer: Child; dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-peer-files-" });
  const peer = new Child(
    [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-sys=networkInterfaces",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      "--no-prompt",
      join(new URL("../..", import.meta.url).pathname, "client.ts"),
      "--webrtc",
      ...args,
    ],
    dir,
    true,
  );
  return {
    peer,
    dir,
    async [Symbol.asyncDispose]() {
      await peer[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function randomBytes(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  return data;
}

browserTest(
  "a page and a CLI peer show the same verification code and send files both ways",
  async () => {
    await using t = testServer();
    await using p = await spawnPeer("--url", t.url, "--accept", "--accept-files");
    const { peer, dir } = p;
    const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${t.port}/?peer=${peerId}`);
    await waitForState(page, "open");
    const [, cliCode] = await peer.waitForLine(CODE_LINE, "stdout", 20_000);
    await page.waitForFunction(
      `/^\\d{3} \\d{3}$/.test(document.getElementById("verify-code")?.textContent ?? "")`,
    );
    assert.equal(await page.textContent("#verify-code"), cliCode);
    assert.equal(await page.isVisible("#verification"), true, "the code is labelled");

    // Browser → CLI: the page offers, the peer accepts by itself.
    const upload = randomBytes(3 * 1024 * 1024 + 17);
    await page.setInputFiles("#file-input", {
      name: "from-page.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.from(upload),
    });
    await peer.waitForLine(
      /^\*\*\* Received from-page\.bin \(file 1\): .*SHA-256 verified/,
      "stdout",
      60_000,
    );
    assert.equal(sha256Hex(await Deno.readFile(join(dir, "from-page.bin"))), sha256Hex(upload));
    await page.waitForSelector('#transfers li[data-direction="send"][data-state="done"]');
    assert.match(
      (await page.textContent('#transfers li[data-direction="send"] .file-status')) ?? "",
      /SHA-256 verified/,
    );

    // CLI → browser: the page accepts, then saves through the download link.
    const download = randomBytes(2 * 1024 * 1024 + 5);
    await Deno.writeFile(join(dir, "to-page.bin"), download);
    await peer.type(`sendfile ${join(dir, "to-page.bin")}`);
    const offer = '#transfers li[data-direction="receive"][data-name="to-page.bin"]';
    await page.click(`${offer}[data-state="offered"] button:text('Accept')`);
    await page.waitForSelector(`${offer}[data-state="done"]`, { timeout: 60_000 });
    await peer.waitForLine(
      /^\*\*\* Sent to-page\.bin \(file 2\): .*SHA-256 verified by /,
      "stdout",
    );
    const [saved] = await Promise.all([
      page.waitForEvent("download"),
      page.click(`${offer} a[download]`),
    ]);
    assert.equal(saved.suggestedFilename(), "to-page.bin");
    const path = await saved.path();
    assert.equal(sha256Hex(await Deno.readFile(path)), sha256Hex(download));
    assert.deepEqual(browser.errors, []);
  },
);

browserTest(
  "a page announces a CLI peer's offer, shows names escaped both ways, rejects one and cancels one mid-way",
  async () => {
    await using t = testServer();
    await using p = await spawnPeer("--url", t.url, "--accept");
    const { peer, dir } = p;
    const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${t.port}/?peer=${peerId}`);
    await waitForState(page, "open");
    await peer.waitForLine(CODE_LINE, "stdout", 20_000);
    await Deno.writeFile(join(dir, "big.bin"), randomBytes(48 * 1024 * 1024));

    // A right-to-left override shows "\u202Egnp.exe" as "exe.png" unless escaped.
    const hostile = "\u202Egnp.exe";
    await Deno.writeTextFile(join(dir, hostile), "hello");
    await peer.type(`sendfile ${join(dir, hostile)}`);
    // Announced where the user looks, with size and kind, and the choice right there.
    const status = await waitForText(page, "#status", /offers a file/);
    assert.equal(
      status,
      `${peerId.slice(0, 8)}… offers a file: \\u202egnp.exe (5 B, Windows program)`,
    );
    const announced = "#messages li.offer";
    assert.match(
      (await page.textContent(announced)) ?? "",
      /offers \\u202egnp\.exe \(5 B, Windows program\)AcceptReject$/,
    );
    assert.equal(await page.getAttribute(`${announced} button:text('Accept')`, "class"), null);
    assert.equal(
      await page.getAttribute(`${announced} button:text('Reject')`, "class"),
      "secondary",
    );
    assert.equal(
      await page.textContent('#transfers li[data-state="offered"] .file-name'),
      "↓ \\u202egnp.exe (5 B)",
    );
    assert.doesNotMatch(await page.evaluate("document.body.innerText") as string, /\u202e/);
    await page.click(`${announced} button:text('Reject')`);
    await peer.waitForLine(/^\*\*\* \S+ declined \\u202egnp\.exe \(file 1\) \*\*\*$/, "stdout");
    await waitForText(page, announced, /declined$/);
    await waitForText(page, "#status", /^Peer-to-peer with /);

    // The other way: the terminal's consent prompt shows the name escaped too.
    await page.setInputFiles("#file-input", {
      name: hostile,
      mimeType: "image/png",
      buffer: Buffer.from("hello"),
    });
    await peer.waitForLine(
      /^\*\*\* \S+ offers \\u202egnp\.exe \(5 B, file \d+\): accept-file \/ reject-file \*\*\*$/,
      "stdout",
    );
    await peer.type("reject-file");
    await page.waitForSelector('#transfers li[data-direction="send"][data-state="rejected"]');

    await peer.type(`sendfile ${join(dir, "big.bin")}`);
    await page.click(`#transfers li[data-state="offered"] button:text('Accept')`);
    await peer.waitForLine(/^big\.bin ↑ /, "stderr", 20_000);
    await page.click(`#transfers li[data-state="receiving"] button:text('Cancel')`);
    await peer.waitForLine(
      /^\*\*\* \S+ cancelled big\.bin \(file \d+\): cancelled by the receiver \*\*\*$/,
      "stdout",
    );
    await page.waitForSelector('#transfers li[data-state="stopped"]');
    assert.deepEqual(browser.errors, []);
  },
);

/** Writes a small tree under `dir/album` and returns each file's relative path and SHA-256. */
async function albumTree(dir: string): Promise<string[]> {
  const files: Record<string, Uint8Array> = {
    "album/big.bin": randomBytes(1024 * 1024 + 3),
    "album/sub/deeper/c.txt": new TextEncoder().encode("deep"),
    "album/sub/zero.txt": new Uint8Array(0),
    ...Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`album/many/${i}.txt`, randomBytes(700 + i)]),
    ),
  };
  for (const [path, data] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeFile(join(dir, path), data);
  }
  return Object.entries(files).map(([path, data]) => `${path} ${sha256Hex(data)}`).sort();
}

/** Every file under `dir`, relative, with its SHA-256. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) found.push(...await filesUnder(dir, relative));
    else found.push(`${relative} ${sha256Hex(await Deno.readFile(join(dir, relative)))}`);
  }
  return found.sort();
}

browserTest(
  "a folder picked in the page goes to a CLI peer as one set, its tree recreated and every file verified",
  async () => {
    await using t = testServer();
    await using p = await spawnPeer("--url", t.url, "--accept", "--accept-files");
    const { peer, dir } = p;
    const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
    const source = await Deno.makeTempDir({ prefix: "switchboard-page-folder-" });
    try {
      const tree = await albumTree(source);
      await using browser = await launchBrowser();
      const page = await browser.open(`http://127.0.0.1:${t.port}/?peer=${peerId}`);
      await waitForState(page, "open");
      await page.setInputFiles("#folder-input", join(source, "album"));
      await peer.waitForLine(
        /^\*\*\* \S+ offers album \(43 files, 1\.\d MB, file 1\): accepting \(--accept-files\) \*\*\*$/,
        "stdout",
        20_000,
      );
      await peer.waitForLine(
        /^\*\*\* Received album \(file 1\): .*, every SHA-256 verified; saved in album \*\*\*$/,
        "stdout",
        60_000,
      );
      assert.deepEqual(await filesUnder(dir), tree);
      const sent = '#transfers li[data-direction="send"]';
      await page.waitForSelector(`${sent}[data-state="done"]`);
      assert.match(
        (await page.textContent(`${sent} .file-status`)) ?? "",
        /every SHA-256 verified$/,
      );
      assert.deepEqual(browser.errors, []);
    } finally {
      await Deno.remove(source, { recursive: true });
    }
  },
);

/** Every file in the page's private storage under `folder`, relative, with its SHA-256. */
const PRIVATE_TREE = `async (folder) => {
  const found = [];
  const walk = async (dir, prefix) => {
    for await (const [name, handle] of dir.entries()) {
      const path = prefix + name;
      if (handle.kind === "directory") await walk(handle, path + "/");
      else {
        const bytes = await (await handle.getFile()).arrayBuffer();
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        found.push(path + " " + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
      }
    }
  };
  const root = await navigator.storage.getDirectory();
  await walk(await root.getDirectoryHandle(folder), "");
  return found.sort();
}`;

browserTest(
  "a CLI peer's set arrives in the page into the folder the user chooses, in a new folder beside one of the same name, or as a Save link per file",
  async () => {
    await using t = testServer();
    await using p = await spawnPeer("--url", t.url, "--accept");
    const { peer, dir } = p;
    const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
    const tree = await albumTree(dir);
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${t.port}/?peer=${peerId}`);
    await waitForState(page, "open");
    await peer.waitForLine(CODE_LINE, "stdout", 20_000);

    // No person answers a folder dialog in headless Chromium: it is replaced
    // by one that hands over a real folder of the page's private storage, so
    // the page's own writing into a chosen folder runs as it would.
    await page.evaluate(`(async () => {
      const root = await navigator.storage.getDirectory();
      const chosen = await root.getDirectoryHandle("chosen", { create: true });
      await chosen.getDirectoryHandle("album", { create: true });
      window.showDirectoryPicker = async () => chosen;
    })()`);
    await peer.type(`sendfile ${join(dir, "album")}`);
    const offer = '#transfers li[data-direction="receive"][data-name="album"]';
    await page.waitForSelector(`${offer}[data-state="offered"]`);
    assert.match(
      (await page.textContent(`${offer} .file-name`)) ?? "",
      /album \(43 files, 1\.\d MB\)/,
    );
    assert.equal(await page.locator(`${offer} details li`).count(), 10, "the first ten are listed");
    await page.click(`${offer}[data-state="offered"] button:text('Accept')`);
    await page.waitForSelector(`${offer}[data-state="done"]`, { timeout: 60_000 });
    assert.match(
      (await page.textContent(`${offer} .file-status`)) ?? "",
      /every SHA-256 verified$/,
    );
    assert.equal(await page.textContent(`${offer} .file-saved`), "Saved in album (1) in chosen");
    const inChosen = await page.evaluate(`(${PRIVATE_TREE})("chosen")`) as string[];
    assert.deepEqual(inChosen, tree.map((line) => line.replace(/^album/, "album (1)")));
    await peer.waitForLine(/^\*\*\* Sent album \(file 1\): .*every SHA-256 verified by /, "stdout");

    // Without a folder: each file is kept in the page's storage and offered as a download.
    await page.evaluate(`window.showDirectoryPicker = undefined`);
    await peer.type(`sendfile ${join(dir, "album", "sub")}`);
    const second = '#transfers li[data-direction="receive"][data-name="sub"]';
    await page.click(`${second}[data-state="offered"] button:text('Accept')`);
    await page.waitForSelector(`${second}[data-state="done"]`, { timeout: 60_000 });
    const links = page.locator(`${second} a[download]`);
    assert.deepEqual(
      await links.evaluateAll((all) => all.map((a) => a.getAttribute("download")).sort()),
      ["sub_deeper_c.txt", "sub_zero.txt"],
    );
    const [saved] = await Promise.all([page.waitForEvent("download"), links.first().click()]);
    assert.equal(await Deno.readTextFile(await saved.path()), "deep");
    assert.deepEqual(browser.errors, []);
  },
);
