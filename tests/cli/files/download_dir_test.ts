import assert from "node:assert/strict";
import { checkDownloadDir } from "../../../lib/cli/files/download_dir.ts";

Deno.test("checkDownloadDir() says nothing when no file is received", async () => {
  const said: string[] = [];
  assert.equal(
    await checkDownloadDir({ acceptFiles: false, downloadDir: "." }, (l) => said.push(l)),
    0,
  );
  assert.deepEqual(said, []);
});

Deno.test("checkDownloadDir() makes a missing folder and says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-download-" });
  try {
    const said: string[] = [];
    const target = `${dir}/new/inbox`;
    assert.equal(
      await checkDownloadDir({ acceptFiles: true, downloadDir: target }, (l) => said.push(l)),
      0,
    );
    assert.deepEqual(said, [`Made the download folder ${target}`]);
    assert.ok((await Deno.stat(target)).isDirectory);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkDownloadDir() refuses a file where the folder should be, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-download-" });
  try {
    await Deno.writeTextFile(`${dir}/file`, "");
    const said: string[] = [];
    assert.equal(
      await checkDownloadDir(
        { acceptFiles: true, downloadDir: `${dir}/file` },
        (l) => said.push(l),
      ),
      2,
    );
    assert.deepEqual(said, [`--download-dir ${dir}/file: not a folder`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
