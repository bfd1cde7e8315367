import assert from "node:assert/strict";
import { FileReceiver } from "../../lib/shared/file_receiver.js";
import { FileSender } from "../../lib/shared/file_sender.js";
import { FileInbox } from "../../lib/shared/file_transfer.js";
import { CHUNK_BYTES, HIGH_WATER_BYTES, WINDOW_BYTES } from "../../lib/shared/file_protocol.js";
import { sha256Hex } from "../../lib/shared/sha256.js";
import { within } from "../support/helpers.ts";
import {
  channelPair,
  memorySink,
  offered,
  offeredTransfer,
  randomBytes,
  recorder,
  source,
  until,
} from "../support/memory_transfer.ts";

Deno.test("a file goes through whole, the digest is checked, and the sink is committed", async () => {
  const [a, b] = channelPair();
  const data = randomBytes(5 * CHUNK_BYTES + 123);
  const src = source(data);
  const s = recorder();
  const r = recorder();
  new FileSender({
    channel: a,
    offer: { name: "x.bin", size: data.length, mime: "application/octet-stream" },
    source: src,
    onEvent: s.onEvent,
  });
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
  await offered(r);
  assert.deepEqual(receiver.offer, {
    name: "x.bin",
    size: data.length,
    mime: "application/octet-stream",
  });
  const sink = memorySink();
  receiver.accept(sink);
  const [sent, got] = await within(Promise.all([s.final, r.final]), 5000, "the transfer");
  assert.equal(sent.kind, "done");
  assert.equal(got.kind, "done");
  assert.equal(got.kind === "done" && got.sha256, sha256Hex(data));
  assert.deepEqual(s.kinds(), ["accepted", "done"]);
  assert.deepEqual(r.kinds(), ["offer", "accepted", "done"]);
  assert.ok(sink.committed && !sink.aborted);
  const joined = new Uint8Array(data.length);
  let at = 0;
  for (const chunk of sink.chunks) {
    assert.ok(chunk.length <= CHUNK_BYTES);
    joined.set(chunk, at);
    at += chunk.length;
  }
  assert.deepEqual(joined, data);
  assert.equal(src.closed, 1, "the source is closed once");
});

Deno.test("the sender never buffers much more than the high-water mark", async () => {
  const data = randomBytes(40 * CHUNK_BYTES);
  const { a, s, r, receiver } = await offeredTransfer(data);
  receiver.accept(memorySink());
  await within(Promise.all([s.final, r.final]), 5000, "the transfer");
  assert.ok(a.peakBuffered <= HIGH_WATER_BYTES + CHUNK_BYTES, `peak ${a.peakBuffered}`);
});

Deno.test("the sender stops at the window until the receiver acknowledges what it stored", async () => {
  const data = randomBytes(WINDOW_BYTES + 10 * CHUNK_BYTES);
  const { s, sender, receiver } = await offeredTransfer(data);
  // A sink whose writes never finish: nothing is ever acknowledged.
  receiver.accept({
    write: () => new Promise(() => {}),
    commit: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  });
  await until(() => sender.bytes >= WINDOW_BYTES, "the window to fill", 5000);
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
  assert.equal(sender.bytes, WINDOW_BYTES);
  sender.cancel();
  assert.equal((await s.final).kind, "stopped");
});

Deno.test("a rejected offer tells the sender why and sends nothing", async () => {
  const data = new Uint8Array(10);
  const src = source(data);
  const { a, s, receiver } = await offeredTransfer(data, src);
  receiver.reject("too big");
  assert.deepEqual(await s.final, { kind: "rejected", reason: "too big" });
  assert.equal(src.closed, 1);
  assert.deepEqual(a.sentText.length, 1, "only the offer was sent");
});

Deno.test("a cancel from the receiver stops the sender and the sink keeps nothing", async () => {
  const [a, b] = channelPair();
  const data = randomBytes(2 * WINDOW_BYTES);
  const s = recorder();
  const r = recorder();
  const sender = new FileSender({
    channel: a,
    offer: { name: "x", size: data.length, mime: "a/b" },
    source: source(data),
    onEvent: s.onEvent,
  });
  const receiver = new FileReceiver({
    channel: b,
    onEvent: (event) => {
      r.onEvent(event);
      if (event.kind === "progress" && event.bytes >= 3 * CHUNK_BYTES) {
        receiver.cancel("changed my mind");
      }
    },
  });
  await offered(r);
  const sink = memorySink();
  receiver.accept(sink);
  assert.deepEqual(await within(s.final, 5000, "the sender to stop"), {
    kind: "stopped",
    reason: "changed my mind",
    by: "peer",
  });
  assert.deepEqual(await r.final, { kind: "stopped", reason: "changed my mind", by: "you" });
  assert.ok(sender.bytes < data.length);
  await until(() => sink.aborted, "the abort", 1000);
  assert.ok(!sink.committed);
});

Deno.test("a cancel from the sender stops the receiver, which keeps nothing", async () => {
  const [a, b] = channelPair();
  const data = randomBytes(30 * CHUNK_BYTES);
  const s = recorder();
  const r = recorder();
  const senders: FileSender[] = [];
  senders.push(
    new FileSender({
      channel: a,
      offer: { name: "x", size: data.length, mime: "a/b" },
      source: source(data),
      onEvent: (event) => {
        s.onEvent(event);
        if (event.kind === "progress" && event.bytes >= 3 * CHUNK_BYTES) senders[0]?.cancel("oops");
      },
    }),
  );
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
  await offered(r);
  const sink = memorySink();
  receiver.accept(sink);
  assert.deepEqual(await within(r.final, 5000, "the receiver to stop"), {
    kind: "stopped",
    reason: "oops",
    by: "peer",
  });
  await until(() => sink.aborted, "the abort", 1000);
  assert.ok(!sink.committed);
});

Deno.test("a digest that does not match is refused and nothing is kept", async () => {
  const [a, b] = channelPair();
  const r = recorder();
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
  a.send(JSON.stringify({ type: "file_offer", name: "x", size: 3, mime: "a/b" }));
  await offered(r);
  const sink = memorySink();
  receiver.accept(sink);
  a.send(new Uint8Array([1, 2, 3]));
  a.send(JSON.stringify({ type: "file_end", sha256: "0".repeat(64) }));
  const final = await within(r.final, 5000, "the end");
  assert.equal(final.kind, "stopped");
  assert.match(final.kind === "stopped" ? final.reason : "", /SHA-256 mismatch/);
  await until(() => sink.aborted, "the abort", 1000);
  assert.ok(!sink.committed);
});

Deno.test("bytes beyond the offered size, or before an accept, end the transfer", async () => {
  for (const accept of [true, false]) {
    const [a, b] = channelPair();
    const r = recorder();
    const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
    a.send(JSON.stringify({ type: "file_offer", name: "x", size: 2, mime: "a/b" }));
    await offered(r);
    if (accept) receiver.accept(memorySink());
    a.send(new Uint8Array([1, 2, 3]));
    const final = await within(r.final, 5000, "the end");
    assert.equal(final.kind, "stopped");
    assert.match(
      final.kind === "stopped" ? final.reason : "",
      accept ? /more bytes than offered/ : /before an accept/,
    );
  }
});

Deno.test("a write that fails stops the transfer on both sides", async () => {
  const data = randomBytes(3 * CHUNK_BYTES);
  const { s, r, receiver } = await offeredTransfer(data);
  receiver.accept(memorySink(true));
  const final = await within(r.final, 5000, "the receiver to stop");
  assert.match(final.kind === "stopped" ? final.reason : "", /cannot write the file: disk full/);
  const senderFinal = await within(s.final, 5000, "the sender to stop");
  assert.equal(senderFinal.kind === "stopped" && senderFinal.by, "peer");
});

Deno.test("a channel that closes mid-way fails the transfer, and abandon() ends it quietly", async () => {
  const data = randomBytes(30 * CHUNK_BYTES);
  const { s, r, sender, receiver } = await offeredTransfer(data);
  receiver.accept(memorySink());
  sender.abandon("the pairing ended");
  assert.deepEqual(await s.final, {
    kind: "stopped",
    reason: "the pairing ended",
    by: "error",
    interrupted: true,
  });
  assert.deepEqual(await within(r.final, 5000, "the receiver"), {
    kind: "stopped",
    reason: "the channel closed",
    by: "error",
    interrupted: true,
  });
});

Deno.test("a receiver turns away channels past its inbox's limit, unseen, with a reason the sender sees", async () => {
  const inbox = new FileInbox(2);
  const open = () => {
    const [a, b] = channelPair();
    const s = recorder();
    const r = recorder();
    new FileSender({
      channel: a,
      offer: { name: "x", size: 1 << 30, mime: "a/b" },
      source: source(new Uint8Array(0)),
      onEvent: s.onEvent,
    });
    const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent, inbox });
    return { b, s, r, receiver };
  };
  const first = open();
  const second = open();
  const third = open();
  await offered(first.r);
  await offered(second.r);
  const refusal = "too many files at once (the receiver takes 2 at a time)";
  assert.deepEqual(await within(third.s.final, 5000, "the refusal"), {
    kind: "rejected",
    reason: refusal,
  });
  assert.deepEqual(third.r.events, [{ kind: "rejected", reason: refusal }], "no offer is shown");
  await until(() => third.b.readyState === "closed", "the sender to close the refused channel");
  // A sender that keeps a refused channel open has it closed for it after idleMs.
  const [hostile, refused] = channelPair();
  const ignored = recorder();
  new FileReceiver({ channel: refused, onEvent: ignored.onEvent, inbox, idleMs: 100 });
  hostile.send(JSON.stringify({ type: "file_offer", name: "y", size: 1, mime: "a/b" }));
  assert.equal((await ignored.final).kind, "rejected");
  await until(() => refused.readyState === "closed", "the receiver to close a refused channel");
  assert.equal(inbox.size, 2);
  // Once one ends, the next is taken.
  first.receiver.reject("declined");
  await first.r.final;
  const fourth = open();
  await offered(fourth.r);
  assert.equal(inbox.size, 2);
  second.receiver.reject("declined");
  fourth.receiver.reject("declined");
  await Promise.all([second.s.final, fourth.s.final]);
  assert.equal(inbox.size, 0);
});

Deno.test("a file whose bytes stop coming is cancelled after idleMs on both sides, and nothing is kept", async () => {
  const [a, b] = channelPair();
  const s = recorder();
  const r = recorder();
  let reads = 0;
  new FileSender({
    channel: a,
    offer: { name: "x", size: 10 * CHUNK_BYTES, mime: "a/b" },
    // Two chunks, then a read that never returns: a sender that stalls.
    source: {
      read: (max) => ++reads <= 2 ? Promise.resolve(new Uint8Array(max)) : new Promise(() => {}),
      close() {},
    },
    onEvent: s.onEvent,
  });
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent, idleMs: 200 });
  await offered(r);
  const sink = memorySink();
  receiver.accept(sink);
  const started = performance.now();
  const reason = "no progress for 0.2 s";
  assert.deepEqual(await within(r.final, 5000, "the receiver to give up"), {
    kind: "stopped",
    reason,
    by: "error",
    interrupted: true,
  });
  assert.ok(performance.now() - started >= 190, "not before idleMs");
  assert.ok(sink.aborted && !sink.committed, "the sink was aborted before the end was reported");
  assert.deepEqual(await within(s.final, 5000, "the sender to hear it"), {
    kind: "stopped",
    reason,
    by: "peer",
    interrupted: true,
  });
  await until(() => b.readyState === "closed", "the receiver to close the channel");
});

Deno.test("a sender whose receiver stops acknowledging gives up after idleMs and tells it", async () => {
  const [a, b] = channelPair();
  const s = recorder();
  const data = randomBytes(WINDOW_BYTES + 4 * CHUNK_BYTES);
  const sender = new FileSender({
    channel: a,
    offer: { name: "x", size: data.length, mime: "a/b" },
    source: source(data),
    onEvent: s.onEvent,
    idleMs: 200,
  });
  // A hostile receiver: accepts, then never acknowledges a byte.
  const heard: string[] = [];
  b.addEventListener("message", (event) => {
    const data = (event as MessageEvent).data;
    if (typeof data !== "string") return;
    heard.push(data);
    if (JSON.parse(data).type === "file_offer") b.send(JSON.stringify({ type: "file_accept" }));
  });
  const final = await within(s.final, 5000, "the sender to give up");
  assert.deepEqual(final, {
    kind: "stopped",
    reason: "no progress for 0.2 s",
    by: "error",
    interrupted: true,
  });
  assert.equal(sender.bytes, WINDOW_BYTES, "it sent the window, then waited");
  await until(() => heard.some((m) => m.includes("file_cancel")), "the cancel to reach it");
  assert.deepEqual(JSON.parse(heard.at(-1) ?? ""), {
    type: "file_cancel",
    reason: "no progress for 0.2 s",
    resumable: true,
  });
});

Deno.test("a channel that never sends its offer is closed after idleMs; an offer waiting for the user is not timed", async () => {
  const [, silent] = channelPair();
  const quiet = recorder();
  new FileReceiver({ channel: silent, onEvent: quiet.onEvent, idleMs: 100 });
  assert.deepEqual(await within(quiet.final, 5000, "the silent channel to end"), {
    kind: "stopped",
    reason: "no progress for 0.1 s",
    by: "error",
    interrupted: true,
  });
  await until(() => silent.readyState === "closed", "the silent channel to be closed");

  const [a, b] = channelPair();
  const r = recorder();
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent, idleMs: 100 });
  a.send(JSON.stringify({ type: "file_offer", name: "x", size: 3, mime: "a/b" }));
  await offered(r);
  // Three idle periods pass while the user thinks; the offer stands.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(receiver.state, "offered");
  assert.deepEqual(r.kinds(), ["offer"]);
  receiver.reject("declined");
  assert.equal((await r.final).kind, "rejected");
});

/** A set's sender and receiver on a channel pair, the receiver's sinks recorded by path. */
async function offeredSet(
  files: { path: string; data: Uint8Array }[],
  folders: string[] = [],
  options: { unreadable?: string; unwritable?: string } = {},
) {
  const [a, b] = channelPair();
  const s = recorder();
  const r = recorder();
  const sources: ReturnType<typeof source>[] = [];
  const sender = new FileSender({
    channel: a,
    offer: {
      name: "set",
      size: files.reduce((sum, file) => sum + file.data.length, 0),
      mime: "application/octet-stream",
      files: files.map(({ path, data }) => ({ path, size: data.length })),
      folders,
    },
    sources: {
      open(file, index) {
        if (file.path === options.unreadable) return Promise.reject(new Error("permission denied"));
        const opened = source(files[index]!.data);
        sources.push(opened);
        return Promise.resolve(opened);
      },
    },
    onEvent: s.onEvent,
  });
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent, inbox: new FileInbox() });
  await offered(r);
  const sinks = new Map<string, ReturnType<typeof memorySink>>();
  const made: string[] = [];
  const target = {
    open(file: { path: string }) {
      const sink = memorySink(file.path === options.unwritable);
      sinks.set(file.path, sink);
      return Promise.resolve(sink);
    },
    folders(paths: readonly string[]) {
      made.push(...paths);
      return Promise.resolve();
    },
  };
  return { a, b, s, r, sender, receiver, sinks, made, target, sources };
}

function joined(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

Deno.test("a set goes as one offer and one answer: every file kept with its own digest, empty files and folders too", async () => {
  const files = [
    { path: "album/a.bin", data: randomBytes(3 * CHUNK_BYTES + 7) },
    { path: "album/empty.txt", data: new Uint8Array(0) },
    { path: "album/sub/b.bin", data: randomBytes(1000) },
  ];
  const t = await offeredSet(files, ["album/nothing"]);
  const offer = t.receiver.offer!;
  assert.equal(offer.size, 3 * CHUNK_BYTES + 1007);
  assert.deepEqual(offer.files?.map((f) => f.path), files.map((f) => f.path));
  assert.deepEqual(offer.folders, ["album/nothing"]);
  t.receiver.accept(t.target);
  const [sent, got] = await within(Promise.all([t.s.final, t.r.final]), 5000, "the set");
  assert.equal(sent.kind, "done");
  assert.equal(got.kind, "done");
  if (sent.kind !== "done" || got.kind !== "done") return;
  assert.deepEqual([sent.files, sent.failed, got.files, got.failed], [3, [], 3, []]);
  assert.deepEqual(t.made, ["album/nothing"]);
  for (const { path, data } of files) {
    const sink = t.sinks.get(path)!;
    assert.ok(sink.committed && !sink.aborted, path);
    assert.equal(sha256Hex(joined(sink.chunks)), sha256Hex(data), path);
  }
  const outcomes = t.r.events.flatMap((e) => e.kind === "file" ? [e.outcome] : []);
  assert.deepEqual(outcomes.map((o) => [o.index, o.ok]), [[0, true], [1, true], [2, true]]);
  const lastProgress = t.s.events.findLast((e) => e.kind === "progress");
  assert.deepEqual(
    lastProgress?.kind === "progress" && [lastProgress.bytes, lastProgress.file?.path],
    [offer.size, "album/sub/b.bin"],
  );
  assert.deepEqual(t.sources.map((src) => src.closed), [1, 1, 1], "each source closed once");
});

Deno.test("in a set, a file that cannot be read or written fails alone; the others arrive and the result names it", async () => {
  const files = [
    { path: "d/locked", data: randomBytes(100) },
    { path: "d/ok", data: randomBytes(CHUNK_BYTES * 2) },
    { path: "d/full", data: randomBytes(5000) },
    { path: "d/ok2", data: randomBytes(10) },
  ];
  const t = await offeredSet(files, [], { unreadable: "d/locked", unwritable: "d/full" });
  t.receiver.accept(t.target);
  const [sent, got] = await within(Promise.all([t.s.final, t.r.final]), 5000, "the set");
  if (sent.kind !== "done" || got.kind !== "done") assert.fail(`${sent.kind} / ${got.kind}`);
  for (const result of [sent, got]) {
    assert.deepEqual(result.failed?.map((f) => [f.path, f.reason]), [
      ["d/locked", "not sent: cannot read it: permission denied"],
      ["d/full", "cannot write it: disk full"],
    ]);
  }
  assert.equal(t.sinks.has("d/locked"), false, "nothing opened for a file never sent");
  assert.ok(t.sinks.get("d/full")!.aborted);
  assert.ok(t.sinks.get("d/ok")!.committed && t.sinks.get("d/ok2")!.committed);
});

Deno.test("a set cancelled half way keeps the files already verified and nothing of the one under way", async () => {
  const files = [
    { path: "a", data: randomBytes(1000) },
    { path: "b", data: randomBytes(WINDOW_BYTES * 2) },
  ];
  const t = await offeredSet(files);
  t.receiver.accept(t.target);
  await until(() => (t.sinks.get("b")?.chunks.length ?? 0) > 2, "b under way", 5000);
  t.receiver.cancel("enough");
  const [sent, got] = await within(Promise.all([t.s.final, t.r.final]), 5000, "the end");
  assert.deepEqual([sent.kind, got.kind], ["stopped", "stopped"]);
  assert.ok(t.sinks.get("a")!.committed && !t.sinks.get("a")!.aborted);
  assert.ok(t.sinks.get("b")!.aborted && !t.sinks.get("b")!.committed);
  assert.equal(t.receiver.kept, 1);
});

Deno.test("a set of empty folders only is made and confirmed", async () => {
  const t = await offeredSet([], ["top", "top/inner"]);
  t.receiver.accept(t.target);
  const [sent, got] = await within(Promise.all([t.s.final, t.r.final]), 5000, "the set");
  assert.deepEqual([sent.kind, got.kind], ["done", "done"]);
  assert.deepEqual(t.made, ["top", "top/inner"]);
});

Deno.test("a set's bytes must keep to its list: more than a file's size ends the set", async () => {
  const [a, b] = channelPair();
  const r = recorder();
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent, inbox: new FileInbox() });
  const say = (data: unknown) => a.send(typeof data === "string" ? data : data as Uint8Array);
  say('{"type":"file_offer","name":"s","size":4,"mime":"a/b","files":2,"folders":0}');
  say('{"type":"file_list","entries":[["x",2],["y",2]]}');
  await offered(r);
  receiver.accept({
    open: () => Promise.resolve(memorySink()),
    folders: () => Promise.resolve(),
  });
  say(new Uint8Array(3));
  const end = await within(r.final, 2000, "the end");
  assert.deepEqual(end, {
    kind: "stopped",
    reason: "protocol error: more bytes than offered",
    by: "error",
  });
});

Deno.test("a thousand small files go in one set without a round trip each", async () => {
  const files = Array.from({ length: 1000 }, (_, i) => ({
    path: `many/${i}.txt`,
    data: new TextEncoder().encode(`file ${i}\n`.repeat(100)),
  }));
  const t = await offeredSet(files);
  const ends = () => t.a.sentText.filter((text) => text.includes('"file_end"')).length;
  // How many files the sender had ended when the first answer reached it.
  let endedAtFirstAnswer = 0;
  t.a.addEventListener("message", (event) => {
    const text = String((event as MessageEvent).data);
    if (endedAtFirstAnswer === 0 && text.includes('"file_done"')) endedAtFirstAnswer = ends();
  });
  t.receiver.accept(t.target);
  const [sent, got] = await within(Promise.all([t.s.final, t.r.final]), 10_000, "the set");
  assert.deepEqual([sent.kind, got.kind], ["done", "done"]);
  assert.equal(t.receiver.kept, 1000);
  assert.equal(ends(), 1000);
  // A sender that waited for each answer would have ended one file by then.
  assert.ok(endedAtFirstAnswer > 100, `${endedAtFirstAnswer} files ended before the first answer`);
});

Deno.test("a file cancelled after its accept and before any byte still lets go of its sink", async () => {
  const data = randomBytes(1000);
  const t = await offeredTransfer(data, { ...source(data), read: () => new Promise(() => {}) });
  const sink = memorySink();
  t.receiver.accept(sink);
  t.receiver.cancel("changed my mind");
  await within(Promise.all([t.s.final, t.r.final, t.receiver.settled]), 5000, "the end");
  assert.deepEqual([sink.aborted, sink.committed, sink.chunks.length], [true, false, 0]);
});

Deno.test("a set of empty folders only takes a confirmation, not a failure, as its answer", async () => {
  const [a, b] = channelPair();
  const s = recorder();
  new FileSender({
    channel: a,
    offer: { name: "top", size: 0, mime: "a/b", files: [], folders: ["top"] },
    sources: { open: () => Promise.reject(new Error("no files")) },
    onEvent: s.onEvent,
  });
  b.addEventListener("message", (event) => {
    const text = String((event as MessageEvent).data);
    if (!text.includes('"file_list"')) return;
    b.send('{"type":"file_accept"}');
    b.send('{"type":"file_failed","reason":"hostile"}');
  });
  const end = await within(s.final, 2000, "the end");
  assert.deepEqual(end, {
    kind: "stopped",
    reason: "protocol error: a confirmation that does not match",
    by: "error",
  });
});
