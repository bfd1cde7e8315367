import assert from "node:assert/strict";
import { generateKey, hashKey } from "../../lib/auth/key_file.ts";
import {
  Child,
  HANDSHAKE_HEADERS,
  rawRequest,
  spawnServer,
  TestClient,
  testServer,
  within,
} from "../support/helpers.ts";
import { RawWebSocket } from "../support/raw_websocket.ts";
import { type Claims, mintHs256, TestIssuer, verifierFor } from "../support/tokens.ts";

type Message = Record<string, unknown>;

const issuer = await TestIssuer.create("k1");

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** A token client of the issuer, connected, with its id read. */
async function connect(url: string, claims: Claims) {
  return await TestClient.connect(url, bearer(await issuer.mint(claims)));
}

async function refusal(port: number, headers: Record<string, string>) {
  const { status, head, conn } = await rawRequest(port, { ...HANDSHAKE_HEADERS, ...headers });
  conn.close();
  return { status, head };
}

Deno.test("a server that takes tokens refuses a handshake without one with 401 and a bare challenge", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const { status, head } = await refusal(t.port, {});
  assert.equal(status, 401);
  assert.match(head, /\r\nwww-authenticate: Bearer realm="switchboard"\r\n/i);
  await t.logs.waitFor(/: 401 access token required/);
});

Deno.test("a refused token gets 401 invalid_token with the reason, and the log says why without the token", async () => {
  const stranger = await TestIssuer.create("k1");
  await using t = testServer({ tokens: await verifierFor(issuer, { audience: "chat" }) });
  const cases: [string, string][] = [
    [await issuer.mint({ sub: "ada", aud: "chat", expiresIn: -31 }), "token expired"],
    [await issuer.mint({ sub: "ada", aud: "shop" }), "wrong audience"],
    [await stranger.mint({ sub: "ada", aud: "chat" }), "bad signature"],
    [await issuer.mint({ sub: "ada", aud: "chat" }, { kid: "k9" }), "unknown key (kid)"],
  ];
  for (const [token, reason] of cases) {
    const { status, head } = await refusal(t.port, { authorization: `Bearer ${token}` });
    assert.equal(status, 401, head);
    assert.ok(
      head.toLowerCase().includes(
        `www-authenticate: bearer realm="switchboard", error="invalid_token", error_description="${reason}"`,
      ),
      head,
    );
    await t.logs.waitFor(new RegExp(`: 401 access token refused: ${escape(reason)}`));
  }
  const logs = t.logs.lines.join("\n");
  for (const [token] of cases) {
    assert.ok(!logs.includes(token) && !logs.includes(token.split(".")[2]!), "no token in the log");
  }
  assert.equal(t.server.registry.size, 0);
});

Deno.test("a token in the Authorization header or a subprotocol connects, and the log names its sub", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const token = await issuer.mint({ sub: "ada\u001b[31m", tenant: "acme" });
  const { client: byHeader, id } = await TestClient.connect(t.url, bearer(token));
  await t.logs.waitFor(new RegExp(`Client ${id} \\(user "ada\\\\u001b\\[31m"\\) connected`));
  const { client: byProtocol } = await TestClient.connect(t.url, [
    "switchboard",
    `switchboard.key.${token}`,
  ]);
  assert.equal(byProtocol.socket.protocol, "switchboard");
  assert.ok(!t.logs.lines.join("\n").includes(token));
  await byHeader[Symbol.asyncDispose]();
  await byProtocol[Symbol.asyncDispose]();
});

Deno.test("your_id tells a client whose token has grants.files false that it may not receive files", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const token = await issuer.mint({ sub: "bob", grants: { files: false } });
  const client = new TestClient(t.url, bearer(token));
  await client.openedWithin();
  assert.deepEqual(Object.keys((await client.next()) as Message), ["type", "id", "receive_files"]);
  const other = await connect(t.url, { sub: "ada" });
  assert.equal(other.client.socket.readyState, WebSocket.OPEN);
  await client[Symbol.asyncDispose]();
  await other.client[Symbol.asyncDispose]();
});

Deno.test("clients of different tenants cannot reach each other; of one tenant they can", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const ada = await connect(t.url, { sub: "ada", tenant: "acme" });
  const bob = await connect(t.url, { sub: "bob", tenant: "globex" });
  const carol = await connect(t.url, { sub: "carol", tenant: "acme" });
  ada.client.send({ type: "pair_request", target: bob.id });
  assert.equal(((await ada.client.next()) as Message).code, "unknown_peer");
  ada.client.send({ type: "pair_request", target: carol.id });
  assert.deepEqual(await carol.client.next(), { type: "pair_request", from: ada.id });
  for (const { client } of [ada, bob, carol]) await client[Symbol.asyncDispose]();
});

Deno.test("grants.pair limits whom a client may pair with, by id and by code, both ways", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const ada = await connect(t.url, { sub: "ada", grants: { pair: ["bob"] } });
  const bob = await connect(t.url, { sub: "bob" });
  const eve = await connect(t.url, { sub: "eve" });
  ada.client.send({ type: "pair_request", target: eve.id });
  assert.equal(((await ada.client.next()) as Message).code, "unknown_peer");
  eve.client.send({ type: "pair_request", target: ada.id });
  assert.equal(((await eve.client.next()) as Message).code, "unknown_peer");
  // A code does not get around it.
  ada.client.send({ type: "code_claim" });
  const { nameplate } = (await ada.client.next()) as { nameplate: string };
  eve.client.send({ type: "code_use", nameplate });
  assert.equal(((await eve.client.next()) as Message).code, "unknown_nameplate");
  ada.client.send({ type: "pair_request", target: bob.id });
  assert.deepEqual(await bob.client.next(), { type: "pair_request", from: ada.id });
  for (const { client } of [ada, bob, eve]) await client[Symbol.asyncDispose]();
});

Deno.test("a token client hears token_expiring, then is closed with 1008 once its token expired", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  // Accepted within the 30 s clock allowance, so the close is 2 s away.
  const { client, id } = await connect(t.url, { sub: "ada", expiresIn: -28 });
  const warning = (await client.next()) as Message;
  assert.equal(warning.type, "token_expiring");
  assert.ok(Number(warning.expires_s) <= 2, JSON.stringify(warning));
  const closed = await client.closedWithin(5000);
  assert.equal(closed.code, 1008);
  assert.equal(closed.reason, "token expired");
  await t.logs.waitFor(new RegExp(`Client ${id} \\(user "ada"\\): access token expired`));
  assert.equal(t.server.registry.size, 0);
});

Deno.test("refresh with a fresh token of the same user keeps the connection past the old expiry", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const { client } = await connect(t.url, { sub: "ada", tenant: "acme", expiresIn: -28 });
  assert.equal(((await client.next()) as Message).type, "token_expiring");
  client.send({ type: "refresh", token: await issuer.mint({ sub: "ada", tenant: "acme" }) });
  const refreshed = (await client.next()) as Message;
  assert.equal(refreshed.type, "token_refreshed");
  assert.ok(Number(refreshed.expires_s) > 300, JSON.stringify(refreshed));
  // The old token's close was due within 2 s: nothing comes within 4.
  await assert.rejects(client.closedWithin(4000), /to close/);
  client.send({ type: "code_claim" });
  assert.equal(((await client.next()) as Message).type, "nameplate");
  await client[Symbol.asyncDispose]();
});

Deno.test("refresh refuses another user's, another tenant's or a bad token, and the old one still ends the connection", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const { client, id } = await connect(t.url, { sub: "ada", tenant: "acme", expiresIn: -27 });
  assert.equal(((await client.next()) as Message).type, "token_expiring");
  const refusals = [
    [await issuer.mint({ sub: "bob", tenant: "acme" }), "another user or tenant"],
    [await issuer.mint({ sub: "ada", tenant: "globex" }), "another user or tenant"],
    [await issuer.mint({ sub: "ada", tenant: "acme", expiresIn: -60 }), "token expired"],
    ["not-a-token", "malformed token"],
  ];
  for (const [token, reason] of refusals) {
    client.send({ type: "refresh", token });
    const error = (await client.next()) as Message;
    assert.equal(error.code, "token_refused");
    assert.match(String(error.message), new RegExp(reason!));
  }
  const closed = await client.closedWithin(6000);
  assert.equal(closed.reason, "token expired");
  await t.logs.waitFor(new RegExp(`Client ${id}: fresh access token refused`));
});

Deno.test("keys and tokens together: each connects, a key's client cannot reach a token's, nor refresh", async () => {
  const key = generateKey();
  const record = { label: "acme", sha256: hashKey(key), createdAt: "2026-12-05T00:00:00.000Z" };
  await using t = testServer({ apiKeys: [record], tokens: await verifierFor(issuer) });
  const program = await TestClient.connect(t.url, bearer(key));
  const browser = await connect(t.url, { sub: "ada" });
  program.client.send({ type: "pair_request", target: browser.id });
  assert.equal(((await program.client.next()) as Message).code, "unknown_peer");
  program.client.send({ type: "refresh", token: await issuer.mint({ sub: "ada" }) });
  assert.equal(((await program.client.next()) as Message).code, "token_refused");
  const { status } = await refusal(t.port, {});
  assert.equal(status, 401);
  await t.logs.waitFor(/: 401 API key or access token required/);
  await program.client[Symbol.asyncDispose]();
  await browser.client[Symbol.asyncDispose]();
});

Deno.test("resuming a token client's session needs a valid token of its tenant", async () => {
  await using t = testServer({ tokens: await verifierFor(issuer) });
  const auth = async (claims: Claims) => ({
    authorization: `Bearer ${await issuer.mint(claims)}`,
  });
  const first = await RawWebSocket.connect(t.port, "/?resumable=1", await auth({ tenant: "acme" }));
  const id = String(((await first.next()) as Message).id);
  const token = String(((await first.next()) as Message).resume_token);
  first.drop();
  await t.logs.waitFor(new RegExp(`Keeping the session of client ${id}`));
  const path = `/?resume=${encodeURIComponent(token)}`;
  await assert.rejects(
    RawWebSocket.connect(t.port, path, await auth({ tenant: "acme", expiresIn: -60 })),
    /401/,
  );
  const thief = await RawWebSocket.connect(t.port, path, await auth({ tenant: "globex" }));
  assert.notEqual(((await thief.next()) as Message).id, id);
  thief.drop();
});

Deno.test("grants.rate lowers the message rate of the token's client only", async () => {
  await using t = testServer({
    tokens: await verifierFor(issuer),
    rateLimit: 1_000_000,
    rateBurst: 30,
  });
  const slow = await connect(t.url, { sub: "slow", grants: { rate: 1 } });
  const fast = await connect(t.url, { sub: "fast" });
  for (let i = 0; i < 40; i++) {
    fast.client.send({ type: "unpair" });
    slow.client.send({ type: "unpair" });
  }
  await slow.client.closedWithin(5000);
  await t.logs.waitFor(new RegExp(`Client ${slow.id} at .* exceeded`));
  for (let i = 0; i < 40; i++) {
    assert.equal(((await fast.client.next()) as Message).code, "not_paired");
  }
  await fast.client[Symbol.asyncDispose]();
});

Deno.test("server.ts verifies with a PEM key file or an HS256 secret file, each read with --allow-read only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pem = `${dir}/backend.pem`;
    await Deno.writeTextFile(pem, await issuer.publicPem());
    const pemServer = await spawnServer(["--token-key", pem], 0, [`--allow-read=${pem}`]);
    await using _pem = pemServer.child;
    const ok = await TestClient.connect(pemServer.url, bearer(await issuer.mint({ sub: "ada" })));
    await ok.client[Symbol.asyncDispose]();

    const secret = crypto.getRandomValues(new Uint8Array(32));
    const secretFile = `${dir}/secret`;
    await Deno.writeTextFile(secretFile, btoa(String.fromCharCode(...secret)));
    const key = new TextEncoder().encode(btoa(String.fromCharCode(...secret)));
    const hsServer = await spawnServer(
      ["--token-secret-file", secretFile, "--token-issuer", "https://app.example"],
      0,
      [`--allow-read=${secretFile}`],
    );
    await using _hs = hsServer.child;
    const token = await mintHs256(key, { sub: "ada", iss: "https://app.example" });
    const hs = await TestClient.connect(hsServer.url, bearer(token));
    await hs.client[Symbol.asyncDispose]();
    const wrongIssuer = new TestClient(hsServer.url, bearer(await mintHs256(key, { sub: "ada" })));
    await assert.rejects(wrongIssuer.openedWithin(5000));
    await hsServer.child.waitForLine(/401 access token refused: wrong issuer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server.ts without --allow-read for --token-key fails with one line naming the flag", async () => {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--no-prompt", "server.ts", "--port", "0", "--token-key", "k.pem"],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stderr } = await within(command.output(), 30_000, "server.ts to exit");
  assert.equal(code, 1);
  const lines = new TextDecoder().decode(stderr).trim().split("\n");
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0]!, /--token-key k\.pem needs --allow-read=k\.pem/);
});

Deno.test("client.ts connects with SWITCHBOARD_TOKEN, and says so when the server refuses the token", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/keys.json`;
    await Deno.writeTextFile(file, JSON.stringify({ keys: [issuer.publicJwk] }));
    const server = await spawnServer(["--token-key", file], 0, [`--allow-read=${file}`]);
    await using _server = server.child;
    const run = async (token: string) => {
      await using child = new Child(
        [
          "run",
          "--allow-net",
          "--allow-env=SWITCHBOARD_API_KEY,SWITCHBOARD_TOKEN",
          "--no-prompt",
          "client.ts",
          "--url",
          server.url,
          "--once",
        ],
        undefined,
        false,
        undefined,
        { SWITCHBOARD_TOKEN: token },
      );
      const status = await child.exit();
      return { code: status.code, out: [...child.stdout, ...child.stderr].join("\n") };
    };
    const ok = await run(await issuer.mint({ sub: "ada" }));
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /\*\*\* Your Client ID: [0-9a-f-]{36} \*\*\*/);
    const expired = await issuer.mint({ sub: "ada", expiresIn: -60 });
    const refused = await run(expired);
    assert.equal(refused.code, 1);
    assert.match(refused.out, /the server refused the access token \(401: expired/);
    assert.ok(!refused.out.includes(expired));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
