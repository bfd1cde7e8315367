import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnPeerWith, testServer } from "../../support/helpers.ts";
import { TestIssuer, verifierFor } from "../../support/tokens.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

// werift leaves timers and sockets behind in the peer processes, never here:
// this test only spawns processes and talks to them.

Deno.test("a peer whose access token has grants.files false turns every file away, and the sender hears why", async () => {
  const issuer = await TestIssuer.create();
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const from = await Deno.makeTempDir({ prefix: "switchboard-send-" });
  const to = await Deno.makeTempDir({ prefix: "switchboard-receive-" });
  try {
    await using receiver = spawnPeerWith(
      {
        cwd: to,
        permissions: [`--allow-read=${to}`, `--allow-write=${to}`],
        env: { SWITCHBOARD_TOKEN: await issuer.mint({ sub: "bob", grants: { files: false } }) },
      },
      "--url",
      t.url,
      "--accept",
      "--accept-files",
    );
    const [, receiverId = ""] = await receiver.waitForLine(ID_LINE, "stdout");
    await using sender = spawnPeerWith(
      {
        cwd: from,
        permissions: [`--allow-read=${from}`],
        env: { SWITCHBOARD_TOKEN: await issuer.mint({ sub: "ada" }) },
      },
      "--url",
      t.url,
      "--pair",
      receiverId,
    );
    await sender.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
    await Deno.writeTextFile(join(from, "note.txt"), "hello");
    await sender.type("sendfile note.txt");
    await sender.waitForLine(
      /^\*\*\* \S+ declined note\.txt \(file 1\): this user may not receive files \(the app's access token says so\) \*\*\*$/,
      "stdout",
    );
    await receiver.waitForLine(
      /^\*\*\* \S+ offered a file: declined, this user may not receive files \(the app's access token says so\) \*\*\*$/,
      "stdout",
    );
    const nothing = [];
    for await (const entry of Deno.readDir(to)) nothing.push(entry.name);
    assert.deepEqual(nothing, []);
  } finally {
    await Deno.remove(from, { recursive: true });
    await Deno.remove(to, { recursive: true });
  }
});
