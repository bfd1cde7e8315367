import assert from "node:assert/strict";
import { join } from "node:path";
import { PartFile } from "../../../lib/cli/files/disk.ts";
import {
  checkPartial,
  cleanPartials,
  findPartial,
  parseRecord,
  recordedBytes,
  recordHeader,
  stalePartials,
} from "../../../lib/cli/files/partials.ts";
import { PIECE_BYTES } from "../../../lib/shared/file_protocol.js";
import { sha256Hex } from "../../../lib/shared/sha256.js";

const SIZE = 3 * PIECE_BYTES + 100;
const offer = { name: "big.bin", size: SIZE, mime: "a/b", modified: 1_700_000_000_000 };

function bytes(size: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 7 + (i >> 12)) % 256);
}

/** A partial of `offer` in a new folder, with its first `count` bytes written, then suspended. */
async function keptPartial(count: number): Promise<{ dir: string; data: Uint8Array }> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-partials-" });
  const data = bytes(SIZE);
  const sink = await PartFile.create(dir, offer.name, recordHeader(offer));
  assert.ok(sink.resumable);
  for (let at = 0; at < count; at += 65536) {
    await sink.write(data.subarray(at, Math.min(count, at + 65536)));
  }
  await sink.suspend();
  return { dir, data };
}

Deno.test("an interrupted file keeps its .part and a record of each piece written, found again by name, size and time", async () => {
  const { dir } = await keptPartial(2 * PIECE_BYTES + 10);
  try {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["big.bin.part", "big.bin.part.pieces"]);
    const partial = findPartial(dir, offer);
    assert.ok(partial);
    assert.equal(partial.saveAs, "big.bin");
    assert.deepEqual([...partial.pieces.keys()], [0, 1], "only whole pieces are recorded");
    assert.equal(recordedBytes(partial, SIZE), 2 * PIECE_BYTES);
    assert.equal(findPartial(dir, { ...offer, modified: 5 }), undefined, "another time");
    assert.equal(findPartial(dir, { ...offer, size: SIZE + 1 }), undefined, "another size");
    assert.equal(findPartial(dir, offer, new Set([partial.part])), undefined, "in use");
    assert.deepEqual(stalePartials(dir, { ...offer, modified: 5 }), [partial.part]);
    assert.deepEqual(stalePartials(dir, offer), []);
    assert.equal(recordHeader({ name: "a", size: 1, mime: "a/b" }), undefined, "no time");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a kept partial is checked against its record: a piece changed on disk is not claimed", async () => {
  const { dir, data } = await keptPartial(3 * PIECE_BYTES);
  try {
    const partial = findPartial(dir, offer)!;
    const whole = await checkPartial(partial, SIZE);
    assert.deepEqual(whole.have.map(([s, e]) => [s, e]), [[0, 3 * PIECE_BYTES]]);
    assert.equal(whole.hashed, 3 * PIECE_BYTES);
    using file = await Deno.open(partial.part, { write: true });
    await file.seek(PIECE_BYTES + 3, Deno.SeekMode.Start);
    await file.write(new Uint8Array([data[PIECE_BYTES + 3]! ^ 1]));
    const checked = await checkPartial(partial, SIZE);
    assert.deepEqual(checked.have.map(([s, e]) => [s, e]), [[0, PIECE_BYTES], [
      2 * PIECE_BYTES,
      3 * PIECE_BYTES,
    ]]);
    assert.equal(checked.hashed, PIECE_BYTES, "the in-order digest stops at the damage");
    assert.equal(checked.hash.hex(), sha256Hex(data.subarray(0, PIECE_BYTES)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a resumed partial goes on from a seek, records the new pieces, and commits to its name without the record", async () => {
  const { dir, data } = await keptPartial(PIECE_BYTES);
  try {
    const partial = findPartial(dir, offer)!;
    const sink = await PartFile.resume(dir, partial, SIZE);
    await sink.seek(PIECE_BYTES);
    await sink.write(data.subarray(PIECE_BYTES));
    assert.equal(await sink.digest(), sha256Hex(data));
    const record = parseRecord(await Deno.readTextFile(partial.record));
    assert.deepEqual([...record!.pieces.keys()].sort(), [0, 1, 2, 3]);
    await assert.rejects(() => sink.seek(10), RangeError);
    await sink.commit();
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["big.bin"]);
    assert.deepEqual(await Deno.readFile(join(dir, "big.bin")), data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a record cut short or not a record is read for what it holds, or not at all", () => {
  const header = JSON.stringify(recordHeader(offer));
  const digest = "ab".repeat(32);
  const parsed = parseRecord(`${header}\n0 ${digest}\n1 ${digest.slice(0, 20)}`);
  assert.deepEqual([...parsed!.pieces.keys()], [0]);
  assert.equal(parseRecord("not json\n0 " + digest), undefined);
  assert.equal(parseRecord(JSON.stringify({ ...recordHeader(offer), piece: 5 })), undefined);
  assert.deepEqual([...parseRecord(`${header}\n99 ${digest}`)!.pieces.keys()], [], "past the end");
});

Deno.test("partials older than the limit go, and the oldest past the bound, but not those in use", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-partials-" });
  try {
    const parts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const sink = await PartFile.create(
        dir,
        `f${i}.bin`,
        recordHeader({ ...offer, name: `f${i}.bin` }),
      );
      await sink.suspend();
      parts.push(sink.partPath);
      const age = new Date(Date.now() - (4 - i) * 3600_000);
      await Deno.utime(sink.partPath + ".pieces", age, age);
    }
    // A .part without a record is not ours to remove.
    await Deno.writeTextFile(join(dir, "other.part"), "x");
    const removed = cleanPartials(dir, {
      maxAgeMs: 3.5 * 3600_000,
      maxCount: 1,
      keep: new Set([parts[1]!]),
    });
    assert.deepEqual(removed.sort(), [parts[0]!, parts[2]!].sort());
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, [
      "f1.bin.part",
      "f1.bin.part.pieces",
      "f3.bin.part",
      "f3.bin.part.pieces",
      "other.part",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
