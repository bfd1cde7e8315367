import assert from "node:assert/strict";
import { hashKey, KEY_PATTERN, parseKeyFile } from "../../lib/auth/key_file.ts";
import { listLines, runKeysCommand } from "../../lib/auth/keys_command.ts";
import { outputWithin, ROOT } from "../support/helpers.ts";

/** Runs `server.ts keys ...` in `dir` with exactly the permissions given. */
async function keys(dir: string, permissions: string[], ...args: string[]) {
  const { code, stdout, stderr } = await outputWithin(
    Deno.execPath(),
    {
      args: ["run", "--no-prompt", ...permissions, `${ROOT}server.ts`, "keys", ...args],
      cwd: dir,
      env: { NO_COLOR: "1" },
    },
    30_000,
    `server.ts keys ${args.join(" ")} to exit`,
  );
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

const TASK_PERMISSIONS = [
  "--allow-read=switchboard-keys.json,switchboard-keys.json.tmp",
  "--allow-write=switchboard-keys.json,switchboard-keys.json.tmp",
];

Deno.test("the deno.json keys task grants exactly the default file and its temporary file", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const task: string = config.tasks.keys;
  assert.deepEqual(task.match(/--allow-\S+/g), TASK_PERMISSIONS, task);
  assert.match(task, /server\.ts"? keys$/);
});

Deno.test("keys new prints the key once, alone on stdout, and the file keeps only its hash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    const made = await keys(
      dir,
      TASK_PERMISSIONS,
      "new",
      "--label",
      "acme",
      "--max-clients",
      "5",
      "--rate-limit",
      "2",
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^sbk_[A-Za-z0-9_-]{43}\n$/);
    const key = made.stdout.trim();
    assert.match(key, KEY_PATTERN);
    assert.match(made.stderr, /Added key "acme"/);
    assert.ok(!made.stderr.includes(key));
    const text = await Deno.readTextFile(`${dir}/switchboard-keys.json`);
    assert.ok(!text.includes(key), "the file holds no key");
    const [record] = parseKeyFile(text);
    assert.equal(record?.sha256, hashKey(key));
    assert.equal(record?.maxClients, 5);
    assert.equal(record?.rateLimit, 2);
    assert.equal((await Deno.stat(`${dir}/switchboard-keys.json`)).mode! & 0o777, 0o600);

    const list = await keys(dir, TASK_PERMISSIONS, "list");
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^LABEL +MAX-CLIENTS +RATE-LIMIT +CREATED\nacme +5 +2 +\d{4}-/);
    assert.ok(!list.stdout.includes(key) && !list.stdout.includes(record!.sha256));

    const again = await keys(dir, TASK_PERMISSIONS, "new", "--label", "acme");
    assert.equal(again.code, 1);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, /A key labelled "acme" exists/);

    const revoked = await keys(dir, TASK_PERMISSIONS, "revoke", "acme");
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, "");
    assert.deepEqual(parseKeyFile(await Deno.readTextFile(`${dir}/switchboard-keys.json`)), []);
    const missing = await keys(dir, TASK_PERMISSIONS, "revoke", "acme");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No key labelled "acme"/);
    // Nothing left behind but the file itself.
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["switchboard-keys.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys works on a file in another folder, and without permission names the flags", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    const file = `${dir}/etc/keys.json`;
    await Deno.mkdir(`${dir}/etc`);
    const denied = await keys(dir, [], "--keys-file", file, "new", "--label", "acme");
    assert.equal(denied.code, 1);
    assert.equal(denied.stdout, "");
    assert.equal(
      denied.stderr.trim(),
      `Cannot change the keys: writing ${file} needs --allow-read=${file},${file}.tmp ` +
        `--allow-write=${file},${file}.tmp`,
    );
    const scoped = [`--allow-read=${file},${file}.tmp`, `--allow-write=${file},${file}.tmp`];
    const made = await keys(dir, scoped, "--keys-file", file, "new", "--label", "acme");
    assert.equal(made.code, 0, made.stderr);
    assert.equal(
      parseKeyFile(await Deno.readTextFile(file))[0]?.sha256,
      hashKey(made.stdout.trim()),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys new into a redirected stdout says where the key went, not that it is shown below", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    // stdout is a pipe here, as with `deno task keys new --label acme > acme.key`.
    const made = await keys(dir, TASK_PERMISSIONS, "new", "--label", "acme");
    assert.equal(made.code, 0, made.stderr);
    assert.doesNotMatch(made.stderr, /shown once|below/);
    assert.match(
      made.stderr,
      /It went to stdout, its only copy; the keys file keeps its hash alone\./,
    );
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (l: string) => err.push(l), stdoutIsTerminal: true };
    assert.equal(
      await runKeysCommand(["--keys-file", `${dir}/t.json`, "new", "--label", "t"], io),
      0,
    );
    assert.match(err.join("\n"), /It is shown once, below; store it now\./);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys without permission for a path with a space quotes each flag so it pastes as one word", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard keys " });
  try {
    const file = `${dir}/keys.json`;
    const denied = await keys(dir, [], "--keys-file", file, "new", "--label", "acme");
    assert.equal(denied.code, 1);
    const read = `'--allow-read=${file},${file}.tmp'`;
    const write = `'--allow-write=${file},${file}.tmp'`;
    assert.equal(
      denied.stderr.trim(),
      `Cannot change the keys: writing ${file} needs ${read} ${write}`,
    );
    // Pasted into a shell as shown, the flags work.
    const shell = await outputWithin(
      "/bin/sh",
      {
        args: [
          "-c",
          `"${Deno.execPath()}" run --no-prompt ${read} ${write} "${ROOT}server.ts" keys --keys-file "${file}" new --label acme`,
        ],
        env: { NO_COLOR: "1" },
      },
      30_000,
      "the pasted command to exit",
    );
    assert.equal(shell.code, 0, new TextDecoder().decode(shell.stderr));
    assert.match(new TextDecoder().decode(shell.stdout), /^sbk_/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys refuses to write while a temporary file is there, and keeps a file's mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    const file = `${dir}/keys.json`;
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) };
    assert.equal(await runKeysCommand(["--keys-file", file, "new", "--label", "a"], io), 0);
    await Deno.chmod(file, 0o640);
    await Deno.writeTextFile(`${file}.tmp`, "");
    assert.equal(await runKeysCommand(["--keys-file", file, "new", "--label", "b"], io), 1);
    assert.match(err.at(-1)!, /keys\.json\.tmp exists: another keys command is writing/);
    assert.equal(out.length, 1, "no second key printed");
    await Deno.remove(`${file}.tmp`);
    assert.equal(await runKeysCommand(["--keys-file", file, "new", "--label", "b"], io), 0);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o640);
    assert.deepEqual(parseKeyFile(await Deno.readTextFile(file)).map((r) => r.label), ["a", "b"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys answers bad command lines with a usage error and exit code 2", async () => {
  const err: string[] = [];
  const io = { stdout: () => assert.fail("nothing on stdout"), stderr: (l: string) => err.push(l) };
  for (
    const [args, message] of [
      [[], /name a command/],
      [["rotate"], /unknown command "rotate"/],
      [["new"], /new needs --label/],
      [["new", "--label", "a b"], /--label takes letters/],
      [["new", "--label", "a", "--max-clients", "0"], /--max-clients takes a positive whole/],
      [["new", "--label", "a", "--rate-limit", "x"], /--rate-limit takes a positive number/],
      [["list", "--label", "a"], /go with new/],
      [["revoke"], /revoke takes one LABEL/],
      [["--nope"], /Unknown option/],
    ] as const
  ) {
    assert.equal(await runKeysCommand(args, io), 2, args.join(" "));
    assert.match(err.at(-1)!, message);
  }
});

Deno.test("listLines() aligns labels, limits and creation times, and shows no hash", () => {
  const lines = listLines([
    { label: "a", sha256: "d".repeat(64), createdAt: "2026-01-01T00:00:00.000Z" },
    { label: "longer", sha256: "e".repeat(64), maxClients: 100, rateLimit: 0.5, createdAt: "x" },
  ]);
  assert.deepEqual(lines, [
    "LABEL   MAX-CLIENTS  RATE-LIMIT  CREATED",
    "a       -            -           2026-01-01T00:00:00.000Z",
    "longer  100          0.5         x",
  ]);
});
