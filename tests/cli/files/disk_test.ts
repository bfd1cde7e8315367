import assert from "node:assert/strict";
import { join } from "node:path";
import { mediaType, openSource, PartFile } from "../../../lib/cli/files/disk.ts";

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "switchboard-disk-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

async function receive(dir: string, offered: string, text: string): Promise<string> {
  const part = await PartFile.create(dir, offered);
  await part.write(new TextEncoder().encode(text));
  await part.commit();
  return part.savedAs ?? "";
}

Deno.test("PartFile saves hostile names inside the folder, cleaned", async () => {
  await using dir = await tempDir();
  const long = "x".repeat(300);
  for (const offered of ["../x", "/etc/passwd", "a\nb", long, "..", "C:\\Windows\\evil.exe"]) {
    await receive(dir.path, offered, offered);
  }
  assert.deepEqual(await names(dir.path), [
    "a_b",
    "evil.exe",
    "file",
    "passwd",
    "x",
    "x".repeat(200),
  ]);
  assert.equal(await Deno.readTextFile(join(dir.path, "x")), "../x");
});

Deno.test("PartFile never saves under a device name, even one that shortening makes", async () => {
  await using dir = await tempDir();
  await receive(dir.path, "nul" + " ".repeat(250) + "x.txt", "1");
  await receive(dir.path, "CON .log", "2");
  assert.deepEqual(await names(dir.path), ["_CON .log", "_nul.txt"]);
});

Deno.test("PartFile never overwrites: a taken name gets a number before its extension", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "report.pdf"), "mine");
  assert.equal(await receive(dir.path, "report.pdf", "1"), join(dir.path, "report (1).pdf"));
  assert.equal(await receive(dir.path, "report.pdf", "2"), join(dir.path, "report (2).pdf"));
  assert.equal(await Deno.readTextFile(join(dir.path, "report.pdf")), "mine");
});

Deno.test("PartFile writes to a .part file and leaves nothing after abort", async () => {
  await using dir = await tempDir();
  const part = await PartFile.create(dir.path, "data.bin");
  await part.write(new Uint8Array(10));
  assert.deepEqual(await names(dir.path), ["data.bin.part"]);
  await part.abort();
  assert.deepEqual(await names(dir.path), []);
});

Deno.test("PartFile takes the next name when the final name appears while the file arrives", async () => {
  await using dir = await tempDir();
  const part = await PartFile.create(dir.path, "late.txt");
  await part.write(new TextEncoder().encode("theirs"));
  await Deno.writeTextFile(join(dir.path, "late.txt"), "mine");
  await part.commit();
  assert.equal(part.savedAs, join(dir.path, "late (1).txt"));
  assert.equal(await Deno.readTextFile(join(dir.path, "late.txt")), "mine");
  assert.deepEqual(await names(dir.path), ["late (1).txt", "late.txt"]);
});

Deno.test("openSource offers the base name, size, media type and modification time, reads in order and seeks", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "notes.txt");
  await Deno.writeTextFile(path, "abcdefghij");
  await Deno.utime(path, new Date(), new Date(1_700_000_000_123));
  const { offer, source } = await openSource(path);
  assert.deepEqual(offer, {
    name: "notes.txt",
    size: 10,
    mime: "text/plain",
    modified: 1_700_000_000_123,
  });
  const decoder = new TextDecoder();
  assert.equal(decoder.decode(await source.read(4)), "abcd");
  assert.equal(decoder.decode(await source.read(100)), "efghij");
  assert.equal((await source.read(4)).length, 0);
  await source.seek!(2);
  assert.equal(decoder.decode(await source.read(3)), "cde");
  source.close();
  source.close();
  await assert.rejects(openSource(dir.path), /not a regular file/);
  assert.equal(mediaType("x.unknown"), "application/octet-stream");
});
