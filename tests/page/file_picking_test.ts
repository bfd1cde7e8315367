import assert from "node:assert/strict";
import { blobSource, inputFiles, offerOf, READ_BYTES } from "../../lib/page/file_picking.js";
import { MAX_LIST_CHARS, MAX_SET_FILES } from "../../lib/shared/file_protocol.js";

const blob = (text: string) => new Blob([text], { type: "text/plain" });

Deno.test("one picked file is offered alone; several files or a folder's files as one set", () => {
  const one = offerOf([{ path: "a.txt", blob: blob("abc") }]);
  assert.deepEqual(one?.offer, { name: "a.txt", size: 3, mime: "text/plain" });
  assert.ok(one?.source && !one.sources);
  const several = offerOf([{ path: "a.txt", blob: blob("abc") }, {
    path: "b.txt",
    blob: blob("de"),
  }]);
  assert.deepEqual(several?.offer, {
    name: "a.txt and b.txt",
    size: 5,
    mime: "application/octet-stream",
    files: [{ path: "a.txt", size: 3 }, { path: "b.txt", size: 2 }],
    folders: [],
  });
  const folder = offerOf([{ path: "photos/a.jpg", blob: blob("x") }], ["photos/empty"]);
  assert.equal(folder?.offer.name, "photos");
  assert.deepEqual(folder?.offer.folders, ["photos/empty"]);
  assert.equal(offerOf([]), undefined);
});

Deno.test("a set past what a receiver takes is refused before it is offered, saying why", () => {
  const many = Array.from(
    { length: MAX_SET_FILES + 1 },
    (_, i) => ({ path: `d/${i}`, blob: blob("") }),
  );
  assert.throws(() => offerOf(many), /more than 100000 files and folders in one set/);
  const long = "d/" + "x".repeat(4000);
  const wide = Array.from({ length: Math.ceil(MAX_LIST_CHARS / 4002) + 1 }, (_, i) => ({
    path: `${long}${i}`,
    blob: blob(""),
  }));
  assert.throws(() => offerOf(wide), /paths of more than 16777216 characters in all/);
  assert.throws(
    () => offerOf([{ path: "d/" + "x".repeat(5000), blob: blob("") }]),
    /a path longer than 4096/,
  );
});

Deno.test("a set's source reads each file in order, a megabyte from the browser at a time", async () => {
  const data = new Uint8Array(READ_BYTES + 100).map((_, i) => i % 251);
  const source = blobSource(new Blob([data]));
  const read: number[] = [];
  for (;;) {
    const part = await source.read(64 * 1024);
    if (part.length === 0) break;
    read.push(...part);
  }
  assert.deepEqual(new Uint8Array(read), data);
  const picked = offerOf([{ path: "d/a", blob: new Blob([data]) }]);
  const opened = await picked!.sources!.open({ path: "d/a", size: data.length }, 0);
  assert.equal((await opened.read(10)).length, 10);
  assert.deepEqual(
    inputFiles([new File(["x"], "n.txt")]).map((f) => f.path),
    ["n.txt"],
  );
});

Deno.test("a picked file is offered with its time, and its source seeks, so that a receiver holding part of it can resume", async () => {
  const data = new Uint8Array(READ_BYTES + 100).map((_, i) => i % 251);
  const file = new File([data], "big.bin", { lastModified: 1_700_000_000_000 });
  const picked = offerOf([{ path: "big.bin", blob: file }]);
  assert.equal(picked?.offer.modified, 1_700_000_000_000);
  const source = picked!.source!;
  await source.read(10);
  await source.seek!(READ_BYTES);
  assert.deepEqual(await source.read(200), data.subarray(READ_BYTES));
  await source.seek!(5);
  assert.deepEqual(await source.read(3), data.subarray(5, 8));
});
