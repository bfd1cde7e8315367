import assert from "node:assert/strict";
import {
  type AccessToken,
  accessToken,
  isTokenTenant,
  MAX_PAIR_GRANTS,
  MAX_SUB_LENGTH,
  mayPair,
  TOKEN_TENANT_PREFIX,
} from "../../lib/auth/token_claims.ts";

const EXP = 2_000_000_000;

/** The claims as a usable token; fails the test with the reason otherwise. */
function granted(payload: Record<string, unknown>): AccessToken {
  const token = accessToken(payload);
  assert.ok(!("reason" in token), "reason" in token ? token.reason : "");
  return token;
}

/** The reason the claims are refused; fails the test when they are accepted. */
function refusal(payload: Record<string, unknown>): string {
  const token = accessToken(payload);
  assert.ok("reason" in token, `accepted: ${JSON.stringify(payload)}`);
  return token.reason;
}

Deno.test("the constants: tenant prefix token:, sub at most 256 characters, at most 1000 pair grants", () => {
  assert.equal(TOKEN_TENANT_PREFIX, "token:");
  assert.equal(MAX_SUB_LENGTH, 256);
  assert.equal(MAX_PAIR_GRANTS, 1000);
});

Deno.test("accessToken() reads sub, tenant and exp (in milliseconds), with default grants", () => {
  assert.deepEqual(granted({ sub: "ada", tenant: "acme", exp: EXP }), {
    sub: "ada",
    tenant: "token:acme",
    expiresAt: EXP * 1000,
    pair: "tenant",
    rate: undefined,
    receiveFiles: true,
  });
});

Deno.test('accessToken() requires exp as a finite number: "token has no exp"', () => {
  for (const exp of [undefined, "2000000000", null, NaN, Infinity, -Infinity, {}]) {
    assert.equal(refusal({ sub: "ada", exp }), "token has no exp", String(exp));
  }
  assert.equal(granted({ exp: 0 }).expiresAt, 0);
  assert.equal(granted({ exp: 1.5 }).expiresAt, 1500);
});

Deno.test("accessToken() takes a token without sub, as sub undefined", () => {
  assert.equal(granted({ exp: EXP }).sub, undefined);
});

Deno.test("accessToken() accepts a sub of 256 characters and refuses 257 or a non-string", () => {
  const longest = "s".repeat(MAX_SUB_LENGTH);
  assert.equal(granted({ sub: longest, exp: EXP }).sub, longest);
  const reason = "sub must be a string of at most 256 characters";
  assert.equal(refusal({ sub: "s".repeat(MAX_SUB_LENGTH + 1), exp: EXP }), reason);
  for (const sub of [42, null, ["ada"], { id: "ada" }, true]) {
    assert.equal(refusal({ sub, exp: EXP }), reason, JSON.stringify(sub));
  }
});

Deno.test('accessToken() files a token without tenant under the bare prefix "token:"', () => {
  assert.equal(granted({ sub: "ada", exp: EXP }).tenant, "token:");
});

Deno.test("accessToken() accepts tenants of 1-64 letters, digits and ._@-, prefixed with token:", () => {
  for (const tenant of ["a", "acme", "Acme-2.eu_west@corp", "0", "t".repeat(64)]) {
    assert.equal(granted({ exp: EXP, tenant }).tenant, `token:${tenant}`);
  }
});

Deno.test("accessToken() refuses a tenant with a space, colon, newline or slash, empty, or over 64 characters", () => {
  const reason = "tenant must be 1-64 letters, digits or ._@-";
  for (
    const tenant of [
      "a b",
      "a:b",
      "a\nb",
      "acme\n",
      "\nacme",
      "a/b",
      "a*",
      "ácme",
      "",
      "t".repeat(65),
      42,
      null,
      ["acme"],
    ]
  ) {
    assert.equal(refusal({ exp: EXP, tenant }), reason, JSON.stringify(tenant));
  }
});

Deno.test("accessToken() refuses a tenant claim that already carries the token: prefix", () => {
  // The colon is outside the pattern, so no claim can look like a prefixed tenant.
  assert.equal(
    refusal({ exp: EXP, tenant: "token:acme" }),
    "tenant must be 1-64 letters, digits or ._@-",
  );
});

Deno.test('accessToken() grants.pair: "tenant" by default and when given as "tenant"', () => {
  assert.equal(granted({ exp: EXP }).pair, "tenant");
  assert.equal(granted({ exp: EXP, grants: {} }).pair, "tenant");
  assert.equal(granted({ exp: EXP, grants: { pair: "tenant" } }).pair, "tenant");
});

Deno.test("accessToken() grants.pair: a list becomes a set of subs (duplicates once, empty list allowed)", () => {
  const { pair } = granted({ exp: EXP, grants: { pair: ["bob", "carol", "bob"] } });
  assert.ok(pair instanceof Set);
  assert.deepEqual([...pair].sort(), ["bob", "carol"]);
  const none = granted({ exp: EXP, grants: { pair: [] } }).pair;
  assert.ok(none instanceof Set);
  assert.equal(none.size, 0);
});

Deno.test("accessToken() refuses grants that are not an object", () => {
  for (const grants of [null, "tenant", 5, ["bob"], true]) {
    assert.equal(refusal({ exp: EXP, grants }), "grants must be an object", JSON.stringify(grants));
  }
});

Deno.test('accessToken() refuses a grants.pair that is neither "tenant" nor a list', () => {
  for (const pair of ["everyone", "", 1, null, { bob: true }, true]) {
    assert.equal(
      refusal({ exp: EXP, grants: { pair } }),
      "grants.pair must be tenant or a list of subs",
      JSON.stringify(pair),
    );
  }
});

Deno.test("accessToken() refuses a grants.pair list with a non-string or over-long entry", () => {
  const reason = "grants.pair must list at most 1000 subs, each a string";
  for (const pair of [["bob", 5], [null], [["bob"]], ["s".repeat(MAX_SUB_LENGTH + 1)]]) {
    assert.equal(refusal({ exp: EXP, grants: { pair } }), reason, JSON.stringify(pair));
  }
  const longest = "s".repeat(MAX_SUB_LENGTH);
  assert.deepEqual(granted({ exp: EXP, grants: { pair: [longest] } }).pair, new Set([longest]));
});

Deno.test("accessToken() accepts 1000 grants.pair entries and refuses 1001", () => {
  const subs = Array.from({ length: MAX_PAIR_GRANTS + 1 }, (_, i) => `user${i}`);
  const most = granted({ exp: EXP, grants: { pair: subs.slice(0, MAX_PAIR_GRANTS) } }).pair;
  assert.ok(most instanceof Set);
  assert.equal(most.size, MAX_PAIR_GRANTS);
  assert.equal(
    refusal({ exp: EXP, grants: { pair: subs } }),
    "grants.pair must list at most 1000 subs, each a string",
  );
});

Deno.test("accessToken() grants.rate: undefined by default, a positive finite number as given", () => {
  assert.equal(granted({ exp: EXP }).rate, undefined);
  assert.equal(granted({ exp: EXP, grants: {} }).rate, undefined);
  assert.equal(granted({ exp: EXP, grants: { rate: 10 } }).rate, 10);
  assert.equal(granted({ exp: EXP, grants: { rate: 0.5 } }).rate, 0.5);
});

Deno.test("accessToken() refuses a grants.rate that is zero, negative, not finite or not a number", () => {
  for (const rate of [0, -0, -1, NaN, Infinity, "10", null, [10], true]) {
    assert.equal(
      refusal({ exp: EXP, grants: { rate } }),
      "grants.rate must be a positive number",
      String(rate),
    );
  }
});

Deno.test("accessToken() reads grants.pair and grants.rate together", () => {
  const token = granted({ sub: "ada", exp: EXP, grants: { pair: ["bob"], rate: 5 } });
  assert.deepEqual(token.pair, new Set(["bob"]));
  assert.equal(token.rate, 5);
});

Deno.test("accessToken() ignores claims it does not read", () => {
  const token = granted({ exp: EXP, iss: "backend", aud: "switchboard", extra: { deep: [1] } });
  assert.deepEqual(Object.keys(token).sort(), [
    "expiresAt",
    "pair",
    "rate",
    "receiveFiles",
    "sub",
    "tenant",
  ]);
});

Deno.test("accessToken() refusal reasons never quote the claims", () => {
  const secret = "hunter2-very-secret";
  const reasons = [
    refusal({ exp: EXP, sub: `${secret}${"x".repeat(300)}` }),
    refusal({ exp: EXP, tenant: `${secret} x` }),
    refusal({ exp: EXP, grants: { pair: secret } }),
    refusal({ exp: EXP, grants: { pair: [secret, 1] } }),
    refusal({ exp: EXP, grants: { rate: secret } }),
    refusal({ exp: secret }),
  ];
  for (const reason of reasons) {
    assert.ok(!reason.includes(secret), reason);
    assert.ok(!reason.includes("\n"), reason);
  }
});

/** A token for `sub` with `pair` grants, or the default. */
function tokenOf(sub: string | undefined, pair?: string[]): AccessToken {
  return granted({
    exp: EXP,
    ...(sub === undefined ? {} : { sub }),
    ...(pair === undefined ? {} : { grants: { pair } }),
  });
}

Deno.test("mayPair() lets two tenant-wide tokens pair, with or without sub", () => {
  assert.equal(mayPair(tokenOf("ada"), tokenOf("bob")), true);
  assert.equal(mayPair(tokenOf(undefined), tokenOf(undefined)), true);
  assert.equal(mayPair(tokenOf("ada"), tokenOf(undefined)), true);
});

Deno.test("mayPair() with a list on one side allows only the subs listed, in both argument orders", () => {
  const ada = tokenOf("ada", ["bob"]);
  const bob = tokenOf("bob");
  const eve = tokenOf("eve");
  assert.equal(mayPair(ada, bob), true);
  assert.equal(mayPair(bob, ada), true);
  assert.equal(mayPair(ada, eve), false);
  assert.equal(mayPair(eve, ada), false);
  // The list binds its holder only: bob and eve may pair with each other.
  assert.equal(mayPair(bob, eve), true);
});

Deno.test("mayPair() with lists on both sides needs each side to list the other", () => {
  const ada = tokenOf("ada", ["bob"]);
  assert.equal(mayPair(ada, tokenOf("bob", ["ada"])), true);
  assert.equal(mayPair(tokenOf("bob", ["ada"]), ada), true);
  assert.equal(mayPair(ada, tokenOf("bob", ["carol"])), false);
  assert.equal(mayPair(tokenOf("bob", ["carol"]), ada), false);
  assert.equal(mayPair(tokenOf("carol", ["ada"]), ada), false);
});

Deno.test("mayPair() refuses a side without sub when the other side lists subs", () => {
  const ada = tokenOf("ada", ["bob"]);
  const anonymous = tokenOf(undefined);
  assert.equal(mayPair(ada, anonymous), false);
  assert.equal(mayPair(anonymous, ada), false);
  // An empty list pairs with nobody.
  assert.equal(mayPair(tokenOf("ada", []), tokenOf("bob")), false);
});

Deno.test("mayPair() with no tokens (API-key clients) is true; a listing token still needs a sub on the other side", () => {
  assert.equal(mayPair(undefined, undefined), true);
  assert.equal(mayPair(undefined, tokenOf("ada")), true);
  assert.equal(mayPair(tokenOf("ada"), undefined), true);
  // A client without a token has no sub, so a list cannot name it.
  assert.equal(mayPair(tokenOf("ada", ["bob"]), undefined), false);
  assert.equal(mayPair(undefined, tokenOf("ada", ["bob"])), false);
});

Deno.test("isTokenTenant() is true for token: tenants only", () => {
  assert.equal(isTokenTenant("token:acme"), true);
  assert.equal(isTokenTenant("token:"), true);
  assert.equal(isTokenTenant(tokenOf("ada").tenant), true);
  assert.equal(isTokenTenant(undefined), false);
  assert.equal(isTokenTenant(""), false);
  assert.equal(isTokenTenant("Token:acme"), false);
  assert.equal(isTokenTenant("acme"), false);
  assert.equal(
    isTokenTenant("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    false,
  );
});

Deno.test("accessToken() refuses a sub or a grants.pair entry that is not well-formed Unicode", () => {
  const lone = "ada\ud800";
  assert.ok("reason" in accessToken({ exp: 1, sub: lone }));
  assert.ok("reason" in accessToken({ exp: 1, sub: "ada", grants: { pair: ["bob", lone] } }));
  assert.ok(!("reason" in accessToken({ exp: 1, sub: "ada 😀" })));
});

Deno.test("accessToken() reads grants.files: true unless false, and refuses anything else", () => {
  const granted = (grants?: unknown) => accessToken({ exp: 1, ...(grants ? { grants } : {}) });
  assert.equal((granted() as AccessToken).receiveFiles, true);
  assert.equal((granted({ files: true }) as AccessToken).receiveFiles, true);
  assert.equal((granted({ files: false }) as AccessToken).receiveFiles, false);
  assert.deepEqual(granted({ files: "no" }), { reason: "grants.files must be true or false" });
});
