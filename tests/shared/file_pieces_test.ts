import assert from "node:assert/strict";
import {
  heldBytes,
  heldRanges,
  pieceCount,
  pieceDigest,
  PieceHasher,
  rangeDigest,
  rangesFit,
} from "../../lib/shared/file_pieces.js";
import { parseFileMessage, PIECE_BYTES } from "../../lib/shared/file_protocol.js";
import { FileReceiver } from "../../lib/shared/file_receiver.js";
import { FileSender } from "../../lib/shared/file_sender.js";
import type { FileSink } from "../../lib/shared/file_transfer.js";
import { Sha256, sha256Hex } from "../../lib/shared/sha256.js";
import { within } from "../support/helpers.ts";
import { channelPair, offered, randomBytes, recorder } from "../support/memory_transfer.ts";

const SIZE = 5 * PIECE_BYTES + 1234;

/** A source over `data` that can seek, counting the bytes it hands out. */
function seekableSource(data: Uint8Array, canSeek = true) {
  let offset = 0;
  const source = {
    read(max: number) {
      const part = data.subarray(offset, offset + max);
      offset += part.length;
      return Promise.resolve(part);
    },
    close() {},
    ...(canSeek
      ? {
        seek(at: number) {
          offset = at;
          return Promise.resolve();
        },
      }
      : {}),
  };
  return source;
}

/** A resumable sink over a buffer that starts as `held`, recording what happens to it. */
function resumableSink(held: Uint8Array, heldBytes = held.length) {
  const data = held.slice();
  let at = 0;
  // How far the file reaches, as a .part file's length does.
  let length = heldBytes;
  const sink: Required<FileSink> & {
    data: Uint8Array;
    seeks: number[];
    digests: number;
    ended: "" | "committed" | "aborted" | "suspended";
  } = {
    data,
    seeks: [],
    digests: 0,
    ended: "",
    write(bytes) {
      data.set(bytes, at);
      at += bytes.length;
      length = Math.max(length, at);
      return Promise.resolve();
    },
    seek(offset) {
      sink.seeks.push(offset);
      at = offset;
      return Promise.resolve();
    },
    digest() {
      sink.digests++;
      return Promise.resolve(sha256Hex(data.subarray(0, length)));
    },
    commit() {
      sink.ended = "committed";
      return Promise.resolve();
    },
    abort() {
      sink.ended = "aborted";
      return Promise.resolve();
    },
    suspend() {
      sink.ended = "suspended";
      return Promise.resolve();
    },
  };
  return sink;
}

/** What a receiver holding `pieces` of `held` claims, as its disk check would find it. */
async function resumeOf(held: Uint8Array, pieces: number[]) {
  const digests = new Map<number, Uint8Array>();
  for (const index of pieces) {
    const start = index * PIECE_BYTES;
    digests.set(index, await pieceDigest(held.subarray(start, start + PIECE_BYTES)));
  }
  let hashed = 0;
  while (pieces.includes(hashed / PIECE_BYTES) && hashed < held.length) {
    hashed = Math.min(held.length, hashed + PIECE_BYTES);
  }
  const hash = new Sha256().update(held.subarray(0, hashed));
  return { have: await heldRanges(digests, held.length), hash, hashed };
}

/** Offers `data` to resume; the receiver accepts into a sink holding `held`'s `pieces`. */
async function resumed(
  data: Uint8Array,
  held: Uint8Array,
  pieces: number[],
  options: { canSeek?: boolean } = {},
) {
  const [a, b] = channelPair();
  const s = recorder();
  const r = recorder();
  const sender = new FileSender({
    channel: a,
    offer: { name: "x.bin", size: data.length, mime: "a/b", modified: 1_700_000_000_000 },
    source: seekableSource(data, options.canSeek ?? true),
    onEvent: s.onEvent,
  });
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
  await offered(r);
  assert.equal(receiver.offer?.modified, 1_700_000_000_000, "the offer carries the file's time");
  const sink = resumableSink(held);
  receiver.accept(sink, await resumeOf(held, pieces));
  const [sent, got] = await within(Promise.all([s.final, r.final]), 10_000, "the transfer");
  return { sender, sent, got, sink, s, r, a };
}

Deno.test("a piece hasher gives each piece's digest as it completes, the last one short", async () => {
  const data = randomBytes(2 * PIECE_BYTES + 5);
  const hasher = new PieceHasher(data.length);
  const pieces = [
    ...await hasher.update(data.subarray(0, 1000)),
    ...await hasher.update(data.subarray(1000, 2 * PIECE_BYTES + 1)),
    ...await hasher.update(data.subarray(2 * PIECE_BYTES + 1)),
  ];
  assert.deepEqual(pieces.map((p) => p.index), [0, 1, 2]);
  assert.deepEqual(pieces[2]?.digest, await pieceDigest(data.subarray(2 * PIECE_BYTES)));
  assert.throws(() => hasher.seek(10), RangeError);
  hasher.seek(PIECE_BYTES);
  const [again] = await hasher.update(data.subarray(PIECE_BYTES, 2 * PIECE_BYTES));
  assert.equal(again?.index, 1);
  await assert.rejects(() => hasher.update(new Uint8Array(6)), RangeError);
});

Deno.test("held pieces become ranges of consecutive pieces, each with the digest of its pieces' digests", async () => {
  const d = [0, 1, 2, 3].map((i) => new Uint8Array(32).fill(i));
  const ranges = await heldRanges(new Map([[3, d[3]!], [0, d[0]!], [1, d[1]!]]), SIZE);
  assert.deepEqual(ranges, [
    [0, 2 * PIECE_BYTES, await rangeDigest([d[0]!, d[1]!])],
    [3 * PIECE_BYTES, 4 * PIECE_BYTES, await rangeDigest([d[3]!])],
  ]);
  assert.equal(heldBytes(ranges), 3 * PIECE_BYTES);
  assert.equal(pieceCount(SIZE), 6);
  assert.ok(rangesFit(ranges, SIZE));
  assert.ok(!rangesFit([[0, PIECE_BYTES + 1, ""]], SIZE), "a range ends on a piece boundary");
  assert.ok(rangesFit([[5 * PIECE_BYTES, SIZE, ""]], SIZE), "...or at the file's end");
  assert.ok(!rangesFit([[5 * PIECE_BYTES, SIZE + 1, ""]], SIZE));
});

Deno.test("accepts with held ranges and seeks are parsed; ranges out of order or off a piece boundary are not", () => {
  const digest = "a".repeat(64);
  assert.deepEqual(
    parseFileMessage(JSON.stringify({ type: "file_accept", have: [[0, 10, digest]] })),
    { type: "file_accept", have: [[0, 10, digest]] },
  );
  for (
    const have of [
      [],
      [[5, 10, digest]],
      [[0, 10, "zz"]],
      [[PIECE_BYTES, 2 * PIECE_BYTES, digest], [0, 10, digest]],
      [[0, 0, digest]],
      Array.from({ length: 501 }, (_, i) => [i * PIECE_BYTES, i * PIECE_BYTES + 1, digest]),
    ]
  ) {
    assert.equal(
      parseFileMessage(JSON.stringify({ type: "file_accept", have })),
      undefined,
      JSON.stringify(have).slice(0, 80),
    );
  }
  assert.deepEqual(parseFileMessage('{"type":"file_seek","at":1048576}'), {
    type: "file_seek",
    at: PIECE_BYTES,
  });
  assert.equal(parseFileMessage('{"type":"file_seek","at":-1}'), undefined);
  assert.deepEqual(
    parseFileMessage('{"type":"file_offer","name":"a","size":1,"mime":"a/b","modified":5}'),
    { type: "file_offer", name: "a", size: 1, mime: "a/b", modified: 5 },
  );
  assert.deepEqual(
    parseFileMessage('{"type":"file_cancel","reason":"the sender quit","resumable":true}'),
    { type: "file_cancel", reason: "the sender quit", resumable: true },
  );
});

Deno.test("a resumed file sends only what the receiver lacks, and verifies whole", async () => {
  const data = randomBytes(SIZE);
  const held = data.slice();
  held.fill(0, 2 * PIECE_BYTES);
  const { sender, sent, got, sink, s, r } = await resumed(data, held, [0, 1]);
  assert.equal(got.kind, "done");
  assert.equal(got.kind === "done" && got.sha256, sha256Hex(data));
  assert.equal(sent.kind, "done");
  assert.equal(sender.bytes, SIZE - 2 * PIECE_BYTES, "only the missing bytes went");
  assert.deepEqual(sink.seeks, [2 * PIECE_BYTES]);
  assert.equal(sink.digests, 0, "the digest was taken on the way, not read back");
  assert.equal(sink.ended, "committed");
  assert.deepEqual(sink.data, data);
  assert.deepEqual(s.events.find((e) => e.kind === "resumed"), {
    kind: "resumed",
    held: 2 * PIECE_BYTES,
    size: SIZE,
  });
  assert.deepEqual(r.events.find((e) => e.kind === "resumed"), {
    kind: "resumed",
    held: 2 * PIECE_BYTES,
    size: SIZE,
  });
});

Deno.test("a held range that does not match the sender's file is sent again, and the file verifies", async () => {
  const data = randomBytes(SIZE);
  // The receiver's copy of piece 1 differs (the file changed, or the disk lies consistently).
  const held = data.slice();
  held[PIECE_BYTES + 7]! ^= 0xff;
  const { sender, got, sink } = await resumed(data, held, [0, 1]);
  assert.equal(got.kind, "done");
  assert.equal(sender.bytes, SIZE, "the range that did not match went again, then the rest");
  assert.equal(sink.digests, 1, "bytes it had hashed were replaced: the digest is read back");
  assert.deepEqual(sink.data, data);
});

Deno.test("a hole in what is held is filled alone; the digest is then read back from the sink", async () => {
  const data = randomBytes(SIZE);
  const held = data.slice();
  held.fill(0, PIECE_BYTES, 2 * PIECE_BYTES);
  held.fill(0, 3 * PIECE_BYTES);
  const { sender, got, sink } = await resumed(data, held, [0, 2]);
  assert.equal(got.kind, "done");
  assert.equal(sender.bytes, SIZE - 2 * PIECE_BYTES, "piece 1 and the tail, nothing else");
  assert.deepEqual(sink.seeks, [PIECE_BYTES, 3 * PIECE_BYTES]);
  assert.equal(sink.digests, 1);
  assert.deepEqual(sink.data, data);
});

Deno.test("a sender whose source cannot seek sends the whole file from a seek to 0", async () => {
  const data = randomBytes(SIZE);
  const { sender, got, sink } = await resumed(data, data, [0, 1, 2], { canSeek: false });
  assert.equal(got.kind, "done");
  assert.equal(sender.bytes, SIZE);
  assert.deepEqual(sink.seeks, [0]);
});

Deno.test("an interrupted resumable transfer suspends its sink; a cancelled one aborts it", async () => {
  for (const how of ["interrupted", "cancelled", "quit"] as const) {
    const [a, b] = channelPair();
    const s = recorder();
    const r = recorder();
    const data = randomBytes(3 * PIECE_BYTES);
    // A source that gives one piece, then stalls: the transfer is under way.
    let reads = 0;
    const sender = new FileSender({
      channel: a,
      offer: { name: "x", size: data.length, mime: "a/b", modified: 1 },
      source: {
        read: (max) =>
          ++reads <= 16 ? Promise.resolve(data.subarray(0, max)) : new Promise(() => {}),
        close() {},
      },
      onEvent: s.onEvent,
    });
    const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
    await offered(r);
    const sink = resumableSink(new Uint8Array(data.length));
    receiver.accept(sink);
    await within(
      (async () => {
        while (receiver.bytes < 16 * 65536) await new Promise((go) => setTimeout(go, 0));
      })(),
      5000,
      "bytes to arrive",
    );
    if (how === "interrupted") a.close();
    else if (how === "cancelled") sender.cancel("cancelled by the sender");
    else sender.cancel("the sender quit", { resumable: true });
    const final = await within(r.final, 5000, "the receiver to stop");
    assert.equal(final.kind === "stopped" && final.interrupted === true, how !== "cancelled", how);
    await receiver.settled;
    assert.equal(sink.ended, how === "cancelled" ? "aborted" : "suspended", how);
  }
});

Deno.test("held ranges for an offer without a time, or a seek off a piece boundary, end the transfer", async () => {
  const digest = "a".repeat(64);
  {
    const [a, b] = channelPair();
    const s = recorder();
    new FileSender({
      channel: a,
      offer: { name: "x", size: 10, mime: "a/b" },
      source: seekableSource(new Uint8Array(10)),
      onEvent: s.onEvent,
    });
    b.send(JSON.stringify({ type: "file_accept", have: [[0, 10, digest]] }));
    const final = await within(s.final, 5000, "the sender");
    assert.equal(
      final.kind === "stopped" && final.reason,
      "protocol error: held ranges for a file that was not offered to resume",
    );
  }
  {
    const [a, b] = channelPair();
    const r = recorder();
    const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
    a.send(JSON.stringify({ type: "file_offer", name: "x", size: SIZE, mime: "a/b", modified: 1 }));
    await offered(r);
    const held = new Uint8Array(SIZE);
    receiver.accept(resumableSink(held), await resumeOf(held, [0]));
    a.send(JSON.stringify({ type: "file_seek", at: 10 }));
    const final = await within(r.final, 5000, "the receiver");
    assert.equal(
      final.kind === "stopped" && final.reason,
      "protocol error: a seek out of the file",
    );
  }
});

Deno.test("a sender that ends a resumed file early, with the digest of what the receiver holds, is refused: bytes short", async () => {
  const [a, b] = channelPair();
  const r = recorder();
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent });
  a.send(JSON.stringify({ type: "file_offer", name: "x", size: SIZE, mime: "a/b", modified: 1 }));
  await offered(r);
  const data = randomBytes(SIZE);
  const sink = resumableSink(data, PIECE_BYTES);
  receiver.accept(sink, await resumeOf(data, [0]));
  // One more piece, then the end, claiming the digest of the two pieces the receiver now has.
  a.send(JSON.stringify({ type: "file_seek", at: PIECE_BYTES }));
  a.send(data.slice(PIECE_BYTES, 2 * PIECE_BYTES));
  a.send(
    JSON.stringify({ type: "file_end", sha256: sha256Hex(data.subarray(0, 2 * PIECE_BYTES)) }),
  );
  const final = await within(r.final, 5000, "the receiver");
  assert.equal(final.kind, "stopped");
  assert.equal(final.kind === "stopped" && final.reason, `${SIZE - 2 * PIECE_BYTES} bytes short`);
  assert.equal(sink.ended, "aborted");
  assert.equal(sink.digests, 0, "a file known to be short is not read back");
});

Deno.test("a receiver that claims what it holds waits for the sender to check it, longer the more it holds", async () => {
  const [a, b] = channelPair();
  const r = recorder();
  const receiver = new FileReceiver({ channel: b, onEvent: r.onEvent, idleMs: 100 });
  const size = 40 * PIECE_BYTES;
  a.send(JSON.stringify({ type: "file_offer", name: "x", size, mime: "a/b", modified: 1 }));
  await offered(r);
  // 20 MiB claimed: at 20 MB/s, about a second for the sender to read and hash them.
  const digest = "a".repeat(64);
  const started = performance.now();
  receiver.accept(resumableSink(new Uint8Array(0)), {
    have: [[0, 20 * PIECE_BYTES, digest]],
    hash: new Sha256(),
    hashed: 0,
  });
  const final = await within(r.final, 5000, "the receiver to give up on a silent sender");
  const waited = performance.now() - started;
  assert.equal(final.kind === "stopped" && final.reason, "no progress for 0.1 s");
  assert.ok(waited >= 1000, `waited ${waited.toFixed(0)} ms, not the 1.1 s the claim allows`);
});
