import assert from "node:assert/strict";
import { formatKeyFile, generateKey, hashKey } from "../../lib/auth/key_file.ts";
import { readTlsFiles } from "../../lib/server/tls.ts";
import { Child, TestClient } from "../support/helpers.ts";
import { fromElsewhere, readmeCommands, ShellCommand } from "../support/readme.ts";
import { makeCertificate } from "../support/tls_cert.ts";

Deno.test("readTlsFiles() reads both PEM files and refuses a file that holds none", async () => {
  await using cert = await makeCertificate();
  const files = await readTlsFiles(cert.certFile, cert.keyFile);
  assert.equal(files.cert, cert.cert);
  assert.equal(files.key, cert.key);
  const empty = `${cert.dir}/empty.pem`;
  await Deno.writeTextFile(empty, "not a certificate\n");
  await assert.rejects(readTlsFiles(empty, cert.keyFile), /empty\.pem holds no PEM certificate/);
  await assert.rejects(readTlsFiles(cert.certFile, `${cert.dir}/nothing.pem`), /cannot read/);
});

Deno.test("the server's TLS files need --allow-read for both, named in one line", async () => {
  await using cert = await makeCertificate();
  await using child = new Child([
    "run",
    "--allow-net",
    `--allow-read=${cert.certFile}`,
    "--no-prompt",
    "server.ts",
    "--port",
    "0",
    "--tls-cert",
    cert.certFile,
    "--tls-key",
    cert.keyFile,
  ]);
  assert.equal((await child.exit()).code, 1);
  assert.deepEqual(child.stderr.filter((l) => l.trim()).map((l) => l.replace(/^\S+ /, "")), [
    `ERROR: Cannot start: reading --tls-cert and --tls-key needs --allow-read=${cert.certFile},${cert.keyFile}`,
  ]);
});

Deno.test("over TLS: client.ts connects to wss:// with a key, trusting the certificate through --cert, and the page comes over https://", async () => {
  await using cert = await makeCertificate();
  const keysFile = `${cert.dir}/keys.json`;
  const key = generateKey();
  await Deno.writeTextFile(
    keysFile,
    formatKeyFile([{ label: "acme", sha256: hashKey(key), createdAt: new Date().toISOString() }]),
  );
  await using server = new Child([
    "run",
    "--allow-net",
    `--allow-read=${cert.certFile},${cert.keyFile},${keysFile}`,
    "--no-prompt",
    "server.ts",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--api-keys",
    keysFile,
    "--tls-cert",
    cert.certFile,
    "--tls-key",
    cert.keyFile,
  ]);
  const port = Number(
    (await server.waitForLine(/Server listening on wss:\/\/127\.0\.0\.1:(\d+)/))[1],
  );
  const url = `wss://127.0.0.1:${port}`;

  /** `client.ts --once` at `url` with the API key in its environment, after Deno's `flags`. */
  const onceWithKey = (...flags: string[]) =>
    new Child(
      [
        "run",
        ...flags,
        "--allow-net",
        "--allow-env=SWITCHBOARD_API_KEY",
        "--no-prompt",
        "client.ts",
        "--url",
        url,
        "--once",
      ],
      undefined,
      false,
      undefined,
      { SWITCHBOARD_API_KEY: key },
    );
  await using client = onceWithKey("--cert", cert.certFile);
  const status = await client.exit(20_000);
  assert.equal(status.code, 0, client.stderr.join("\n"));
  assert.match(client.stdout.join("\n"), /\*\*\* Your Client ID: [0-9a-f-]{36} \*\*\*/);
  await server.waitForLine(/Client \S+ \(key "acme"\) connected from 127\.0\.0\.1:\d+/);

  // Without --cert the client does not trust a certificate it has never seen.
  await using untrusting = onceWithKey();
  assert.equal((await untrusting.exit(20_000)).code, 1);
  assert.match(
    untrusting.stderr.join("\n"),
    /Failed to connect to wss:.*(certificate|UnknownIssuer)/i,
  );

  const http = Deno.createHttpClient({ caCerts: [cert.cert] });
  try {
    const page = await fetch(`https://127.0.0.1:${port}/`, { client: http });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Switchboard<\/title>/);
    const config = await fetch(`https://127.0.0.1:${port}/config.json`, { client: http });
    assert.deepEqual(await config.json(), { auth: true, tokens: false });
  } finally {
    http.close();
  }
  // Plain ws:// to the TLS port gets nowhere.
  const plain = new TestClient(`ws://127.0.0.1:${port}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await assert.rejects(plain.openedWithin(5000, "plain ws:// to the TLS port to fail"));
  await plain.closedWithin();
  assert.equal(server.stderr.filter((l) => /without TLS/.test(l)).length, 0);
  assert.ok(
    ![...server.stdout, ...server.stderr, ...client.stdout, ...client.stderr].join("\n").includes(
      key,
    ),
  );
});

Deno.test("the TLS recipe of docs/keys-and-tls.md works as written: its openssl certificate, deno task server:keys+tls, and a client trusting it through DENO_CERT or --cert", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-readme-tls-" });
  try {
    const [newKey] = await readmeCommands("The server", "docs/keys-and-tls.md");
    const commands = await readmeCommands("TLS: wss:// and https://", "docs/keys-and-tls.md");
    const openssl = commands.find((c) => c.startsWith("openssl req "));
    const serve = commands.find((c) => c.startsWith("deno task server:"));
    const clients = commands.filter((c) => /\bclient(\.ts)?\b/.test(c));
    assert.ok(newKey?.startsWith("deno task keys new"), `${newKey}`);
    assert.ok(openssl && serve && clients.length === 2, commands.join("\n"));

    // Run as written, in a folder of their own: the files land there.
    const once = async (command: string, cwd = dir) => {
      await using run = new ShellCommand(command, cwd);
      const status = await run.exit(30_000);
      return { code: status.code, out: run.stdout.join("\n"), err: run.stderr.join("\n") };
    };
    assert.equal((await once(fromElsewhere(newKey!, 0))).code, 0);
    assert.equal((await once(openssl!)).code, 0);
    const text = await new Deno.Command("/usr/bin/openssl", {
      args: ["x509", "-in", `${dir}/cert.pem`, "-noout", "-text"],
    }).output();
    assert.match(new TextDecoder().decode(text.stdout), /CA:FALSE/);

    await using server = new ShellCommand(`exec ${fromElsewhere(serve!, 0)} --port 0`, dir);
    const [, port] = await server.waitForLine(/Server listening on wss:\/\/127\.0\.0\.1:(\d+)/);
    for (const client of clients) {
      const result = await once(`${fromElsewhere(client, Number(port))} --once`);
      assert.equal(result.code, 0, `${client}\n${result.err}`);
      assert.match(result.out, /\*\*\* Your Client ID: [0-9a-f-]{36} \*\*\*/);
    }
    await server.waitForLine(/Client \S+ \(key "acme"\) connected/, "stderr", 10_000, 2);

    // Not trusted, the certificate is refused, as docs/keys-and-tls.md says.
    const untrusted = await once(
      fromElsewhere(clients[0]!.replace(/^DENO_CERT=\S+ /, ""), Number(port)) + " --once",
    );
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.err, /invalid peer certificate: UnknownIssuer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without basicConstraints=critical,CA:FALSE, OpenSSL 3 makes a CA certificate that the client refuses as CaUsedAsEndEntity", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-readme-tls-" });
  try {
    const commands = await readmeCommands("TLS: wss:// and https://", "docs/keys-and-tls.md");
    const openssl = commands.find((c) => c.startsWith("openssl req "))!;
    const bare = openssl.replace(/ -addext basicConstraints=critical,CA:FALSE/, "");
    assert.notEqual(bare, openssl);
    await using make = new ShellCommand(bare, dir);
    assert.equal((await make.exit()).code, 0);
    await using server = new ShellCommand(
      `exec ${fromElsewhere("deno task server:tls", 0)} --host 127.0.0.1 --port 0`,
      dir,
    );
    const [, port] = await server.waitForLine(/Server listening on wss:\/\/127\.0\.0\.1:(\d+)/);
    await using client = new ShellCommand(
      fromElsewhere(`deno task client --url wss://localhost:${port} --once`, 0),
      dir,
      { DENO_CERT: `${dir}/cert.pem` },
    );
    assert.equal((await client.exit(30_000)).code, 1);
    assert.match(client.stderr.join("\n"), /CaUsedAsEndEntity/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
