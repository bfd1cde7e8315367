import assert from "node:assert/strict";
import {
  MIN_SECRET_BYTES,
  parsePublicKeys,
  parseSecret,
  readTokenKeys,
  TokenKeyError,
  type TokenKeys,
} from "../../lib/auth/token_keys.ts";
import { loadJose } from "../../lib/runtime/deps.ts";
import { outputWithin } from "../support/helpers.ts";
import { TestIssuer } from "../support/tokens.ts";

const jose = await loadJose();

/** A string that must never show up in a message. */
const SECRET = "sk_live_DO-NOT-ECHO-4f9a1c";

/** The public keys; fails the test on a secret. */
function publicKeys(keys: TokenKeys) {
  assert.equal(keys.kind, "public");
  return keys.kind === "public" ? keys.keys : [];
}

/** The TokenKeyError `fn` throws, its message checked against `pattern`. */
function keyError(fn: () => unknown, pattern: RegExp): string {
  let message = "";
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TokenKeyError, String(error));
    assert.equal(error.name, "TokenKeyError");
    message = error.message;
    return true;
  });
  assert.match(message, pattern);
  assert.ok(!message.includes("\n"), `more than one line: ${message}`);
  return message;
}

/** An ES256 private key in PKCS#8 PEM. */
async function privatePem(): Promise<string> {
  const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  return await jose.exportPKCS8(privateKey);
}

Deno.test("MIN_SECRET_BYTES is 32, the size of HS256's hash", () => {
  assert.equal(MIN_SECRET_BYTES, 32);
});

Deno.test("parsePublicKeys() keeps both keys of a JWKS, with their kids", async () => {
  const [a, b] = [await TestIssuer.create("a"), await TestIssuer.create("b")];
  const text = JSON.stringify({ keys: [a.publicJwk, b.publicJwk] });
  const keys = publicKeys(parsePublicKeys(text, "keys.json"));
  assert.equal(keys.length, 2);
  assert.deepEqual(keys.map((key) => key.kid), ["a", "b"]);
  assert.deepEqual(keys, [a.publicJwk, b.publicJwk]);
});

Deno.test("parsePublicKeys() takes a single JWK, with surrounding whitespace", async () => {
  const issuer = await TestIssuer.create("solo");
  const keys = publicKeys(parsePublicKeys(`\n  ${JSON.stringify(issuer.publicJwk)}\n`, "key.json"));
  assert.deepEqual(keys, [issuer.publicJwk]);
  assert.equal(keys[0]?.kid, "solo");
});

Deno.test("parsePublicKeys() takes OKP and RSA public JWKs too", async () => {
  for (const alg of ["EdDSA", "RS256"]) {
    const { publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const keys = publicKeys(parsePublicKeys(JSON.stringify({ ...jwk, kid: alg }), "key.json"));
    assert.equal(keys[0]?.kty, jwk.kty, alg);
  }
});

Deno.test("parsePublicKeys() turns a PEM public key into its JWK", async () => {
  const issuer = await TestIssuer.create();
  const keys = publicKeys(parsePublicKeys(await issuer.publicPem(), "key.pem"));
  assert.equal(keys.length, 1);
  const { kty, crv, x, y } = issuer.publicJwk;
  assert.deepEqual(keys[0], { kty, crv, x, y });
});

Deno.test("parsePublicKeys() turns two concatenated PEM blocks into two keys, in order", async () => {
  const [a, b] = [await TestIssuer.create("a"), await TestIssuer.create("b")];
  const text = `${await a.publicPem()}\n${await b.publicPem()}`;
  const keys = publicKeys(parsePublicKeys(text, "keys.pem"));
  assert.deepEqual(keys.map((key) => key.x), [a.publicJwk.x, b.publicJwk.x]);
});

Deno.test("parsePublicKeys() turns an RSA PEM public key into an RSA JWK", async () => {
  const { publicKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const keys = publicKeys(parsePublicKeys(await jose.exportSPKI(publicKey), "rsa.pem"));
  assert.equal(keys[0]?.kty, "RSA");
});

Deno.test('parsePublicKeys() refuses a JWK with "d" (a private key): "public key only"', async () => {
  const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  assert.ok("d" in jwk);
  keyError(
    () => parsePublicKeys(JSON.stringify(jwk), "key.json"),
    /^key\.json key 1 is a private or secret key; give the server the public key only$/,
  );
});

Deno.test("parsePublicKeys() refuses a private key anywhere in a JWKS, naming its place", async () => {
  const issuer = await TestIssuer.create("a");
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwks = { keys: [issuer.publicJwk, await jose.exportJWK(privateKey)] };
  keyError(
    () => parsePublicKeys(JSON.stringify(jwks), "keys.json"),
    /^keys\.json key 2 is a private or secret key; give the server the public key only$/,
  );
});

Deno.test('parsePublicKeys() refuses an "oct" (secret) JWK: "public key only"', () => {
  const k = btoa(SECRET).replaceAll("=", "");
  keyError(
    () => parsePublicKeys(JSON.stringify({ kty: "oct", k }), "key.json"),
    /private or secret key; give the server the public key only/,
  );
});

Deno.test('parsePublicKeys() refuses a PEM PRIVATE KEY block: "public key only"', async () => {
  const pem = await privatePem();
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  keyError(
    () => parsePublicKeys(pem, "key.pem"),
    /^key\.pem block 1 is a private key; give the server the public key only$/,
  );
  // Also after a good public key.
  const publicPem = await (await TestIssuer.create()).publicPem();
  keyError(
    () => parsePublicKeys(`${publicPem}\n${pem}`, "keys.pem"),
    /^keys\.pem block 2 is a private key; give the server the public key only$/,
  );
});

Deno.test("parsePublicKeys() refuses other private PEM labels (EC, RSA, encrypted)", () => {
  for (const label of ["EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]) {
    const text = `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;
    keyError(() => parsePublicKeys(text, "key.pem"), /is a private key; .*public key only$/);
  }
});

Deno.test('parsePublicKeys() refuses a PEM block that is not a key: "give a PUBLIC KEY"', () => {
  const text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  keyError(
    () => parsePublicKeys(text, "cert.pem"),
    /^cert\.pem block 1 is a CERTIFICATE; give a PUBLIC KEY$/,
  );
});

Deno.test("parsePublicKeys() refuses a PUBLIC KEY block whose body is not a key", () => {
  const text = `-----BEGIN PUBLIC KEY-----\n${btoa(SECRET)}\n-----END PUBLIC KEY-----\n`;
  const message = keyError(
    () => parsePublicKeys(text, "key.pem"),
    /^key\.pem block 1 is not a usable public key$/,
  );
  assert.ok(!message.includes(btoa(SECRET)));
});

Deno.test('parsePublicKeys() refuses garbage: "neither a JWKS, a JWK nor PEM"', () => {
  for (
    const text of [SECRET, "", "   \n", `{${SECRET}`, `{"keys": [`, "-----BEGIN PUBLIC KEY-----"]
  ) {
    keyError(
      () => parsePublicKeys(text, "keys.txt"),
      /^keys\.txt is neither a JWKS, a JWK nor PEM$/,
    );
  }
});

Deno.test('parsePublicKeys() refuses JSON that is not a JWK: no "kty"', () => {
  for (const value of [{ keys: [{}] }, { keys: [5] }, { kid: "a" }, { keys: "x" }]) {
    keyError(
      () => parsePublicKeys(JSON.stringify(value), "keys.json"),
      /^keys\.json key 1 is not a JWK \(no "kty"\)$/,
    );
  }
});

Deno.test('parsePublicKeys() refuses an empty JWKS: "holds no public key"', () => {
  keyError(() => parsePublicKeys('{"keys": []}', "keys.json"), /^keys\.json holds no public key$/);
});

Deno.test('parsePublicKeys() refuses kty "oct" without k, and unknown key types', () => {
  keyError(
    () => parsePublicKeys('{"kty":"oct"}', "key.json"),
    /^key\.json key 1 has a kty other than EC, OKP or RSA$/,
  );
  keyError(
    () => parsePublicKeys('{"keys":[{"kty":"DSA","y":"AA"}]}', "key.json"),
    /^key\.json key 1 has a kty other than EC, OKP or RSA$/,
  );
});

Deno.test("parsePublicKeys() messages name the file but never quote its secret content", async () => {
  const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  const pem = await privatePem();
  const cases = [
    SECRET,
    `{"note": "${SECRET}"`,
    JSON.stringify({ kty: "oct", k: SECRET }),
    JSON.stringify({ ...jwk, kid: SECRET }),
    JSON.stringify({ keys: [{ kid: SECRET }] }),
    `-----BEGIN PUBLIC KEY-----\n${SECRET}\n-----END PUBLIC KEY-----`,
    `${SECRET}\n${pem}`,
    pem,
  ];
  for (const text of cases) {
    const message = keyError(() => parsePublicKeys(text, "/etc/switchboard/key"), /./);
    assert.ok(message.startsWith("/etc/switchboard/key"), message);
    assert.ok(!message.includes(SECRET), message);
    if (typeof jwk.d === "string") assert.ok(!message.includes(jwk.d), message);
    assert.ok(!message.includes(pem.split("\n")[1]!), message);
  }
});

Deno.test("parseSecret() drops one trailing newline (LF or CRLF) and keeps the rest", () => {
  const text = "s".repeat(40);
  for (const [input, expected] of [[text, text], [`${text}\n`, text], [`${text}\r\n`, text]]) {
    const keys = parseSecret(input!, "secret");
    assert.equal(keys.kind, "secret");
    if (keys.kind === "secret") assert.equal(new TextDecoder().decode(keys.secret), expected);
  }
  const keys = parseSecret(` ${text}\n\n`, "secret");
  assert.ok(keys.kind === "secret");
  assert.equal(new TextDecoder().decode(keys.secret), ` ${text}\n`);
});

Deno.test("parseSecret() refuses 31 bytes and accepts 32, counting UTF-8 bytes", () => {
  const message = keyError(
    () => parseSecret(`${"s".repeat(31)}\n`, "secret.txt"),
    /^secret\.txt: an HS256 secret needs at least 32 bytes \(it has 31\)$/,
  );
  assert.ok(!message.includes("s".repeat(31)));
  const keys = parseSecret(`${"s".repeat(32)}\n`, "secret.txt");
  assert.ok(keys.kind === "secret");
  assert.equal(keys.secret.length, 32);
  // 16 two-byte characters are 32 bytes.
  const wide = parseSecret("é".repeat(16), "secret.txt");
  assert.ok(wide.kind === "secret");
  assert.equal(wide.secret.length, 32);
  keyError(() => parseSecret("", "secret.txt"), /\(it has 0\)$/);
});

Deno.test("readTokenKeys() reads a --token-key file and a --token-secret-file", async () => {
  const issuer = await TestIssuer.create("a");
  const file = await Deno.makeTempFile({ prefix: "switchboard-token-key-" });
  try {
    await Deno.writeTextFile(file, JSON.stringify({ keys: [issuer.publicJwk] }));
    assert.deepEqual(await readTokenKeys({ flag: "--token-key", file }), {
      kind: "public",
      keys: [issuer.publicJwk],
    });
    await Deno.writeTextFile(file, await issuer.publicPem());
    assert.equal(publicKeys(await readTokenKeys({ flag: "--token-key", file })).length, 1);
    await Deno.writeTextFile(file, `${"s".repeat(32)}\n`);
    const secret = await readTokenKeys({ flag: "--token-secret-file", file });
    assert.ok(secret.kind === "secret");
    assert.deepEqual(secret.secret, new TextEncoder().encode("s".repeat(32)));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("readTokenKeys() parses the file as its flag says; a refusal names the file, not its content", async () => {
  const file = await Deno.makeTempFile({ prefix: "switchboard-token-key-" });
  try {
    await Deno.writeTextFile(file, SECRET);
    const message = await keyErrorOf(readTokenKeys({ flag: "--token-key", file }));
    assert.equal(message, `${file} is neither a JWKS, a JWK nor PEM`);
    const short = await keyErrorOf(readTokenKeys({ flag: "--token-secret-file", file }));
    assert.equal(
      short,
      `${file}: an HS256 secret needs at least 32 bytes (it has ${SECRET.length})`,
    );
    assert.ok(!message.includes(SECRET) && !short.includes(SECRET));
  } finally {
    await Deno.remove(file);
  }
});

/** The message of the TokenKeyError `promise` rejects with. */
async function keyErrorOf(promise: Promise<unknown>): Promise<string> {
  let message = "";
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TokenKeyError, String(error));
    message = error.message;
    return true;
  });
  return message;
}

Deno.test("readTokenKeys() names a file it cannot read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-token-key-" });
  try {
    const file = `${dir}/missing.pem`;
    const message = await keyErrorOf(readTokenKeys({ flag: "--token-key", file }));
    assert.ok(message.startsWith(`cannot read ${file}: `), message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Runs readTokenKeys in a process that may read only its own script, and
 * returns what it printed: the error's name and message.
 */
async function readWithoutPermission(flag: string, file: string) {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-token-perm-" });
  try {
    const script = `${dir}/read.ts`;
    const module = new URL("../../lib/auth/token_keys.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { readTokenKeys } from ${JSON.stringify(module)};
try {
  await readTokenKeys({ flag: Deno.args[0], file: Deno.args[1] });
  console.log("read it");
} catch (error) {
  console.log(\`\${error.name}: \${error.message}\`);
}
`,
    );
    const { code, stdout, stderr } = await outputWithin(
      Deno.execPath(),
      {
        args: ["run", "--no-prompt", `--allow-read=${script}`, script, flag, file],
        cwd: dir,
        env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        stdin: "null",
      },
      30_000,
      "readTokenKeys without --allow-read to exit",
    );
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code, stdout: text(stdout), stderr: text(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readTokenKeys() without --allow-read is one line naming the flag, never a prompt", async () => {
  const file = await Deno.makeTempFile({ prefix: "switchboard-token-key-" });
  try {
    await Deno.writeTextFile(file, SECRET);
    for (const flag of ["--token-key", "--token-secret-file"]) {
      const { code, stdout, stderr } = await readWithoutPermission(flag, file);
      assert.equal(code, 0, stderr);
      assert.equal(stdout, `MissingPermission: ${flag} ${file} needs --allow-read=${file}\n`);
      assert.ok(!stdout.includes(SECRET));
      assert.ok(!stderr.includes(SECRET), stderr);
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("readTokenKeys() without --allow-read quotes a flag whose path has a space", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard token key " });
  try {
    const file = `${dir}/key file.pem`;
    await Deno.writeTextFile(file, SECRET);
    const { stdout, stderr } = await readWithoutPermission("--token-key", file);
    assert.equal(
      stdout,
      `MissingPermission: --token-key ${file} needs '--allow-read=${file}'\n`,
      stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
