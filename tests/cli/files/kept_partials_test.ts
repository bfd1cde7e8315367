import assert from "node:assert/strict";
import { KeptPartials } from "../../../lib/cli/files/kept_partials.ts";
import { PIECE_BYTES } from "../../../lib/shared/file_protocol.js";

const offer = { name: "big.bin", size: 2 * PIECE_BYTES + 7, mime: "a/b", modified: 1_700_000_000 };

/** A folder where `offer` was interrupted after its first piece. */
async function interrupted(): Promise<{ dir: string; kept: KeptPartials; part: string }> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-kept-" });
  const kept = new KeptPartials(dir);
  const sink = await kept.create(offer);
  await sink.write(new Uint8Array(PIECE_BYTES + 3).fill(9));
  await sink.suspend();
  kept.release(sink.partPath);
  return { dir, kept, part: sink.partPath };
}

Deno.test("a partial is found for the same file, claimed by one transfer at a time, and found again once released", async () => {
  const { dir, kept, part } = await interrupted();
  try {
    const partial = kept.find(offer);
    assert.equal(partial?.part, part);
    const claimed = await kept.claim(partial!, offer.size);
    assert.notEqual(claimed, "fresh");
    if (claimed === "fresh") return;
    assert.deepEqual(claimed.checked.have.map(([s, e]) => [s, e]), [[0, PIECE_BYTES]]);
    assert.equal(kept.find(offer), undefined, "in use: not found for another offer");
    assert.equal(await kept.claim(partial!, offer.size), "fresh", "nor claimed twice");
    await claimed.sink.suspend();
    kept.release(part);
    assert.equal(kept.find(offer)?.part, part);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a new version of a file removes what an older one left, and takes its name", async () => {
  const { dir, kept, part } = await interrupted();
  try {
    const sink = await kept.create({ ...offer, modified: offer.modified + 1 });
    assert.equal(sink.partPath, part, "the same name, not big (1).bin");
    assert.equal(kept.find(offer), undefined);
    await sink.abort();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("consent to an interrupted file is remembered for its partner and that file, once", () => {
  const kept = new KeptPartials(".");
  kept.consent("peer-a", offer);
  assert.equal(kept.consented("peer-b", offer), false);
  assert.equal(kept.consented("peer-a", { ...offer, modified: 5 }), false);
  assert.equal(kept.consented("peer-a", offer), true);
  assert.equal(kept.consented("peer-a", offer), false, "asked once");
});

Deno.test("with no time to keep partials, a file gets no record and nothing is kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-kept-" });
  try {
    const kept = new KeptPartials(dir, 0);
    assert.equal(kept.keeps, false);
    const sink = await kept.create(offer);
    assert.equal(sink.resumable, false);
    await sink.write(new Uint8Array(10));
    await sink.suspend();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
