import assert from "node:assert/strict";
import { join } from "node:path";
import { formatBytes, MAX_INCOMING_FILES } from "../../../lib/shared/file_protocol.js";
import { Child, ROOT, spawnPeerWith, testServer } from "../../support/helpers.ts";
import { eventually } from "../../support/hostile.ts";
import { hostilePeer } from "../../support/hostile_peer.ts";
import { channelPair, type MemoryChannel } from "../../support/memory_transfer.ts";
import { FileTransfers } from "../../../lib/cli/files/transfers.ts";
import type { DataChannelLike, PeerConnectionLike } from "../../../lib/shared/rtc_types.js";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

// werift leaves timers and sockets behind in the peer processes, never here:
// these tests only spawn processes and talk to them.

/**
 * A WebRTC peer in `cwd` with the permissions of `deno task peer` plus
 * `extra` (file permissions).
 */
function spawnPeer(cwd: string, permissions: string[], ...args: string[]): Child {
  return spawnPeerWith({ cwd, permissions }, ...args);
}

interface Pair extends AsyncDisposable {
  sender: Child;
  senderId: string;
  receiver: Child;
  receiverId: string;
  /** The sender's folder (the file to send lives here). */
  from: string;
  /** The receiver's download folder. */
  to: string;
}

/**
 * Two peers with an open data channel: the receiver may write into its own
 * temporary folder, the sender may read its own.
 */
async function pairedPeers(
  url: string,
  options: { receiverPermissions?: string[]; receiverArgs?: string[]; both?: string[] } = {},
): Promise<Pair> {
  const from = await Deno.makeTempDir({ prefix: "switchboard-send-" });
  const to = await Deno.makeTempDir({ prefix: "switchboard-receive-" });
  const receiver = spawnPeer(
    to,
    [
      ...(options.both ?? []),
      ...(options.receiverPermissions ?? [`--allow-read=${to}`, `--allow-write=${to}`]),
    ],
    "--url",
    url,
    "--accept",
    ...(options.receiverArgs ?? []),
  );
  const [, receiverId = ""] = await receiver.waitForLine(ID_LINE, "stdout");
  const sender = spawnPeer(
    from,
    [...(options.both ?? []), `--allow-read=${from}`],
    "--url",
    url,
    "--pair",
    receiverId,
  );
  const [, senderId = ""] = await sender.waitForLine(ID_LINE, "stdout");
  await sender.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
  await receiver.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
  return {
    sender,
    senderId,
    receiver,
    receiverId,
    from,
    to,
    async [Symbol.asyncDispose]() {
      await sender[Symbol.asyncDispose]();
      await receiver[Symbol.asyncDispose]();
      await Deno.remove(from, { recursive: true });
      await Deno.remove(to, { recursive: true });
    },
  };
}

/** Writes `size` random bytes to `path` in pieces, and returns their SHA-256 in hex. */
async function randomFile(path: string, size: number): Promise<string> {
  const file = await Deno.open(path, { write: true, createNew: true });
  const piece = new Uint8Array(1024 * 1024);
  for (let written = 0; written < size; written += piece.length) {
    // getRandomValues fills at most 64 KiB at a time.
    for (let i = 0; i < piece.length; i += 65536) {
      crypto.getRandomValues(piece.subarray(i, i + 65536));
    }
    const part = piece.subarray(0, Math.min(piece.length, size - written));
    for (let done = 0; done < part.length;) done += await file.write(part.subarray(done));
  }
  file.close();
  return await sha256OfFile(path);
}

async function sha256OfFile(path: string): Promise<string> {
  const { stdout } = await new Deno.Command("sha256sum", { args: [path] }).output();
  return new TextDecoder().decode(stdout).split(" ")[0] ?? "";
}

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

/** The peak resident set size of a live process, in bytes (Linux). */
async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
}

/** Sends a file of `size` random bytes from a new pair and returns both peaks. */
async function sendRandom(
  url: string,
  size: number,
): Promise<{ sender: number; receiver: number }> {
  // The old generation is capped: V8 otherwise lets werift's garbage (a few
  // objects per packet) pile up to some 200 MB before it collects, whatever
  // the file's size, which hides what is really kept. With 32 MB the peaks
  // of an 8 and a 64 MiB transfer were within 0-5 MB of each other. A file
  // held in memory still shows: as RSS if in buffers, as a crash if on the heap.
  await using pair = await pairedPeers(url, { both: ["--v8-flags=--max-old-space-size=32"] });
  const hash = await randomFile(join(pair.from, "random.bin"), size);
  await pair.sender.type("sendfile random.bin");
  await pair.receiver.waitForLine(
    /^\*\*\* \S+ offers random\.bin \([\d.]+ MB, file 1\): accept-file \/ reject-file \*\*\*$/,
    "stdout",
  );
  await pair.receiver.type("accept-file");
  await pair.receiver.waitForLine(
    /^\*\*\* Received random\.bin \(file 1\): [\d.]+ MB in [\d.]+ s, [\d.]+ MB\/s, SHA-256 verified; saved as .*random\.bin \*\*\*$/,
    "stdout",
    120_000,
  );
  await pair.sender.waitForLine(
    new RegExp(
      `^\\*\\*\\* Sent random\\.bin \\(file 1\\): .* SHA-256 verified by ${pair.receiverId} \\*\\*\\*$`,
    ),
    "stdout",
  );
  assert.deepEqual(await names(pair.to), ["random.bin"], "no .part file is left");
  assert.equal(await sha256OfFile(join(pair.to, "random.bin")), hash);
  return {
    sender: await peakRss(pair.sender.process.pid),
    receiver: await peakRss(pair.receiver.process.pid),
  };
}

Deno.test("a 64 MiB file goes from one CLI peer to another, verified, and memory does not grow with its size", async () => {
  await using t = testServer();
  const small = await sendRandom(t.url, 8 * 1024 * 1024);
  const large = await sendRandom(t.url, 64 * 1024 * 1024);
  // Holding the file would add at least the 56 MiB it grew by.
  for (const side of ["sender", "receiver"] as const) {
    assert.ok(
      large[side] - small[side] < 56 * 1024 * 1024,
      `${side} peak RSS: ${small[side] >> 20} MiB for 8 MiB, ${large[side] >> 20} MiB for 64 MiB`,
    );
  }
});

/** Whether a line about file 1's progress has come on stderr (plain lines, not a terminal). */
const PROGRESS = /^random\.bin [↑↓] [\d.]+ [kM]?B \/ /;

Deno.test("--max-file-bytes N takes an offer of exactly N bytes and declines N + 1 with a reason the sender sees, and reject-file declines", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverArgs: ["--max-file-bytes", "1000"] });
  await Deno.writeFile(join(pair.from, "exact.bin"), new Uint8Array(1000));
  await Deno.writeFile(join(pair.from, "over.bin"), new Uint8Array(1001));
  await Deno.writeFile(join(pair.from, "big.bin"), new Uint8Array(2000));
  await Deno.writeTextFile(join(pair.from, "small.txt"), "hello");
  await pair.sender.type("sendfile exact.bin");
  await pair.receiver.waitForLine(
    /^\*\*\* \S+ offers exact\.bin \(1\.0 kB, file 1\): accept-file \/ reject-file \*\*\*$/,
    "stdout",
  );
  await pair.receiver.type("accept-file");
  await pair.receiver.waitForLine(/^\*\*\* Received exact\.bin \(file 1\): /, "stdout");
  // One byte over: rounded, both would read "1.0 kB", so the lines give bytes.
  await pair.sender.type("sendfile over.bin");
  await pair.receiver.waitForLine(
    /^\*\*\* \S+ offered over\.bin \(1001 B\): declined, larger than --max-file-bytes 1000 B \*\*\*$/,
    "stdout",
  );
  await pair.sender.waitForLine(
    /^\*\*\* \S+ declined over\.bin \(file 2\): larger than the receiver's limit of 1000 B \*\*\*$/,
    "stdout",
  );
  await pair.sender.type("sendfile big.bin");
  await pair.receiver.waitForLine(
    /^\*\*\* \S+ offered big\.bin \(2\.0 kB\): declined, larger than --max-file-bytes 1\.0 kB \*\*\*$/,
    "stdout",
  );
  await pair.sender.waitForLine(
    /^\*\*\* \S+ declined big\.bin \(file 3\): larger than the receiver's limit of 1\.0 kB \*\*\*$/,
    "stdout",
  );
  await pair.sender.type("sendfile small.txt");
  await pair.receiver.waitForLine(/offers small\.txt \(5 B, file 4\)/, "stdout");
  await pair.receiver.type("reject-file 4");
  await pair.receiver.waitForLine(/^\*\*\* Declined small\.txt \(file 4\) \*\*\*$/, "stdout");
  await pair.sender.waitForLine(
    /^\*\*\* \S+ declined small\.txt \(file 4\) \*\*\*$/,
    "stdout",
  );
  assert.deepEqual(await names(pair.to), ["exact.bin"]);
});

Deno.test("cancel from the receiver, then from the sender, stops a transfer mid-way and leaves nothing", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverArgs: ["--accept-files"] });
  await randomFile(join(pair.from, "random.bin"), 48 * 1024 * 1024);
  for (
    const [canceller, other, number] of [[pair.receiver, pair.sender, 1], [
      pair.sender,
      pair.receiver,
      2,
    ]] as const
  ) {
    const before = canceller.stderr.filter((line) => PROGRESS.test(line)).length;
    await pair.sender.type("sendfile random.bin");
    await canceller.waitForLine(PROGRESS, "stderr", 20_000, before + 1);
    await canceller.type("cancel");
    await canceller.waitForLine(
      new RegExp(`^\\*\\*\\* Cancelled random\\.bin \\(file ${number}\\)`),
      "stdout",
    );
    await other.waitForLine(
      new RegExp(
        `^\\*\\*\\* \\S+ cancelled random\\.bin \\(file ${number}\\): cancelled by the (sender|receiver)`,
      ),
      "stdout",
    );
    await pair.receiver.waitForLine(
      new RegExp(`random\\.bin \\(file ${number}\\).*nothing was kept \\*\\*\\*$`),
      "stdout",
    );
  }
  assert.deepEqual(await names(pair.to), [], "no .part file is left");
});

/** How many pieces the receiver's record of `random.bin` holds, once it has at least `min`. */
async function recordedPieces(to: string, min: number): Promise<number> {
  const record = join(to, "random.bin.part.pieces");
  let count = 0;
  await eventually(
    async () => {
      try {
        count = (await Deno.readTextFile(record)).split("\n").filter((l) => / /.test(l)).length;
      } catch {
        return false;
      }
      return count >= min;
    },
    20_000,
    `${min} pieces recorded`,
  );
  return count;
}

/** A new peer in the receiver's folder, paired by `sender` (which is still running). */
async function newReceiver(url: string, pair: Pair): Promise<Child> {
  const receiver = spawnPeer(
    pair.to,
    [`--allow-read=${pair.to}`, `--allow-write=${pair.to}`],
    "--url",
    url,
    "--accept",
    "--accept-files",
  );
  const [, id = ""] = await receiver.waitForLine(ID_LINE, "stdout");
  await pair.sender.type(`pair ${id}`);
  await pair.sender.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000, 2);
  await receiver.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
  return receiver;
}

const SIZE = 48 * 1024 * 1024;
const PIECE = 1024 * 1024;

Deno.test("a sender killed mid-way leaves the receiver what arrived; offered again by a new process, only the rest is sent", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverArgs: ["--accept-files"] });
  const hash = await randomFile(join(pair.from, "random.bin"), SIZE);
  await pair.sender.type("sendfile random.bin");
  await recordedPieces(pair.to, 8);
  pair.sender.process.kill("SIGKILL");
  await pair.receiver.waitForLine(
    /^\*\*\* random\.bin \(file 1\) interrupted: .*; what arrived is kept to resume \(offer it again; --keep-partials\) \*\*\*$/,
    "stdout",
  );
  assert.deepEqual(await names(pair.to), ["random.bin.part", "random.bin.part.pieces"]);
  const held = (await recordedPieces(pair.to, 8)) * PIECE;

  await using sender = spawnPeer(
    pair.from,
    [`--allow-read=${pair.from}`],
    "--url",
    t.url,
    "--pair",
    pair.receiverId,
  );
  await sender.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
  await sender.type("sendfile random.bin");
  await pair.receiver.waitForLine(
    new RegExp(
      `^\\*\\*\\* \\S+ offers random\\.bin \\(50\\.3 MB, file 2\\); resuming: ${
        formatBytes(held).replace(".", "\\.")
      } already here: accepting \\(--accept-files\\) \\*\\*\\*$`,
    ),
    "stdout",
  );
  await pair.receiver.waitForLine(/^\*\*\* Resumed random\.bin \(file 2\) at \d+ %/, "stdout");
  await sender.waitForLine(
    /^\*\*\* \S+ already has [\d.]+ MB \(\d+ %\) of random\.bin \(file 1\): sending the rest \*\*\*$/,
    "stdout",
  );
  await sender.waitForLine(
    new RegExp(
      `^\\*\\*\\* Sent random\\.bin \\(file 1\\): ${
        formatBytes(SIZE - held).replace(".", "\\.")
      } sent, ${formatBytes(held).replace(".", "\\.")} were already there; SHA-256 verified`,
    ),
    "stdout",
    60_000,
  );
  await pair.receiver.waitForLine(
    /^\*\*\* Received random\.bin \(file 2\): 50\.3 MB, resumed with .* already here, SHA-256 verified; saved as .*random\.bin \*\*\*$/,
    "stdout",
  );
  assert.deepEqual(await names(pair.to), ["random.bin"], "the partial and its record are gone");
  assert.equal(await sha256OfFile(join(pair.to, "random.bin")), hash);
});

Deno.test("a receiver killed mid-way and started again resumes; a piece damaged on its disk is fetched again", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverArgs: ["--accept-files"] });
  const hash = await randomFile(join(pair.from, "random.bin"), SIZE);
  await pair.sender.type("sendfile random.bin");
  await recordedPieces(pair.to, 8);
  pair.receiver.process.kill("SIGKILL");
  await pair.sender.waitForLine(
    /^\*\*\* random\.bin \(file 1\) interrupted: the pairing ended; sendfile it again to resume \*\*\*$/,
    "stdout",
  );
  const pieces = await recordedPieces(pair.to, 8);
  // One byte of the third piece changes on disk: its record no longer matches.
  using part = await Deno.open(join(pair.to, "random.bin.part"), { read: true, write: true });
  const byte = new Uint8Array(1);
  await part.seek(2 * PIECE + 5, Deno.SeekMode.Start);
  await part.read(byte);
  await part.seek(2 * PIECE + 5, Deno.SeekMode.Start);
  await part.write(new Uint8Array([byte[0]! ^ 0xff]));

  await using receiver = await newReceiver(t.url, pair);
  await pair.sender.type("sendfile random.bin");
  await receiver.waitForLine(/offers random\.bin \(50\.3 MB, file 1\); resuming: /, "stdout");
  // Pieces 0-1 and 3 on: everything but the damaged piece is claimed.
  const claimed = (pieces - 1) * PIECE;
  await receiver.waitForLine(
    new RegExp(
      `^\\*\\*\\* Resumed random\\.bin \\(file 1\\) at \\d+ %: ${
        formatBytes(claimed).replace(".", "\\.")
      } already here`,
    ),
    "stdout",
  );
  await pair.sender.waitForLine(
    new RegExp(
      `^\\*\\*\\* Sent random\\.bin \\(file 2\\): ${
        formatBytes(SIZE - claimed).replace(".", "\\.")
      } sent, `,
    ),
    "stdout",
    60_000,
  );
  await receiver.waitForLine(
    /^\*\*\* Received random\.bin \(file 1\): .*SHA-256 verified/,
    "stdout",
  );
  assert.deepEqual(await names(pair.to), ["random.bin"]);
  assert.equal(await sha256OfFile(join(pair.to, "random.bin")), hash);
});

Deno.test("a file that changed since it was interrupted comes whole, under its own name, and the old partial goes", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverArgs: ["--accept-files"] });
  const path = join(pair.from, "random.bin");
  await randomFile(path, SIZE);
  await pair.sender.type("sendfile random.bin");
  await recordedPieces(pair.to, 4);
  pair.receiver.process.kill("SIGKILL");
  await pair.sender.waitForLine(/^\*\*\* random\.bin \(file 1\) interrupted: /, "stdout");
  await Deno.utime(path, new Date(), new Date(Date.now() - 3600_000));
  const hash = await sha256OfFile(path);

  await using receiver = await newReceiver(t.url, pair);
  await pair.sender.type("sendfile random.bin");
  await receiver.waitForLine(
    /^\*\*\* \S+ offers random\.bin \(50\.3 MB, file 1\): accepting \(--accept-files\) \*\*\*$/,
    "stdout",
  );
  await receiver.waitForLine(
    /^\*\*\* Received random\.bin \(file 1\): 50\.3 MB in .*SHA-256 verified; saved as random\.bin \*\*\*$/,
    "stdout",
    60_000,
  );
  assert.deepEqual(await names(pair.to), ["random.bin"]);
  assert.equal(await sha256OfFile(join(pair.to, "random.bin")), hash);
});

Deno.test("hostile names are cleaned and an existing file is never overwritten", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverArgs: ["--accept-files"] });
  await Deno.writeTextFile(join(pair.to, "report.txt"), "mine");
  // Names a command line can carry; the rest (path separators, "..", control
  // characters) are in disk_test.ts, against the same code.
  const offered = [".hidden", "CON.txt", "report.txt", `${"n".repeat(250)}.txt`];
  for (const name of offered) await Deno.writeTextFile(join(pair.from, name), `content of ${name}`);
  for (const name of offered) await pair.sender.type(`sendfile ${name}`);
  await pair.receiver.waitForLine(/^\*\*\* Received .*saved as/, "stdout", 20_000, offered.length);
  const saved = await names(pair.to);
  assert.deepEqual(saved, [
    "_CON.txt",
    "hidden",
    `${"n".repeat(196)}.txt`,
    "report (1).txt",
    "report.txt",
  ]);
  assert.equal(await Deno.readTextFile(join(pair.to, "report.txt")), "mine");
  assert.equal(await Deno.readTextFile(join(pair.to, "report (1).txt")), "content of report.txt");
});

Deno.test("a receiver without write permission says which flags it needs and the sender hears why", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverPermissions: [] });
  await Deno.writeTextFile(join(pair.from, "note.txt"), "hello");
  await pair.sender.type("sendfile note.txt");
  await pair.receiver.waitForLine(/offers note\.txt \(5 B, file 1\)/, "stdout");
  await pair.receiver.type("accept-file");
  await pair.receiver.waitForLine(
    /^\*\*\* Receiving files into \. needs --allow-read=\. --allow-write=\. \*\*\*$/,
    "stdout",
  );
  await pair.sender.waitForLine(
    /^\*\*\* \S+ declined note\.txt \(file 1\): the receiver cannot save files \*\*\*$/,
    "stdout",
  );
  assert.deepEqual(await names(pair.to), []);
});

Deno.test("--accept-files without write permission exits 2 with one line naming the flags", async () => {
  await using peer = spawnPeer(ROOT, [], "--accept-files", "--download-dir", "/tmp");
  assert.equal((await peer.exit()).code, 2);
  assert.deepEqual(peer.stderr, [
    "Receiving files into /tmp needs --allow-read=/tmp --allow-write=/tmp (or run: deno task peer-files)",
  ]);
});

Deno.test("sendfile without read permission for the file says which flag it needs", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url);
  await pair.sender.type("sendfile /etc/hostname");
  await pair.sender.waitForLine(
    /^\*\*\* sendfile \/etc\/hostname needs --allow-read=\/etc\/hostname \*\*\*$/,
    "stdout",
  );
});

Deno.test("two files go at once while chat lines keep arriving in order", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url, { receiverArgs: ["--accept-files"] });
  const hashA = await randomFile(join(pair.from, "a.bin"), 12 * 1024 * 1024);
  const hashB = await randomFile(join(pair.from, "b.bin"), 12 * 1024 * 1024);
  await pair.sender.type("sendfile a.bin");
  await pair.sender.type("sendfile b.bin");
  // Both under way; the receiver numbers them in the order their channels arrived.
  await pair.receiver.waitForLine(/^\*\*\* Receiving [ab]\.bin \(file \d\)/, "stdout", 10_000, 2);
  for (let i = 1; i <= 20; i++) await pair.sender.type(`send line ${i}`);
  await pair.receiver.waitForLine(new RegExp(`^${pair.senderId}: line 20$`), "stdout");
  const chat = pair.receiver.stdout.filter((line) => line.startsWith(`${pair.senderId}: `));
  assert.deepEqual(chat, Array.from({ length: 20 }, (_, i) => `${pair.senderId}: line ${i + 1}`));
  await pair.receiver.waitForLine(/^\*\*\* Received [ab]\.bin/, "stdout", 120_000, 2);
  assert.equal(await sha256OfFile(join(pair.to, "a.bin")), hashA);
  assert.equal(await sha256OfFile(join(pair.to, "b.bin")), hashB);
  assert.deepEqual(await names(pair.to), ["a.bin", "b.bin"]);
});

Deno.test("verify prints the same code on both sides", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url);
  await pair.sender.type("verify");
  await pair.receiver.type("verify");
  const code = /^\*\*\* Verification code with \S+: (\d{3} \d{3}) /;
  const [, a] = await pair.sender.waitForLine(code, "stdout", 10_000, 2);
  const [, b] = await pair.receiver.waitForLine(code, "stdout", 10_000, 2);
  assert.equal(a, b);
});

for (
  const [how, stop, keep] of [
    ["quit", (peer: Child) => peer.type("quit"), true],
    ["SIGINT", (peer: Child) => peer.process.kill("SIGINT"), false],
    ["SIGTERM", (peer: Child) => peer.process.kill("SIGTERM"), true],
  ] as const
) {
  Deno.test(
    `with --reconnect, ${how} mid-transfer stops it before exiting and ${
      keep ? "keeps what arrived to resume" : "with --keep-partials 0 removes the .part file"
    }`,
    async () => {
      await using t = testServer();
      await using pair = await pairedPeers(t.url, {
        receiverArgs: ["--accept-files", "--reconnect", ...(keep ? [] : ["--keep-partials", "0"])],
      });
      await randomFile(join(pair.from, "random.bin"), 48 * 1024 * 1024);
      await pair.sender.type("sendfile random.bin");
      await pair.receiver.waitForLine(PROGRESS, "stderr", 20_000);
      // Frozen mid-way, so the file cannot finish before the receiver goes.
      pair.sender.process.kill("SIGSTOP");
      try {
        const part = keep ? ["random.bin.part", "random.bin.part.pieces"] : ["random.bin.part"];
        assert.deepEqual(await names(pair.to), part, "mid-transfer");
        await stop(pair.receiver);
        assert.equal((await pair.receiver.exit()).code, 0);
        assert.deepEqual(await names(pair.to), keep ? part : [], "what is left");
        // Stopped by this side, before the link closes: it says so.
        const said = keep
          ? /^\*\*\* Stopped random\.bin \(file 1\): the receiver quit; what arrived is kept to resume \(offer it again; --keep-partials\) \*\*\*$/
          : /^\*\*\* Stopped random\.bin \(file 1\): the receiver quit; nothing was kept \*\*\*$/;
        assert.ok(
          pair.receiver.stdout.some((line) => said.test(line)),
          pair.receiver.stdout.join("\n"),
        );
      } finally {
        pair.sender.process.kill("SIGCONT");
      }
    },
  );
}

Deno.test({
  name:
    "a partner opening many file channels gets MAX_INCOMING_FILES at a time, the rest declined with a reason it sees, and stalled ones end after --transfer-idle",
  // The hostile peer runs werift in this process; it leaves timers and sockets behind.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using t = testServer();
    const to = await Deno.makeTempDir({ prefix: "switchboard-receive-" });
    await using receiver = spawnPeer(
      to,
      [`--allow-read=${to}`, `--allow-write=${to}`],
      "--url",
      t.url,
      "--accept",
      "--accept-files",
      "--transfer-idle",
      "2",
    );
    const [, receiverId = ""] = await receiver.waitForLine(ID_LINE, "stdout");
    await using hostile = await hostilePeer(t.url, receiverId);
    const extra = 24;
    const channels = Array.from(
      { length: MAX_INCOMING_FILES + extra },
      (_, i) => hostile.offer({ name: `flood${i}.bin`, size: 2 ** 30 }),
    );
    const answers = await Promise.all(
      channels.map((channel) => channel.next(["file_accept", "file_reject"], 20_000)),
    );
    const accepted = channels.filter((_, i) => answers[i]?.type === "file_accept");
    assert.equal(accepted.length, MAX_INCOMING_FILES);
    assert.deepEqual(
      answers.filter((answer) => answer.type === "file_reject"),
      Array.from({ length: extra }, () => ({
        type: "file_reject",
        reason: `too many files at once (the receiver takes ${MAX_INCOMING_FILES} at a time)`,
      })),
    );
    // One line for the flood, one per file taken; a .part file only for those.
    const offers = receiver.stdout.filter((line) => / offers flood\d+\.bin /.test(line));
    assert.equal(offers.length, MAX_INCOMING_FILES);
    const notices = receiver.stdout.filter((line) => /is sending more than/.test(line));
    assert.deepEqual(notices, [
      `*** ${hostile.id} is sending more than ${MAX_INCOMING_FILES} files at once: declining the rest until these are done ***`,
    ]);
    await eventually(
      async () => (await names(to)).length === MAX_INCOMING_FILES,
      5000,
      `${MAX_INCOMING_FILES} .part files`,
    );
    // One sends a little, then stalls; the rest never send a byte.
    accepted[0]?.send(new Uint8Array(64 * 1024));
    const started = Date.now();
    const cancels = await Promise.all(accepted.map((channel) => channel.next(["file_cancel"])));
    assert.ok(Date.now() - started >= 1500, "not long before --transfer-idle");
    assert.deepEqual(
      cancels,
      accepted.map(() => ({ type: "file_cancel", reason: "no progress for 2 s", resumable: true })),
    );
    await receiver.waitForLine(
      /^\*\*\* flood\d+\.bin \(file \d+\) interrupted: no progress for 2 s; nothing was kept \*\*\*$/,
      "stdout",
      10_000,
      MAX_INCOMING_FILES,
    );
    assert.deepEqual(await names(to), [], "no .part file is left");
    // The refused channels this peer kept open are closed for it, after the same idle time.
    await eventually(
      () => channels.every((channel) => channel.closed),
      10_000,
      "every channel closed",
    );
    // The places are free again.
    const late = hostile.offer({ name: "late.bin", size: 10 });
    assert.equal((await late.next(["file_accept", "file_reject"])).type, "file_accept");
    await Deno.remove(to, { recursive: true });
  },
});

Deno.test("deno task peer-files receives into the folder it was started in, makes a missing --download-dir, and reads nothing outside it", async () => {
  await using t = testServer();
  const start = await Deno.makeTempDir({ prefix: "switchboard-start-" });
  const from = await Deno.makeTempDir({ prefix: "switchboard-send-" });
  try {
    // As a user would, from a folder of their own: the task's config is found by path.
    await using receiver = new Child(
      [
        "task",
        "--config",
        `${ROOT}deno.json`,
        "peer-files",
        "--url",
        t.url,
        "--accept",
        "--accept-files",
        "--download-dir",
        "inbox",
      ],
      start,
      true,
    );
    const [, receiverId = ""] = await receiver.waitForLine(ID_LINE, "stdout", 30_000);
    assert.ok(
      receiver.stderr.includes("Made the download folder inbox"),
      receiver.stderr.join("\n"),
    );
    await using sender = spawnPeer(
      from,
      [`--allow-read=${from}`],
      "--url",
      t.url,
      "--pair",
      receiverId,
    );
    await Deno.writeTextFile(join(from, "note.txt"), "hello");
    await sender.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
    await sender.type("sendfile note.txt");
    await receiver.waitForLine(
      /^\*\*\* Received note\.txt \(file 1\): .*saved as inbox\/note\.txt \*\*\*$/,
      "stdout",
    );
    assert.equal(await Deno.readTextFile(join(start, "inbox", "note.txt")), "hello");
    // Its permissions are the start folder's: the checkout it runs from is out of reach.
    await receiver.type(`sendfile ${ROOT}deno.json`);
    await receiver.waitForLine(
      new RegExp(
        `^\\*\\*\\* sendfile ${ROOT}deno\\.json needs --allow-read=${ROOT}deno\\.json \\*\\*\\*$`,
      ),
      "stdout",
    );
    await receiver.type("quit");
    assert.equal((await receiver.exit()).code, 0);
    await assert.rejects(Deno.lstat(join(ROOT, "inbox")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(start, { recursive: true });
    await Deno.remove(from, { recursive: true });
  }
});

/** Every file under `dir`, relative, with its SHA-256; folders end in `/`. */
async function treeOf(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) found.push(`${relative}/`, ...await treeOf(dir, relative));
    else found.push(`${relative} ${await sha256OfFile(join(dir, relative))}`);
  }
  return found.sort();
}

Deno.test("sendfile with a folder and a file sends one set: one consent, the tree recreated in a new folder, links left out, every file verified", async () => {
  await using t = testServer();
  await using pair = await pairedPeers(t.url);
  const album = join(pair.from, "album");
  await Deno.mkdir(join(album, "sub/deeper"), { recursive: true });
  await Deno.mkdir(join(album, "empty"));
  await Deno.mkdir(join(album, "many"));
  await randomFile(join(album, "big.bin"), 3 * 1024 * 1024 + 5);
  await Deno.writeTextFile(join(album, "sub/deeper/c.txt"), "deep");
  await Deno.writeTextFile(join(album, "sub/zero"), "");
  for (let i = 0; i < 300; i++) {
    await Deno.writeTextFile(join(album, `many/${i}.txt`), `${i}\n`.repeat(300));
  }
  await Deno.symlink("/etc", join(album, "outside"));
  await Deno.writeTextFile(join(pair.from, "my note.txt"), "note");
  // A folder of the same name is already there: the set goes beside it, never into it.
  await Deno.mkdir(join(pair.to, "album"));
  await pair.sender.type('sendfile album "my note.txt"');
  await pair.sender.waitForLine(
    /^\*\*\* Leaving out .*album\/outside: a symbolic link, not followed \*\*\*$/,
    "stdout",
  );
  await pair.receiver.waitForLine(
    /^\*\*\* \S+ offers album and my note\.txt \(304 files, 1 empty folder, 3\.\d MB, file 1\): accept-file \/ reject-file \*\*\*$/,
    "stdout",
  );
  await pair.receiver.waitForLine(/^\*\*\* {3}album\/big\.bin \(3\.1 MB\) \*\*\*$/, "stdout");
  await pair.receiver.waitForLine(/^\*\*\* {3}… and 295 more \*\*\*$/, "stdout");
  await pair.receiver.type("accept-file");
  await pair.receiver.waitForLine(
    /^\*\*\* Received album and my note\.txt \(file 1\): [\d.]+ MB in [\d.]+ s, [\d.]+ MB\/s, every SHA-256 verified; saved in album \(1\) \*\*\*$/,
    "stdout",
    60_000,
  );
  await pair.sender.waitForLine(
    /^\*\*\* Sent album and my note\.txt \(file 1\): .*, every SHA-256 verified by \S+ \*\*\*$/,
    "stdout",
  );
  const sent = (await treeOf(pair.from)).filter((line) => !line.startsWith("album/outside"))
    .map((line) => line.replace(/^album/, "album (1)"));
  assert.deepEqual(await treeOf(pair.to), ["album/", ...sent].sort());
});

/**
 * A link between two sets of transfers in this process: each file channel
 * the sender opens reaches the receiver at once; `hold` keeps the sender's
 * bytes back past a count, as a network that stopped would.
 */
function memoryLink(receiver: FileTransfers, holdAfter = Infinity) {
  const channels: MemoryChannel[] = [];
  let sent = 0;
  const connection = {
    localDescription: { type: "offer", sdp: "a" },
    remoteDescription: { type: "answer", sdp: "b" },
    createDataChannel(label: string) {
      const [a, b] = channelPair();
      a.label = b.label = label;
      const send = a.send.bind(a);
      a.send = (data: string | Uint8Array) => {
        if (typeof data !== "string") sent += data.length;
        // Past the count nothing arrives, and nothing drains: flow control stops the sender.
        if (sent > holdAfter) a.bufferedAmount += typeof data === "string" ? 0 : data.length;
        else send(data);
      };
      channels.push(a, b);
      receiver.channel("sender", b as unknown as DataChannelLike);
      return a;
    },
  } as unknown as PeerConnectionLike;
  return {
    connection,
    /** The link goes down: every channel closes. */
    cut: () => channels.forEach((channel) => channel.close()),
  };
}

/**
 * A sender's and a receiver's transfers in this process, each printing into
 * its own list of lines: the receiver accepting files with `acceptFiles`,
 * the sender giving up after `senderIdleMs` without progress.
 */
function twoSides(
  from: string,
  to: string,
  options: { acceptFiles?: boolean; senderIdleMs?: number } = {},
) {
  const said = { sender: [] as string[], receiver: [] as string[] };
  const side = (dir: string, lines: string[], extra: { acceptFiles?: boolean; idleMs?: number }) =>
    new FileTransfers({
      downloadDir: dir,
      acceptFiles: extra.acceptFiles ?? false,
      maxFileBytes: undefined,
      ...(extra.idleMs === undefined ? {} : { idleMs: extra.idleMs }),
      print: (line) => lines.push(line),
    });
  return {
    said,
    sender: side(from, said.sender, {
      ...(options.senderIdleMs ? { idleMs: options.senderIdleMs } : {}),
    }),
    receiver: side(to, said.receiver, { acceptFiles: options.acceptFiles ?? false }),
  };
}

Deno.test("a file interrupted by the link going down goes on when the link is back: offered again, taken without asking, only the rest sent", async () => {
  const from = await Deno.makeTempDir({ prefix: "switchboard-send-" });
  const to = await Deno.makeTempDir({ prefix: "switchboard-receive-" });
  try {
    const hash = await randomFile(join(from, "random.bin"), 6 * PIECE + 5);
    const { said, sender, receiver } = twoSides(from, to);
    const first = memoryLink(receiver, 3 * PIECE + 100);
    receiver.opened("sender", first.connection);
    sender.opened("receiver", first.connection);
    await sender.send([join(from, "random.bin")]);
    await eventually(
      () => said.receiver.some((l) => / offers random\.bin /.test(l)),
      5000,
      "the offer",
    );
    await receiver.accept(undefined);
    await recordedPieces(to, 3);
    // The link fails with the pairing still on (not "the pairing ended").
    sender.closed("the peer-to-peer connection failed", false);
    receiver.closed("the peer-to-peer connection failed", false);
    first.cut();
    await eventually(
      () => said.receiver.some((l) => /interrupted: .*; what arrived is kept to resume/.test(l)),
      5000,
      "the receiver to keep what arrived",
    );
    assert.ok(
      said.sender.some((l) =>
        /^\*\*\* random\.bin \(file 1\) interrupted: the peer-to-peer connection failed; it goes on if the link comes back, or sendfile it again \*\*\*$/
          .test(l)
      ),
      said.sender.join("\n"),
    );

    const second = memoryLink(receiver);
    receiver.opened("sender", second.connection);
    sender.opened("receiver", second.connection);
    await eventually(
      () => said.receiver.some((l) => /^\*\*\* Received random\.bin \(file 2\)/.test(l)),
      10_000,
      "the file to arrive",
    );
    assert.ok(
      said.receiver.some((l) =>
        /^\*\*\* sender offers random\.bin \(6\.3 MB, file 2\); resuming: 3\.1 MB already here: accepting: you took it before it was interrupted \*\*\*$/
          .test(l)
      ),
      said.receiver.join("\n"),
    );
    await eventually(
      () => said.sender.some((l) => /^\*\*\* Sent /.test(l)),
      5000,
      "the sender's end",
    );
    assert.ok(
      said.sender.some((l) =>
        /^\*\*\* Sent random\.bin \(file 2\): 3\.1 MB sent, 3\.1 MB were already there; SHA-256 verified by receiver \*\*\*$/
          .test(l)
      ),
      said.sender.join("\n"),
    );
    assert.deepEqual(await names(to), ["random.bin"]);
    assert.equal(await sha256OfFile(join(to, "random.bin")), hash);
  } finally {
    await Deno.remove(from, { recursive: true });
    await Deno.remove(to, { recursive: true });
  }
});

Deno.test("once the link is back, a file that stalls on it is not held for a link that already came back", async () => {
  const from = await Deno.makeTempDir({ prefix: "switchboard-send-" });
  const to = await Deno.makeTempDir({ prefix: "switchboard-receive-" });
  try {
    await randomFile(join(from, "random.bin"), 4 * PIECE);
    const { said, sender, receiver } = twoSides(from, to, { acceptFiles: true, senderIdleMs: 300 });
    const first = memoryLink(receiver);
    receiver.opened("sender", first.connection);
    sender.opened("receiver", first.connection);
    sender.closed("the peer-to-peer connection failed", false);
    receiver.closed("the peer-to-peer connection failed", false);
    first.cut();
    // Back, and then the bytes stop: the sender gives up on its own after --transfer-idle.
    const second = memoryLink(receiver, PIECE);
    receiver.opened("sender", second.connection);
    sender.opened("receiver", second.connection);
    await sender.send([join(from, "random.bin")]);
    await eventually(
      () => said.sender.some((l) => / interrupted: /.test(l)),
      5000,
      "the sender to give up",
    );
    assert.ok(
      said.sender.some((l) =>
        /^\*\*\* random\.bin \(file 1\) interrupted: no progress for 0\.3 s; sendfile it again to resume \*\*\*$/
          .test(l)
      ),
      said.sender.join("\n"),
    );
    receiver.closed("the pairing ended");
  } finally {
    await Deno.remove(from, { recursive: true });
    await Deno.remove(to, { recursive: true });
  }
});
