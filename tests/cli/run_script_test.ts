/**
 * The command-line client as a user sees it, end to end: real `client.ts`
 * subprocesses against a real server, scripted (piped) and typed, with every
 * line they print checked.
 */
import assert from "node:assert/strict";
import { Child, ROOT, TestClient, testServer } from "../support/helpers.ts";
import { fromElsewhere, readmeCommands, ShellCommand } from "../support/readme.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

/** `deno run --allow-net --no-prompt client.ts ...args`, stdin piped. */
function spawnClient(...args: string[]): Child {
  return new Child(["run", "--allow-net", "--no-prompt", "client.ts", ...args], ROOT, true);
}

/** Writes `script` to the client's stdin and closes it, as `printf ... | client` does. */
async function pipe(client: Child, script: string): Promise<void> {
  const writer = client.process.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
}

/** The stdout lines after the id and the hint. */
function events(client: Child): string[] {
  return client.stdout.filter((line) =>
    !ID_LINE.test(line) && line !== "*** Type help for the commands ***"
  );
}

Deno.test("a piped 'pair B, send hello, quit' waits for the pairing, and B gets hello", async () => {
  await using t = testServer();
  await using b = spawnClient("--url", t.url, "--accept");
  const [, bId] = await b.waitForLine(ID_LINE, "stdout");
  await using a = spawnClient("--url", t.url);
  await pipe(a, `pair ${bId}\nsend hello\nquit\n`);
  assert.equal((await a.exit()).code, 0, a.stderr.join("\n"));
  const aId = a.stdout[0]?.match(ID_LINE)?.[1];
  assert.ok(aId, a.stdout.join("\n"));
  await b.waitForLine(new RegExp(`^${aId}: hello$`), "stdout");
  // No WebRTC words in plain mode, and no "No partner to send to".
  assert.deepEqual(events(a).filter((line) => !/ Asked /.test(line)), [
    `*** Paired with ${bId} ***`,
  ]);
  assert.deepEqual(events(b).slice(0, 2), [
    `*** Pair request from ${aId}; accepting it (--accept) ***`,
    `*** Paired with ${aId} ***`,
  ]);
});

Deno.test("the README's scripted example, run as written from another folder, says hello to the peer", async () => {
  const commands = await readmeCommands("Scripted use");
  assert.equal(commands.length, 1, commands.join("\n"));
  await using t = testServer();
  await using b = spawnClient("--url", t.url, "--accept");
  const [, bId = ""] = await b.waitForLine(ID_LINE, "stdout");
  const dir = await Deno.makeTempDir({ prefix: "switchboard-script-" });
  try {
    // The only change: the test's server, not the default ws://localhost:8765.
    await using a = new ShellCommand(`${fromElsewhere(commands[0]!, t.port)} --url ${t.url}`, dir, {
      PEER: bId,
    });
    assert.equal((await a.exit(30_000)).code, 0, a.stderr.join("\n"));
    await b.waitForLine(/^\S+: hello$/, "stdout");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a piped script goes on after a rejection, and the rejecting client acknowledges it", async () => {
  await using t = testServer();
  await using b = spawnClient("--url", t.url);
  const [, bId] = await b.waitForLine(ID_LINE, "stdout");
  await using a = spawnClient("--url", t.url);
  await pipe(a, `pair ${bId}\nsend hello\n`);
  const [, aId] = await b.waitForLine(
    /^\*\*\* Pair request from (\S+) \(accept or reject\) \*\*\*$/,
    "stdout",
  );
  await b.type("reject");
  await b.waitForLine(
    new RegExp(`^\\*\\*\\* Rejected the pair request from ${aId} \\*\\*\\*$`),
    "stdout",
  );
  assert.equal((await a.exit()).code, 0, a.stderr.join("\n"));
  assert.deepEqual(events(a).filter((line) => !/ Asked /.test(line)), [
    `*** Pair request to ${bId} ended (rejected) ***`,
    "*** No partner to send to: pair with someone first ***",
  ]);
});

Deno.test("a piped pair that gets no answer waits --answer-timeout, says so, and goes on", async () => {
  await using t = testServer({ pairTimeout: 60 });
  const silent = await TestClient.connect(t.url);
  await using _ = silent.client;
  await using a = spawnClient("--url", t.url, "--answer-timeout", "1");
  const started = Date.now();
  await pipe(a, `pair ${silent.id}\nsend hello\n`);
  assert.equal((await a.exit()).code, 0, a.stderr.join("\n"));
  assert.ok(Date.now() - started >= 1000, "it waited for the answer");
  assert.deepEqual(events(a), [
    `*** Asked ${silent.id} to pair; waiting for an answer ***`,
    `*** No answer from ${silent.id} within 1 s; going on with the next command ***`,
    "*** No partner to send to: pair with someone first ***",
  ]);
});

Deno.test("pair with an unknown id or your own prints only the outcome, once, and logs nothing", async () => {
  await using t = testServer();
  await using a = spawnClient("--url", t.url);
  const [, aId] = await a.waitForLine(ID_LINE, "stdout");
  await a.type("pair nonsense");
  await a.waitForLine(
    /^\*\*\* Error \(unknown_peer\): no client has the id nonsense \*\*\*$/,
    "stdout",
  );
  await a.type(`pair ${aId}`);
  await a.waitForLine(/^\*\*\* You cannot pair with yourself \*\*\*$/, "stdout");
  // A bad command answered locally: a barrier for anything still on its way.
  await a.type("bogus");
  await a.waitForLine(/unknown command "bogus"/, "stdout");
  await a.type("quit");
  assert.equal((await a.exit()).code, 0);
  assert.deepEqual(events(a), [
    "*** Error (unknown_peer): no client has the id nonsense ***",
    "*** You cannot pair with yourself ***",
    '*** unknown command "bogus"; type help ***',
  ]);
  assert.doesNotMatch(a.stderr.join("\n"), /WARN|unknown_peer|no client/);
});

Deno.test("a pair still waiting after a moment says it asked, then the outcome", async () => {
  await using t = testServer();
  const target = await TestClient.connect(t.url);
  await using _ = target.client;
  await using a = spawnClient("--url", t.url);
  await a.waitForLine(ID_LINE, "stdout");
  await a.type(`pair ${target.id}`);
  await a.waitForLine(/ Asked \S+ to pair; waiting for an answer \*\*\*$/, "stdout");
  const request = await target.client.next() as { from: string };
  target.client.send({ type: "pair_accept", from: request.from });
  await a.waitForLine(new RegExp(`^\\*\\*\\* Paired with ${target.id} \\*\\*\\*$`), "stdout");
  await a.type("quit");
  assert.equal((await a.exit()).code, 0);
});

Deno.test("'Connected to server.' reaches the terminal before the id and the hint", async () => {
  await using t = testServer();
  // One pipe for both streams, as a terminal shows them.
  await using a = new Child(
    ["-c", `"${Deno.execPath()}" run --allow-net --no-prompt client.ts --url ${t.url} 2>&1`],
    ROOT,
    true,
    "/bin/sh",
  );
  await a.waitForLine(/Type help for the commands/, "stdout");
  await a.type("quit");
  assert.equal((await a.exit()).code, 0);
  const lines = a.stdout.map((line) => line.replace(/^\S+Z /, ""));
  const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
  assert.ok(at(/^INFO: Connected to server\.$/) >= 0, lines.join("\n"));
  assert.ok(at(/^INFO: Connected to server\.$/) < at(ID_LINE), lines.join("\n"));
  assert.ok(at(ID_LINE) < at(/Type help/), lines.join("\n"));
});

for (
  const [program, args] of [["client.ts", ["--bogus"]], ["server.ts", ["--bogus"]], [
    "server.ts",
    ["keys", "--bogus"],
  ]] as const
) {
  Deno.test(`a usage error of ${program} ${args.join(" ")} prints the usage, then the error as its last line`, async () => {
    await using child = new Child(["run", "--allow-net", "--no-prompt", program, ...args]);
    assert.equal((await child.exit()).code, 2);
    const lines = child.stderr.filter((line) => line !== "");
    assert.match(lines[0] ?? "", /^Usage: /);
    assert.match(lines.at(-1) ?? "", /--bogus/);
    assert.equal(lines.filter((line) => line.includes("--bogus")).length, 1, lines.join("\n"));
  });
}
