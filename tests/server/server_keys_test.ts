/**
 * `server.ts --api-keys` and `client.ts` as processes: the keys file at
 * start and on SIGHUP, and the client's two ways of getting its key. Every
 * line any of them printed is searched for the keys.
 */

import assert from "node:assert/strict";
import { formatKeyFile, generateKey, hashKey, type KeyRecord } from "../../lib/auth/key_file.ts";
import { Child, spawnServer, TestClient, within } from "../support/helpers.ts";

const AT = "2026-11-26T03:41:22.123Z";

function makeKey(label: string): { key: string; record: KeyRecord } {
  const key = generateKey();
  return { key, record: { label, sha256: hashKey(key), createdAt: AT } };
}

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/** Starts `server.ts --api-keys file` with read access to that file alone. */
function spawnKeyedServer(file: string): Promise<{ child: Child; url: string; port: number }> {
  return spawnServer(["--api-keys", file], 0, [`--allow-read=${file}`]);
}

function assertNoKeys(texts: string[], keys: string[]): void {
  const all = texts.join("\n");
  for (const key of keys) {
    assert.ok(!all.includes(key), `a key appears in the output:\n${all}`);
    // Nor any long piece of it.
    assert.ok(!all.includes(key.slice(4, 24)), "part of a key appears in the output");
  }
}

Deno.test("SIGHUP reloads the keys: new ones work at once, revoked ones are closed, others untouched, a corrupt file changes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  const file = `${dir}/keys.json`;
  const acme = makeKey("acme");
  const globex = makeKey("globex");
  const initech = makeKey("initech");
  const later = makeKey("later");
  try {
    await Deno.writeTextFile(file, formatKeyFile([acme.record, globex.record]));
    const server = await spawnKeyedServer(file);
    await using _server = server.child;
    await server.child.waitForLine(/Clients need an API key \(keys loaded: 2\)/);
    const a = await TestClient.connect(server.url, bearer(acme.key));
    const g1 = await TestClient.connect(server.url, bearer(globex.key));
    const g2 = await TestClient.connect(server.url, bearer(globex.key));
    await using _a = a.client;
    await using _g1 = g1.client;
    await using _g2 = g2.client;
    g1.client.send({ type: "pair_request", target: g2.id });
    await g2.client.next();
    g2.client.send({ type: "pair_accept", from: g1.id });
    await g1.client.next();
    await g2.client.next();

    // Revoke acme, add initech: as `deno task keys` would, by renaming a whole file into place.
    await Deno.writeTextFile(`${file}.tmp`, formatKeyFile([globex.record, initech.record]));
    await Deno.rename(`${file}.tmp`, file);
    server.child.process.kill("SIGHUP");
    const closed = await within(a.client.closed, 5000, "the revoked client to be closed");
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, "key revoked");
    await server.child.waitForLine(
      /Reloaded .*keys\.json: 2 keys; closed 1 client of revoked keys/,
    );
    assert.match(
      server.child.stderr.join("\n"),
      new RegExp(`Client ${a.id} at [\\d.:]+: key "acme" revoked`),
    );
    const i = await TestClient.connect(server.url, bearer(initech.key));
    await using _i = i.client;
    await assert.rejects(
      new TestClient(server.url, bearer(acme.key)).openedWithin(5000, "the revoked key's refusal"),
    );
    g1.client.send({ type: "relay", data: "after the reload" });
    assert.deepEqual(await g2.client.next(), {
      type: "relay",
      data: "after the reload",
      from: g1.id,
    });

    // A file that does not parse keeps the keys the server has.
    await Deno.writeTextFile(file, `{"version": 1, "keys": [${JSON.stringify(later.record)}`);
    server.child.process.kill("SIGHUP");
    const error = await server.child.waitForLine(/ERROR: Kept the old keys: /);
    assert.match(
      error.input ?? "",
      /Kept the old keys: \S+keys\.json: not JSON at line 1, column \d+/,
    );
    const g3 = await TestClient.connect(server.url, bearer(globex.key));
    await using _g3 = g3.client;
    await assert.rejects(
      new TestClient(server.url, bearer(later.key)).openedWithin(5000, "the unknown key's refusal"),
    );
    g2.client.send({ type: "relay", data: "still paired" });
    assert.deepEqual(await g1.client.next(), { type: "relay", data: "still paired", from: g2.id });
    assert.equal(server.child.stderr.filter((l) => /ERROR/.test(l)).length, 1);

    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(metrics, /switchboard_key_clients\{key="globex"\} 3/);
    assert.match(metrics, /switchboard_key_clients\{key="initech"\} 1/);
    assert.doesNotMatch(metrics, /key="acme"/);
    assertNoKeys(
      [...server.child.stdout, ...server.child.stderr, metrics],
      [acme.key, globex.key, initech.key, later.key],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a keys file that cannot be read or parsed stops the server at start with one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  const file = `${dir}/keys.json`;
  try {
    await Deno.writeTextFile(file, '{"version": 1, "keys": [{"label": "a b"}]}');
    const cases: [string[], RegExp][] = [
      [[`--allow-read=${file}`], /Cannot start: .*keys\.json: keys\[0\]\.label must match/],
      [[], new RegExp(`Cannot start: --api-keys ${file} needs --allow-read=${file}$`)],
      [[`--allow-read=${dir}`], /Cannot start: cannot read .*nothing\.json: No such file/],
    ];
    for (const [permissions, message] of cases) {
      const missing = permissions[0] === `--allow-read=${dir}`;
      await using child = new Child([
        "run",
        "--allow-net",
        ...permissions,
        "--no-prompt",
        "server.ts",
        "--port",
        "0",
        "--api-keys",
        missing ? `${dir}/nothing.json` : file,
      ]);
      const status = await child.exit();
      assert.equal(status.code, 1);
      assert.equal(child.stderr.filter((l) => l.trim()).length, 1, child.stderr.join("\n"));
      assert.match(child.stderr[0]!, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--api-keys naming the wrong file logs its line and column, never its bytes, at start and on SIGHUP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  try {
    // The key itself where the keys file should be, and a symlink to a system file.
    const { key, record } = makeKey("acme");
    const keyText = `${dir}/acme.key`;
    await Deno.writeTextFile(keyText, `${key}\n`);
    const system = `${dir}/passwd`;
    await Deno.writeTextFile(system, "root:x:0:0:root:/root:/bin/bash\n");
    const link = `${dir}/keys.json`;
    await Deno.symlink(system, link);
    for (const file of [keyText, link]) {
      await using child = new Child([
        "run",
        "--allow-net",
        `--allow-read=${dir}`,
        "--no-prompt",
        "server.ts",
        "--port",
        "0",
        "--api-keys",
        file,
      ]);
      assert.equal((await child.exit()).code, 1);
      const lines = child.stderr.filter((l) => l.trim());
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(
        lines[0]!,
        new RegExp(`ERROR: Cannot start: ${file}: not JSON at line 1, column 1: expected a value`),
      );
      assert.doesNotMatch(lines[0]!, /sbk_|root|bash/);
    }

    // On SIGHUP, the old keys stay and the line quotes nothing either.
    await Deno.remove(link);
    await Deno.writeTextFile(link, formatKeyFile([record]));
    const server = await spawnKeyedServer(link);
    await using _server = server.child;
    await Deno.remove(link);
    await Deno.copyFile(keyText, link);
    server.child.process.kill("SIGHUP");
    const line = (await server.child.waitForLine(/ERROR: Kept the old keys.*/))[0];
    assert.match(
      line,
      /Kept the old keys: \S+keys\.json: not JSON at line 1, column 1: expected a value/,
    );
    assert.doesNotMatch(line, /sbk_/);
    const { client } = await TestClient.connect(server.url, bearer(key));
    await using _client = client;
    assertNoKeys([...server.child.stdout, ...server.child.stderr], [key]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client.ts sends its key from SWITCHBOARD_API_KEY or --api-key-file, and says what a 401 means", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-keys-" });
  const file = `${dir}/keys.json`;
  const keyFile = `${dir}/client-key.txt`;
  const acme = makeKey("acme");
  const wrong = generateKey();
  try {
    await Deno.writeTextFile(file, formatKeyFile([acme.record]));
    await Deno.writeTextFile(keyFile, `${acme.key}\n`);
    const server = await spawnKeyedServer(file);
    await using _server = server.child;
    const outputs: string[] = [];
    const run = async (permissions: string[], args: string[], env: Record<string, string> = {}) => {
      await using child = new Child(
        [
          "run",
          "--allow-net",
          ...permissions,
          "--no-prompt",
          "client.ts",
          "--url",
          server.url,
          "--once",
          ...args,
        ],
        undefined,
        false,
        undefined,
        env,
      );
      const status = await child.exit();
      outputs.push(...child.stdout, ...child.stderr);
      return {
        code: status.code,
        stdout: child.stdout.join("\n"),
        stderr: child.stderr.join("\n"),
      };
    };
    const ID = /\*\*\* Your Client ID: [0-9a-f-]{36} \*\*\*/;

    const fromEnv = await run(["--allow-env=SWITCHBOARD_API_KEY"], [], {
      SWITCHBOARD_API_KEY: acme.key,
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.match(fromEnv.stdout, ID);

    const fromFile = await run([`--allow-read=${keyFile}`], ["--api-key-file", keyFile]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, ID);

    // Without the permission the variable is not read, and the 401 says how to send a key.
    const unread = await run([], [], { SWITCHBOARD_API_KEY: acme.key });
    assert.equal(unread.code, 1);
    assert.match(
      unread.stderr,
      /Failed to connect to .*: the server wants an API key \(401\): set SWITCHBOARD_API_KEY/,
    );

    const refused = await run(["--allow-env=SWITCHBOARD_API_KEY"], [], {
      SWITCHBOARD_API_KEY: wrong,
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the server refused the API key \(401: not valid, or revoked\)/);

    const noRead = await run([], ["--api-key-file", keyFile]);
    assert.equal(noRead.code, 1);
    assert.equal(
      noRead.stderr.trim(),
      `Cannot read the API key: --api-key-file ${keyFile} needs --allow-read=${keyFile}`,
    );

    const notKey = await run(["--allow-env=SWITCHBOARD_API_KEY"], [], {
      SWITCHBOARD_API_KEY: `${acme.key}x`,
    });
    assert.equal(notKey.code, 1);
    assert.equal(
      notKey.stderr.trim(),
      "Cannot read the API key: SWITCHBOARD_API_KEY does not hold a Switchboard API key (sbk_ and 43 characters) or an access token",
    );

    server.child.process.kill("SIGTERM");
    await server.child.exit();
    assertNoKeys([...outputs, ...server.child.stdout, ...server.child.stderr], [acme.key, wrong]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
