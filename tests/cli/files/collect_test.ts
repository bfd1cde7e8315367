import assert from "node:assert/strict";
import { join } from "node:path";
import { collect, setSources } from "../../../lib/cli/files/collect.ts";

async function tree(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-collect-" });
  await Deno.mkdir(join(dir, "album/sub/deeper"), { recursive: true });
  await Deno.mkdir(join(dir, "album/empty"));
  await Deno.writeTextFile(join(dir, "album/b.txt"), "bb");
  await Deno.writeTextFile(join(dir, "album/a.txt"), "a");
  await Deno.writeTextFile(join(dir, "album/sub/deeper/c.txt"), "ccc");
  await Deno.symlink("/etc", join(dir, "album/outside"));
  await Deno.writeTextFile(join(dir, "note.txt"), "note");
  return dir;
}

Deno.test("collect() lists a folder's files by name with their relative paths and sizes, its empty folders, and never follows a link inside it", async () => {
  const dir = await tree();
  try {
    const set = await collect([join(dir, "album"), join(dir, "note.txt")]);
    assert.deepEqual(set.files.map((f) => [f.path, f.size, f.named]), [
      ["album/a.txt", 1, false],
      ["album/b.txt", 2, false],
      ["album/sub/deeper/c.txt", 3, false],
      ["note.txt", 4, true],
    ]);
    assert.deepEqual(set.folders, ["album/empty"]);
    assert.deepEqual(set.skipped, [{
      path: join(dir, "album/outside"),
      reason: "a symbolic link, not followed",
    }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect() names a path that is not there", async () => {
  await assert.rejects(collect(["/no/such/place"]), /^Error: \/no\/such\/place: /);
});

Deno.test("a set's source refuses a file that became a link or changed size since it was listed", async () => {
  const dir = await tree();
  try {
    const set = await collect([join(dir, "album")]);
    const sources = setSources(set.files);
    const a = await sources.open(set.files[0]!, 0);
    assert.deepEqual(await a.read(10), new TextEncoder().encode("a"));
    a.close();
    await Deno.writeTextFile(join(dir, "album/b.txt"), "longer now");
    await assert.rejects(sources.open(set.files[1]!, 1), /its size changed since it was offered/);
    await Deno.remove(join(dir, "album/sub/deeper/c.txt"));
    await Deno.symlink("/etc/hostname", join(dir, "album/sub/deeper/c.txt"));
    await assert.rejects(sources.open(set.files[2]!, 2), /no longer a regular file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect() refuses a set whose paths are longer in all than a receiver takes, before anything is offered", async () => {
  const dir = await tree();
  try {
    // "album/a.txt", "album/b.txt", "album/sub/deeper/c.txt" and "album/empty": 55 characters.
    assert.equal((await collect([join(dir, "album")], 55)).chars, 55);
    await assert.rejects(
      collect([join(dir, "album")], 54),
      /^Error: paths of more than 54 characters in all in one set$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
