import assert from "node:assert/strict";
import { parsePublicKeys, type TokenKeys } from "../../lib/auth/token_keys.ts";
import { CLOCK_SKEW_S, type TokenVerdict, TokenVerifier } from "../../lib/auth/tokens.ts";
import { loadJose } from "../../lib/runtime/deps.ts";
import { jwksOf, mintHs256, TestIssuer, verifierFor } from "../support/tokens.ts";

const jose = await loadJose();

const SECRET = new TextEncoder().encode("a shared secret of at least 32 bytes!");

/** Seconds since the epoch, as JWT times are. */
const now = () => Math.floor(Date.now() / 1000);

/** The accepted token of a verdict; fails the test with the reason otherwise. */
function accepted(verdict: TokenVerdict) {
  assert.ok(verdict.ok, verdict.ok ? "" : `refused: ${verdict.reason}`);
  return verdict.token;
}

/** The reason of a refusal; fails the test when the token was accepted. */
function refused(verdict: TokenVerdict): string {
  assert.ok(!verdict.ok, "accepted");
  return verdict.reason;
}

/** A fresh signing key pair outside TestIssuer, with its public JWK under `kid`. */
async function keyPair(alg: string, kid: string) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  return { privateKey, publicJwk: { ...jwk, kty: jwk.kty!, kid } };
}

Deno.test("CLOCK_SKEW_S is 30 seconds", () => {
  assert.equal(CLOCK_SKEW_S, 30);
});

Deno.test("verify() accepts an ES256 token from a JWKS: sub, tenant, expiresAt and grants", async () => {
  const issuer = await TestIssuer.create("k1");
  const verifier = await verifierFor(issuer);
  assert.equal(verifier.symmetric, false);
  const jwt = await issuer.mint({
    sub: "ada",
    tenant: "acme",
    grants: { pair: ["bob"], rate: 5, files: false },
  });
  const { exp } = jose.decodeJwt(jwt);
  assert.deepEqual(accepted(await verifier.verify(jwt)), {
    sub: "ada",
    tenant: "token:acme",
    expiresAt: exp! * 1000,
    pair: new Set(["bob"]),
    rate: 5,
    receiveFiles: false,
  });
});

Deno.test('verify() files a token without tenant under "token:" and without sub as sub undefined', async () => {
  const issuer = await TestIssuer.create();
  const token = accepted(await (await verifierFor(issuer)).verify(await issuer.mint()));
  assert.equal(token.tenant, "token:");
  assert.equal(token.sub, undefined);
  assert.equal(token.pair, "tenant");
});

Deno.test("verify() with two issuers in the JWKS (rotation) verifies each token by its own kid", async () => {
  const [old, current] = [await TestIssuer.create("2025"), await TestIssuer.create("2026")];
  const verifier = await verifierFor([old, current]);
  assert.equal(accepted(await verifier.verify(await old.mint({ sub: "ada" }))).sub, "ada");
  assert.equal(accepted(await verifier.verify(await current.mint({ sub: "bob" }))).sub, "bob");
  // Signed by one, labelled as the other: the kid picks the other key, which refuses it.
  const swapped = await old.mint({ sub: "eve" }, { kid: current.kid });
  assert.equal(refused(await verifier.verify(swapped)), "bad signature");
});

Deno.test("verify() with a single key accepts a token without kid", async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer);
  assert.equal(accepted(await verifier.verify(await issuer.mint({ sub: "ada" }, {}))).sub, "ada");
});

Deno.test('verify() refuses a token whose kid is not in the set: "unknown key (kid)"', async () => {
  const issuer = await TestIssuer.create("k1");
  const stranger = await TestIssuer.create("k9");
  const verifier = await verifierFor(issuer);
  assert.equal(refused(await verifier.verify(await stranger.mint())), "unknown key (kid)");
});

Deno.test('verify() refuses a token signed by a key not in the set under a known kid: "bad signature"', async () => {
  const issuer = await TestIssuer.create("k1");
  const impostor = await TestIssuer.create("k1");
  const verifier = await verifierFor(issuer);
  assert.equal(
    refused(await verifier.verify(await impostor.mint({ sub: "ada" }))),
    "bad signature",
  );
});

Deno.test('verify() refuses a token with a tampered payload: "bad signature"', async () => {
  const issuer = await TestIssuer.create();
  const [header, , signature] = (await issuer.mint({ tenant: "acme" })).split(".");
  const payload = jose.base64url.encode(JSON.stringify({ tenant: "other", exp: now() + 300 }));
  const verifier = await verifierFor(issuer);
  assert.equal(
    refused(await verifier.verify(`${header}.${payload}.${signature}`)),
    "bad signature",
  );
});

Deno.test("verify() accepts EdDSA, ES384 and RS256 tokens from their public keys", async () => {
  for (const alg of ["EdDSA", "ES384", "RS256", "PS256"]) {
    const { privateKey, publicJwk } = await keyPair(alg, alg);
    const verifier = await TokenVerifier.create({ kind: "public", keys: [publicJwk] });
    const jwt = await new jose.SignJWT({ sub: alg }).setProtectedHeader({ alg, kid: alg })
      .setExpirationTime("5m").sign(privateKey);
    assert.equal(accepted(await verifier.verify(jwt)).sub, alg);
  }
});

Deno.test("verify() accepts a token from a PEM key (no kid) when the token has no kid", async () => {
  const issuer = await TestIssuer.create();
  const verifier = await TokenVerifier.create(parsePublicKeys(await issuer.publicPem(), "k.pem"));
  const token = accepted(await verifier.verify(await issuer.mint({ sub: "ada" }, {})));
  assert.equal(token.sub, "ada");
});

Deno.test("verify() with several keys and a token without kid tries each key", async () => {
  const [a, b] = [await TestIssuer.create("a"), await TestIssuer.create("b")];
  const verifier = await verifierFor([a, b]);
  assert.equal(accepted(await verifier.verify(await a.mint({ sub: "ada" }, {}))).sub, "ada");
  assert.equal(accepted(await verifier.verify(await b.mint({ sub: "bob" }, {}))).sub, "bob");
  const stranger = await TestIssuer.create("c");
  assert.equal(refused(await verifier.verify(await stranger.mint({}, {}))), "bad signature");
  // Trying each key does not hide a claim problem behind another key's bad signature.
  assert.equal(
    refused(await verifier.verify(await b.mint({ expiresIn: -3600 }, {}))),
    "token expired",
  );
});

Deno.test("verify() with PEM keys (no kids) accepts tokens whatever their kid says", async () => {
  const [a, b] = [await TestIssuer.create("a"), await TestIssuer.create("b")];
  const one = await TokenVerifier.create(parsePublicKeys(await a.publicPem(), "k.pem"));
  assert.equal(accepted(await one.verify(await a.mint({ sub: "ada" }))).sub, "ada");
  const pem = `${await a.publicPem()}${await b.publicPem()}`;
  const two = await TokenVerifier.create(parsePublicKeys(pem, "keys.pem"));
  for (const issuer of [a, b]) {
    assert.equal(
      accepted(await two.verify(await issuer.mint({ sub: issuer.kid }))).sub,
      issuer.kid,
    );
    const noKid = await issuer.mint({ sub: issuer.kid }, {});
    assert.equal(accepted(await two.verify(noKid)).sub, issuer.kid);
  }
  const stranger = await TestIssuer.create("a");
  assert.equal(refused(await two.verify(await stranger.mint())), "bad signature");
});

Deno.test('verify() refuses a token expired beyond the 30 s allowance: "token expired"', async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer);
  assert.equal(
    refused(await verifier.verify(await issuer.mint({ expiresIn: -40 }))),
    "token expired",
  );
  assert.equal(
    refused(await verifier.verify(await issuer.mint({ expiresIn: -3600 }))),
    "token expired",
  );
});

Deno.test("verify() accepts a token expired 20 s ago (within the clock skew), with its real expiresAt", async () => {
  const issuer = await TestIssuer.create();
  const jwt = await issuer.mint({ sub: "ada", expiresIn: -20 });
  const token = accepted(await (await verifierFor(issuer)).verify(jwt));
  assert.ok(token.expiresAt < Date.now(), "expiresAt is the token's own exp, in the past");
  assert.equal(token.expiresAt, jose.decodeJwt(jwt).exp! * 1000);
});

Deno.test('verify() refuses a token whose nbf is more than 30 s ahead: "token not yet valid"', async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer);
  const early = await issuer.mint({ nbf: now() + 120 });
  assert.equal(refused(await verifier.verify(early)), "token not yet valid");
  // Within the allowance, it is taken.
  accepted(await verifier.verify(await issuer.mint({ nbf: now() + 20 })));
});

Deno.test('verify() refuses a token without exp: "token has no exp"', async () => {
  const { privateKey, publicJwk } = await keyPair("ES256", "k1");
  const verifier = await TokenVerifier.create({ kind: "public", keys: [publicJwk] });
  const jwt = await new jose.SignJWT({ sub: "ada" }).setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuedAt().sign(privateKey);
  assert.equal(jose.decodeJwt(jwt).exp, undefined);
  assert.equal(refused(await verifier.verify(jwt)), "token has no exp");
  const secret = await TokenVerifier.create({ kind: "secret", secret: SECRET });
  const hs = await new jose.SignJWT({ sub: "ada" }).setProtectedHeader({ alg: "HS256" }).sign(
    SECRET,
  );
  assert.equal(refused(await secret.verify(hs)), "token has no exp");
});

Deno.test('verify() refuses a token whose exp is not a number: "token has no exp"', async () => {
  const { privateKey, publicJwk } = await keyPair("ES256", "k1");
  const verifier = await TokenVerifier.create({ kind: "public", keys: [publicJwk] });
  const jwt = await new jose.SignJWT({ exp: "tomorrow" } as Record<string, unknown>)
    .setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(privateKey);
  assert.equal(refused(await verifier.verify(jwt)), "token has no exp");
});

Deno.test('verify() with an issuer rule refuses a wrong or missing iss: "wrong issuer"', async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer, { issuer: "https://backend.example" });
  const wrong = await issuer.mint({ iss: "https://evil.example" });
  assert.equal(refused(await verifier.verify(wrong)), "wrong issuer");
  assert.equal(refused(await verifier.verify(await issuer.mint())), "wrong issuer");
  const right = await issuer.mint({ sub: "ada", iss: "https://backend.example" });
  assert.equal(accepted(await verifier.verify(right)).sub, "ada");
});

Deno.test('verify() with an audience rule refuses a wrong or missing aud: "wrong audience"', async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer, { audience: "switchboard" });
  assert.equal(
    refused(await verifier.verify(await issuer.mint({ aud: "other" }))),
    "wrong audience",
  );
  assert.equal(refused(await verifier.verify(await issuer.mint())), "wrong audience");
  accepted(await verifier.verify(await issuer.mint({ aud: "switchboard" })));
  accepted(await verifier.verify(await issuer.mint({ aud: ["other", "switchboard"] })));
});

Deno.test("verify() with both rules needs both claims right", async () => {
  const issuer = await TestIssuer.create();
  const rules = { issuer: "backend", audience: "switchboard" };
  const verifier = await verifierFor(issuer, rules);
  accepted(await verifier.verify(await issuer.mint({ iss: "backend", aud: "switchboard" })));
  const noAud = await issuer.mint({ iss: "backend" });
  assert.equal(refused(await verifier.verify(noAud)), "wrong audience");
  const noIss = await issuer.mint({ aud: "switchboard" });
  assert.equal(refused(await verifier.verify(noIss)), "wrong issuer");
});

Deno.test("verify() without rules takes any iss and aud", async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer);
  accepted(await verifier.verify(await issuer.mint({ iss: "anyone", aud: "anything" })));
});

Deno.test("verify() with an HS256 secret accepts tokens signed with it", async () => {
  const verifier = await TokenVerifier.create({ kind: "secret", secret: SECRET });
  assert.equal(verifier.symmetric, true);
  const token = accepted(
    await verifier.verify(await mintHs256(SECRET, { sub: "ada", tenant: "acme" })),
  );
  assert.equal(token.sub, "ada");
  assert.equal(token.tenant, "token:acme");
});

Deno.test('verify() with an HS256 secret refuses a token signed with another secret: "bad signature"', async () => {
  const verifier = await TokenVerifier.create({ kind: "secret", secret: SECRET });
  const other = new TextEncoder().encode("another shared secret, 32 bytes or more");
  assert.equal(refused(await verifier.verify(await mintHs256(other))), "bad signature");
});

Deno.test('verify() with an HS256 secret refuses an ES256 token: "algorithm not allowed"', async () => {
  const verifier = await TokenVerifier.create({ kind: "secret", secret: SECRET });
  const issuer = await TestIssuer.create();
  assert.equal(refused(await verifier.verify(await issuer.mint())), "algorithm not allowed");
});

Deno.test('verify() with an HS256 secret refuses other HMAC algorithms: "algorithm not allowed"', async () => {
  const verifier = await TokenVerifier.create({ kind: "secret", secret: SECRET });
  const jwt = await new jose.SignJWT({}).setProtectedHeader({ alg: "HS512" })
    .setExpirationTime("5m").sign(new Uint8Array(64).fill(7));
  assert.equal(refused(await verifier.verify(jwt)), "algorithm not allowed");
});

Deno.test('verify() with public keys refuses an HS256 token: "algorithm not allowed"', async () => {
  const issuer = await TestIssuer.create("k1");
  const verifier = await verifierFor(issuer);
  assert.equal(refused(await verifier.verify(await mintHs256(SECRET))), "algorithm not allowed");
});

Deno.test("verify() refuses algorithm confusion: HS256 signed with the public key's JWK or PEM text", async () => {
  const issuer = await TestIssuer.create("k1");
  const pem = await issuer.publicPem();
  const verifiers = [
    await verifierFor(issuer),
    await TokenVerifier.create(parsePublicKeys(pem, "k.pem")),
  ];
  const texts = [JSON.stringify(issuer.publicJwk), pem, pem.trim()];
  for (const text of texts) {
    const key = new TextEncoder().encode(text);
    for (const header of [{ alg: "HS256", kid: "k1" }, { alg: "HS256" }]) {
      const jwt = await new jose.SignJWT({ sub: "mallory" }).setProtectedHeader(header)
        .setExpirationTime("5m").sign(key);
      for (const verifier of verifiers) {
        assert.equal(refused(await verifier.verify(jwt)), "algorithm not allowed");
      }
    }
  }
});

Deno.test('verify() refuses an unsigned token (alg none): "algorithm not allowed"', async () => {
  const issuer = await TestIssuer.create();
  const none = new jose.UnsecuredJWT({ sub: "mallory" }).setExpirationTime("5m").encode();
  assert.ok(none.endsWith("."));
  assert.equal(refused(await (await verifierFor(issuer)).verify(none)), "algorithm not allowed");
  const secret = await TokenVerifier.create({ kind: "secret", secret: SECRET });
  assert.equal(refused(await secret.verify(none)), "algorithm not allowed");
});

Deno.test('verify() refuses strings that are no JWT: "malformed token", never throwing', async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer);
  const real = await issuer.mint();
  const b64 = (value: unknown) => jose.base64url.encode(JSON.stringify(value));
  const inputs = [
    "a.b",
    "",
    "x".repeat(9000),
    `${real.split(".")[0]}.${"x".repeat(9000)}.sig`,
    `sbk_${"A".repeat(43)}`,
    "a.b.c",
    "a.b.c.d",
    `${real} `,
    `${real}\n`,
    `Bearer ${real}`,
    `not-json.${b64({ exp: now() + 60 })}.c2ln`,
    `${b64("just a string")}.${b64({ exp: now() + 60 })}.c2ln`,
    `${b64({ kid: issuer.kid })}.${b64({ exp: now() + 60 })}.c2ln`,
  ];
  for (const input of inputs) {
    assert.equal(refused(await verifier.verify(input)), "malformed token", input.slice(0, 60));
  }
});

Deno.test("verify() refuses a verified token whose claims are unusable, with the claim's reason", async () => {
  const issuer = await TestIssuer.create();
  const verifier = await verifierFor(issuer);
  const cases: [Record<string, unknown>, string][] = [
    [{ tenant: "a b" }, "tenant must be 1-64 letters, digits or ._@-"],
    [{ tenant: "a:b" }, "tenant must be 1-64 letters, digits or ._@-"],
    [{ sub: "s".repeat(257) }, "sub must be a string of at most 256 characters"],
    [{ grants: { pair: "everyone" } }, "grants.pair must be tenant or a list of subs"],
    [{ grants: { rate: 0 } }, "grants.rate must be a positive number"],
    [{ grants: [] }, "grants must be an object"],
  ];
  for (const [claims, reason] of cases) {
    assert.equal(refused(await verifier.verify(await issuer.mint(claims))), reason);
  }
});

Deno.test("verify() reasons are one short line that never quotes the token", async () => {
  const issuer = await TestIssuer.create("k1");
  const stranger = await TestIssuer.create("k9");
  const impostor = await TestIssuer.create("k1");
  const verifier = await verifierFor(issuer, { issuer: "backend", audience: "switchboard" });
  const rules = { iss: "backend", aud: "switchboard" };
  const jwts = [
    await issuer.mint({ ...rules, expiresIn: -3600 }),
    await issuer.mint({ ...rules, nbf: now() + 3600 }),
    await issuer.mint({ aud: "switchboard", iss: "secret-issuer-name" }),
    await issuer.mint({ iss: "backend", aud: "secret-audience-name" }),
    await issuer.mint({ ...rules, tenant: "secret tenant" }),
    await stranger.mint(rules),
    await impostor.mint(rules),
    await mintHs256(SECRET, rules),
    new jose.UnsecuredJWT(rules).setExpirationTime("5m").encode(),
    `${(await issuer.mint(rules)).slice(0, -3)}AAA`,
    "secret.token.string",
  ];
  for (const jwt of jwts) {
    const reason = refused(await verifier.verify(jwt));
    assert.ok(!reason.includes(jwt), reason);
    for (const part of jwt.split(".").filter((part) => part.length >= 6)) {
      assert.ok(!reason.includes(part), `${reason} quotes ${part}`);
    }
    assert.ok(!/secret/.test(reason), reason);
    assert.ok(!reason.includes("\n") && reason.length <= 60, reason);
  }
});

Deno.test("verify() on a verifier from jwksOf() sees the keys as given at creation", async () => {
  const issuer = await TestIssuer.create("k1");
  const keys = jwksOf(issuer) as Extract<TokenKeys, { kind: "public" }>;
  const verifier = await TokenVerifier.create(keys);
  // Changing the caller's key list afterwards does not change the verifier.
  (keys.keys as unknown[]).length = 0;
  accepted(await verifier.verify(await issuer.mint()));
});

Deno.test("TokenVerifier.create() refuses a public key that cannot verify anything, naming it", async () => {
  const bogus = { kty: "EC", crv: "P-256", kid: "k1", x: "AA", y: "AA" };
  await assert.rejects(
    TokenVerifier.create({ kind: "public", keys: [bogus] }),
    /^TokenKeyError: public key 1 is not a usable EC key$/,
  );
});

Deno.test("a verified token is kept: presented again it is known at once, until its allowance after exp runs out", async () => {
  const issuer = await TestIssuer.create("k1");
  const verifier = await verifierFor(issuer);
  const jwt = await issuer.mint({ sub: "ada", expiresIn: 60 });
  assert.equal(verifier.cached(jwt), undefined);
  const token = accepted(await verifier.verify(jwt));
  assert.equal(verifier.cached(jwt), token);
  assert.equal(verifier.cached(jwt, token.expiresAt + CLOCK_SKEW_S * 1000 - 1), token);
  assert.equal(verifier.cached(jwt, token.expiresAt + CLOCK_SKEW_S * 1000), undefined);
  // A refused token is never kept.
  const stranger = await (await TestIssuer.create("k1")).mint({ sub: "eve" });
  assert.equal((await verifier.verify(stranger)).ok, false);
  assert.equal(verifier.cached(stranger), undefined);
});
