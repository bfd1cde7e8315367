import assert from "node:assert/strict";
import { readTurnSecret, TURN_SECRET_ENV } from "../../../lib/server/turn/secret.ts";
import { turnKey, turnPassword } from "../../../lib/server/turn/credentials.ts";
import { Child, outputWithin, spawnServer, TestClient } from "../../support/helpers.ts";

const SECRET = "not-for-the-logs-3b9f";

/** Runs `server.ts` with `permissions`, `args` and `env`, until it exits. */
async function serverExit(permissions: string[], args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await outputWithin(
    Deno.execPath(),
    {
      args: ["run", ...permissions, "--no-prompt", "server.ts", "--port", "0", ...args],
      cwd: new URL("../../..", import.meta.url).pathname,
      env: { NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    },
    30_000,
    "server.ts to exit (it should refuse to start)",
  );
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return { code, lines: text.split("\n").filter((line) => line !== "") };
}

async function withSecretFile<T>(fn: (file: string) => Promise<T>): Promise<T> {
  const file = await Deno.makeTempFile({ prefix: "switchboard-turn-secret-" });
  try {
    await Deno.writeTextFile(file, `${SECRET}\n`);
    return await fn(file);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("readTurnSecret() takes the file's text without its trailing newline", async () => {
  await withSecretFile(async (file) => assert.equal(await readTurnSecret(file), SECRET));
});

Deno.test("readTurnSecret() refuses an empty file and names it, not its contents", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, " \n");
    await assert.rejects(readTurnSecret(file), new Error(`the TURN secret file ${file} is empty`));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("the server gives each partner its own TURN credentials in paired, and logs no secret", async () => {
  await withSecretFile(async (file) => {
    const { child, url, port } = await spawnServer(
      [
        "--turn-url",
        "turn:127.0.0.1:3478?transport=udp",
        "--turn-url",
        "turn:127.0.0.1:3478?transport=tcp",
        "--turn-secret-file",
        file,
        "--turn-ttl",
        "120",
        "--ice-server",
        "stun:127.0.0.1:3478",
      ],
      0,
      [`--allow-read=${file}`],
    );
    await using _server = child;
    const a = await TestClient.connect(url);
    await using _a = a.client;
    const b = await TestClient.connect(url);
    await using _b = b.client;
    a.client.send({ type: "pair_request", target: b.id });
    await b.client.next();
    const before = Math.floor(Date.now() / 1000);
    b.client.send({ type: "pair_accept", from: a.id });
    const toA = await a.client.next() as {
      iceServers: { username?: string; credential?: string }[];
    };
    const toB = await b.client.next() as {
      iceServers: { username?: string; credential?: string }[];
    };
    const after = Math.floor(Date.now() / 1000);
    const key = await turnKey(SECRET);
    for (const [message, id] of [[toA, a.id], [toB, b.id]] as const) {
      const [turn, stun] = message.iceServers;
      assert.deepEqual(stun, { urls: "stun:127.0.0.1:3478" });
      const [expiry, owner] = (turn?.username ?? "").split(":");
      assert.equal(owner, id, "the username names the client it was issued to");
      assert.ok(Number(expiry) >= before + 120 && Number(expiry) <= after + 120, turn?.username);
      assert.equal(turn?.credential, await turnPassword(key, turn?.username ?? ""));
      assert.deepEqual(Object.keys(turn ?? {}).sort(), ["credential", "urls", "username"]);
    }
    assert.notEqual(toA.iceServers[0]?.credential, toB.iceServers[0]?.credential);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.doesNotMatch(metrics, new RegExp(SECRET));
    await child.waitForLine(/Issuing TURN credentials valid for 120 s for turn:127\.0\.0\.1/);
    assert.doesNotMatch(child.stderr.join("\n") + child.stdout.join("\n"), new RegExp(SECRET));
  });
});

Deno.test("the server takes the TURN secret from SWITCHBOARD_TURN_SECRET with --allow-env for it alone", async () => {
  const { child, url } = await spawnServer(
    ["--turn-url", "turn:127.0.0.1:3478"],
    0,
    [`--allow-env=${TURN_SECRET_ENV}`],
    { [TURN_SECRET_ENV]: SECRET },
  );
  await using _server = child;
  const a = await TestClient.connect(url);
  await using _a = a.client;
  const b = await TestClient.connect(url);
  await using _b = b.client;
  a.client.send({ type: "pair_request", target: b.id });
  await b.client.next();
  b.client.send({ type: "pair_accept", from: a.id });
  const paired = await a.client.next() as {
    iceServers: { username: string; credential: string }[];
  };
  const [turn] = paired.iceServers;
  assert.equal(turn?.credential, await turnPassword(await turnKey(SECRET), turn?.username ?? ""));
});

Deno.test("a TURN secret file without --allow-read for it stops the server with one line naming the flag", async () => {
  await withSecretFile(async (file) => {
    const { code, lines } = await serverExit(["--allow-net"], [
      "--turn-url",
      "turn:127.0.0.1:3478",
      "--turn-secret-file",
      file,
    ]);
    assert.equal(code, 1);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0] ?? "",
      new RegExp(`--turn-secret-file ${file} needs --allow-read=${file}`),
    );
  });
});

Deno.test("a missing TURN secret file stops the server with one line naming it", async () => {
  const { code, lines } = await serverExit(["--allow-net", "--allow-read=/nonexistent"], [
    "--turn-url",
    "turn:127.0.0.1:3478",
    "--turn-secret-file",
    "/nonexistent/turn-secret",
  ]);
  assert.equal(code, 1);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(
    lines[0] ?? "",
    /Cannot start: cannot read the TURN secret file \/nonexistent\/turn-secret \(no such file\)/,
  );
});

Deno.test("--turn-url with no secret anywhere stops the server with one line naming both ways", async () => {
  const { code, lines } = await serverExit(["--allow-net"], ["--turn-url", "turn:127.0.0.1:3478"], {
    [TURN_SECRET_ENV]: SECRET,
  });
  assert.equal(code, 1);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0] ?? "", /--turn-secret-file FILE .*--allow-env=SWITCHBOARD_TURN_SECRET/);
  assert.doesNotMatch(lines[0] ?? "", new RegExp(SECRET));
});

// The secret is never taken from a flag's value (anyone sees those in `ps`).
Deno.test("the server has no flag that takes the TURN secret itself", async () => {
  await using server = new Child(["run", "--allow-net", "server.ts", "--turn-secret", SECRET]);
  assert.equal((await server.exit()).code, 2);
  assert.match(server.stderr.at(-1) ?? "", /Unknown option '--turn-secret'/);
});
