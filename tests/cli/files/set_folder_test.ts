import assert from "node:assert/strict";
import { join } from "node:path";
import { SetFolder } from "../../../lib/cli/files/set_folder.ts";

async function receive(folder: SetFolder, path: string, text: string): Promise<void> {
  const sink = await folder.open({ path, size: text.length });
  await sink.write(new TextEncoder().encode(text));
  await sink.commit();
}

Deno.test("a set's folders are made new under the download folder, never into one that was there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-set-" });
  try {
    await Deno.mkdir(join(dir, "album"));
    await Deno.writeTextFile(join(dir, "album/mine.txt"), "mine");
    await Deno.symlink("/tmp", join(dir, "album (1)"));
    const folder = new SetFolder(dir);
    await folder.folders(["album/empty"]);
    await receive(folder, "album/sub/a.txt", "a");
    await receive(folder, "album/sub/a.txt", "again");
    await receive(folder, "top.txt", "top");
    assert.deepEqual(folder.tops, ["album (2)"]);
    assert.equal(await Deno.readTextFile(join(dir, "album (2)/sub/a.txt")), "a");
    assert.equal(await Deno.readTextFile(join(dir, "album (2)/sub/a (1).txt")), "again");
    assert.equal(await Deno.readTextFile(join(dir, "top.txt")), "top");
    assert.ok((await Deno.stat(join(dir, "album (2)/empty"))).isDirectory);
    assert.equal(await Deno.readTextFile(join(dir, "album/mine.txt")), "mine");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a set's file where its folder should be fails alone, and unsafe paths are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-set-" });
  try {
    const folder = new SetFolder(dir);
    await receive(folder, "d/x", "a file");
    await assert.rejects(folder.open({ path: "d/x/y", size: 1 }), /d\/x is a file, not a folder/);
    for (const bad of ["../x", "d/../x", "/x", "d//x", "d\\..\\x"]) {
      await assert.rejects(folder.open({ path: bad, size: 1 }), /an unsafe path/, bad);
    }
    const sink = await folder.open({ path: "d/gone.txt", size: 1 });
    await sink.abort();
    const names = [];
    for await (const entry of Deno.readDir(join(dir, "d"))) names.push(entry.name);
    assert.deepEqual(names, ["x"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeEmpty() takes away the folders a set made that hold nothing, and nothing else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-set-" });
  try {
    await Deno.mkdir(join(dir, "mine"));
    const folder = new SetFolder(dir);
    await folder.folders(["photos/empty", "photos/2024/deep"]);
    const sink = await folder.open({ path: "photos/2024/a.jpg", size: 1 });
    await sink.write(new Uint8Array(1));
    await sink.abort();
    await receive(folder, "other/kept.txt", "kept");
    folder.removeEmpty();
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["mine", "other"]);
    assert.equal(await Deno.readTextFile(join(dir, "other/kept.txt")), "kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
