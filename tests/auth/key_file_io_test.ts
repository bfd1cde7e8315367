import assert from "node:assert/strict";
import { generateKey, hashKey, KeyFileError } from "../../lib/auth/key_file.ts";
import {
  readKeyFile,
  readKeyFileOrNone,
  tempPath,
  writeKeyFile,
} from "../../lib/auth/key_file_io.ts";

const record = {
  label: "acme",
  sha256: hashKey(generateKey()),
  createdAt: "2026-11-26T03:41:22.123Z",
};

Deno.test("writeKeyFile() then readKeyFile() gives the same keys, and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    const file = `${dir}/keys.json`;
    await writeKeyFile(file, [record]);
    assert.deepEqual(await readKeyFile(file, "--api-keys"), [record]);
    await assert.rejects(Deno.stat(tempPath(file)), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeKeyFile() will not write while the temporary file exists, and the file stays as it was", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    const file = `${dir}/keys.json`;
    await writeKeyFile(file, [record]);
    await Deno.writeTextFile(tempPath(file), "half a file");
    await assert.rejects(writeKeyFile(file, []), KeyFileError);
    assert.deepEqual(await readKeyFile(file, "--api-keys"), [record]);
    assert.equal(await Deno.readTextFile(tempPath(file)), "half a file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readKeyFile() names the file in every error; readKeyFileOrNone() takes a missing file as empty", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    const file = `${dir}/keys.json`;
    await assert.rejects(readKeyFile(file, "--api-keys"), /cannot read .*keys\.json/);
    assert.deepEqual(await readKeyFileOrNone(file), []);
    await Deno.writeTextFile(file, '{"version": 1, "keys": [{}]}');
    await assert.rejects(readKeyFile(file, "--api-keys"), /keys\.json: keys\[0\]\.label/);
    await assert.rejects(readKeyFileOrNone(file), KeyFileError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
