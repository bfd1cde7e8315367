import assert from "node:assert/strict";
import { Child, spawnServer, TestClient, testServer, within } from "../support/helpers.ts";
import { TcpRelay } from "../support/tcp_relay.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

type Message = Record<string, unknown>;

/** `client.ts --reconnect --accept` at `url`, retrying every 50 ms, with a stdin to type into. */
function spawnReconnectingClient(url: string): Child {
  return new Child(
    [
      "run",
      "--allow-net",
      "--no-prompt",
      "client.ts",
      "--reconnect",
      "--accept",
      "--retry-delay",
      "0.05",
      "--url",
      url,
    ],
    undefined,
    true,
  );
}

/** `partner` asks the client (run with --accept) to pair, and both see it. */
async function pairWith(partner: { client: TestClient; id: string }, client: Child, id: string) {
  partner.client.send({ type: "pair_request", target: id });
  assert.deepEqual(await partner.client.next(), { type: "paired", peer: id, initiator: true });
  await client.waitForLine(new RegExp(`Paired with ${partner.id}`), "stdout");
}

Deno.test("client --reconnect resumes its id and pairing after the server's port was unreachable for a while", async () => {
  await using t = testServer();
  await using relay = new TcpRelay(t.port);
  await using client = spawnReconnectingClient(`ws://127.0.0.1:${relay.port}`);
  const [, id] = await client.waitForLine(ID_LINE, "stdout");
  const partner = await TestClient.connect(t.url);
  await using _partner = partner.client;
  await pairWith(partner, client, id!);

  await relay.cut();
  assert.deepEqual(await partner.client.next(), { type: "peer_reconnecting", peer: id });
  // The port refuses connections now, and the client keeps trying.
  await client.waitForLine(/Failed to connect to .*: connection refused/);
  partner.client.send({ type: "relay", data: "said while you were away" });
  await t.logs.waitFor(/Relayed relay from/);
  relay.restore();

  await client.waitForLine(
    new RegExp(`^\\*\\*\\* Reconnected as ${id}; still paired with ${partner.id} \\*\\*\\*$`),
    "stdout",
  );
  await client.waitForLine(new RegExp(`^${partner.id}: said while you were away$`), "stdout");
  assert.deepEqual(await partner.client.next(), { type: "peer_back", peer: id });
  await client.type("send glad to be back");
  assert.deepEqual(await partner.client.next(), {
    type: "relay",
    data: "glad to be back",
    from: id,
  });
  // One id line in all: the session never changed.
  assert.equal(client.stdout.filter((line) => ID_LINE.test(line)).length, 1);
  assert.equal(client.stdout.filter((line) => line.includes("said while you were away")).length, 1);
  client.process.kill("SIGINT");
  assert.equal((await client.exit()).code, 0);
  // The token travelled only in the URL: neither side logged it.
  assert.equal(client.stderr.filter((line) => /resume=/.test(line)).length, 0);
  assert.equal(t.logs.matching(/resume=/).length, 0);
});

Deno.test("client --reconnect says plainly that the session was lost when the server restarted, and shows the new id", async () => {
  const first = await spawnServer();
  await using _first = first.child;
  await using client = spawnReconnectingClient(first.url);
  const [, id] = await client.waitForLine(ID_LINE, "stdout");
  const partner = await TestClient.connect(first.url);
  await pairWith(partner, client, id!);
  first.child.process.kill("SIGKILL");
  await first.child.exit();
  await within(partner.client.closed, 5000, "the partner's connection to end");
  await client.waitForLine(/Reconnecting in/);
  const second = await spawnServer([], first.port);
  await using _second = second.child;
  await client.waitForLine(
    new RegExp(
      `^\\*\\*\\* Could not resume the session of ${id} \\(no longer paired with ${partner.id}\\): this is a new session \\*\\*\\*$`,
    ),
    "stdout",
  );
  const [, newId] = await client.waitForLine(ID_LINE, "stdout", 10_000, 2);
  assert.notEqual(newId, id);
  // The new session is resumable too, and usable at once.
  const other = await TestClient.connect(second.url);
  await using _other = other.client;
  await pairWith(other, client, newId!);
  client.process.kill("SIGINT");
  assert.equal((await client.exit()).code, 0);
});
