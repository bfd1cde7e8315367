import assert from "node:assert/strict";
import { shellWord } from "../../lib/runtime/permissions.ts";
import { Child, ROOT, testServer } from "../support/helpers.ts";

Deno.test("shellWord() leaves a plain flag alone and quotes one with a space or a quote as one word", () => {
  assert.equal(shellWord("--allow-read=/srv/a_b-c.d,/e"), "--allow-read=/srv/a_b-c.d,/e");
  assert.equal(shellWord("--allow-read=/tmp/my files"), "'--allow-read=/tmp/my files'");
  assert.equal(shellWord("--allow-read=/tmp/it's"), "'--allow-read=/tmp/it'\\''s'");
  assert.equal(shellWord("--allow-read=/tmp/$HOME`x`"), "'--allow-read=/tmp/$HOME`x`'");
});

Deno.test("a download folder with a space gets a permission hint that works when pasted", async () => {
  const parent = await Deno.makeTempDir({ prefix: "switchboard-" });
  const dir = `${parent}/my downloads`;
  await Deno.mkdir(dir);
  try {
    await using t = testServer();
    const peer = (permissions: string) =>
      new Child(
        [
          "-c",
          `"${Deno.execPath()}" run --no-prompt --allow-net --allow-env ` +
          `--allow-sys=networkInterfaces ${permissions} client.ts --webrtc --once ` +
          `--url ${t.url} --download-dir "${dir}"`,
        ],
        ROOT,
        false,
        "/bin/sh",
      );
    await using denied = peer("");
    assert.equal((await denied.exit(30_000)).code, 2);
    const read = `'--allow-read=${dir}'`;
    const write = `'--allow-write=${dir}'`;
    assert.deepEqual(denied.stderr, [
      `Receiving files into ${dir} needs ${read} ${write} (or run: deno task peer-files)`,
    ]);
    await using allowed = peer(`${read} ${write}`);
    assert.equal((await allowed.exit(30_000)).code, 0, allowed.stderr.join("\n"));
    assert.match(allowed.stdout.join("\n"), /Your Client ID/);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
