import assert from "node:assert/strict";
import { join } from "node:path";
import { Child, testServer } from "./helpers.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

// werift leaves timers and sockets behind in the peer processes, never here:
// these tests only spawn processes and talk to them.

/**
 * A WebRTC peer in `cwd` with the permissions of `deno task peer` plus
 * `extra` (file permissions).
 */
function spawnPeer(cwd: string, permissions: string[], ...args: string[]): Child {
  return new Child(
    [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-sys=networkInterfaces",
      ...permissions,
      "--no-prompt",
      join(new URL("..", import.meta.url).pathname, "client.ts"),
      "--webrtc",
      ...args,
    ],
    cwd,
    true,
  );
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
  // the file's size, which hides what is really kept. A file held in memory
  // still shows: as RSS if in buffers, as a crash if on the heap.
  await using pair = await pairedPeers(url, { both: ["--v8-flags=--max-old-space-size=64"] });
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
