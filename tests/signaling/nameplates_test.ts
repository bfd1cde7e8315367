import assert from "node:assert/strict";
import { isNameplate, Nameplates } from "../../lib/signaling/nameplates.ts";

const TTL = 60_000;

/** The random value that makes a 1–99 draw give `n` (`1 + floor(r * 99)`). */
const twoDigit = (n: number) => (n - 0.5) / 99;

/** A `random` that returns `values` in turn and throws when asked for more. */
function scripted(values: number[]): { random: () => number; left: () => number } {
  const queue = [...values];
  return {
    random: () => {
      const next = queue.shift();
      if (next === undefined) throw new Error("the scripted random numbers ran out");
      return next;
    },
    left: () => queue.length,
  };
}

/** A small deterministic generator (mulberry32), for many repeatable draws. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

Deno.test("claim gives distinct one- or two-digit nameplates while few are held", () => {
  const plates = new Nameplates({ ttlMs: TTL });
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const held = plates.claim(`holder-${i}`, "", 0);
    assert.match(held.nameplate, /^[1-9]\d?$/);
    assert.ok(isNameplate(held.nameplate));
    assert.equal(held.holder, `holder-${i}`);
    assert.equal(held.tenant, "");
    assert.equal(held.expiresAt, TTL);
    assert.ok(!seen.has(held.nameplate), `${held.nameplate} handed out twice`);
    seen.add(held.nameplate);
  }
  assert.equal(plates.size, 10);
});

Deno.test("a holder that claims again gives up its old nameplate, which is then free for others", () => {
  const script = scripted([twoDigit(5), twoDigit(6), twoDigit(5)]);
  const plates = new Nameplates({ ttlMs: TTL, random: script.random });
  assert.equal(plates.claim("alice", "", 0).nameplate, "5");
  const again = plates.claim("alice", "", 10);
  assert.equal(again.nameplate, "6");
  assert.equal(plates.size, 1);
  assert.deepEqual(plates.heldBy("alice"), again);
  assert.equal(plates.use("5", "", 20), undefined);
  // Only one draw is left: were 5 still held, bob's claim would need another.
  assert.equal(plates.claim("bob", "", 30).nameplate, "5");
  assert.equal(script.left(), 0);
  assert.equal(plates.size, 2);
});

Deno.test("use returns the holder once, and the spent nameplate is unknown after that", () => {
  const plates = new Nameplates({ ttlMs: TTL });
  const held = plates.claim("alice", "", 0);
  const used = plates.use(held.nameplate, "", 1000);
  assert.deepEqual(used, held);
  assert.equal(used?.holder, "alice");
  assert.equal(plates.use(held.nameplate, "", 1000), undefined);
  assert.equal(plates.heldBy("alice"), undefined);
  assert.equal(plates.release("alice"), undefined);
  assert.equal(plates.size, 0);
});

Deno.test("use of a number nobody holds returns undefined and spends nothing", () => {
  const script = scripted([twoDigit(12)]);
  const plates = new Nameplates({ ttlMs: TTL, random: script.random });
  plates.claim("alice", "", 0);
  assert.equal(plates.use("13", "", 0), undefined);
  assert.equal(plates.use("012", "", 0), undefined);
  assert.equal(plates.size, 1);
  assert.equal(plates.use("12", "", 0)?.holder, "alice");
});

Deno.test("an expired nameplate cannot be used, and expire returns it once for its holder to hear", () => {
  const plates = new Nameplates({ ttlMs: 1000 });
  const held = plates.claim("alice", "", 0);
  assert.equal(held.expiresAt, 1000);
  assert.equal(plates.use(held.nameplate, "", 1000), undefined);
  assert.equal(plates.use(held.nameplate, "", 5000), undefined);
  assert.deepEqual(plates.expire(999), []);
  assert.deepEqual(plates.expire(1000), [held]);
  assert.deepEqual(plates.expire(1000), []);
  assert.deepEqual(plates.expire(10_000), []);
  assert.equal(plates.heldBy("alice"), undefined);
  assert.equal(plates.size, 0);
});

Deno.test("a nameplate is usable until the moment it expires", () => {
  const plates = new Nameplates({ ttlMs: 1000 });
  const held = plates.claim("alice", "", 0);
  assert.equal(plates.use(held.nameplate, "", 999)?.holder, "alice");
});

Deno.test("expire returns the expired nameplates oldest first and leaves the live ones", () => {
  const plates = new Nameplates({ ttlMs: 1000 });
  const a = plates.claim("a", "", 0);
  const b = plates.claim("b", "t", 100);
  const c = plates.claim("c", "", 200);
  assert.deepEqual(plates.expire(1150), [a, b]);
  assert.deepEqual(plates.expire(1150), []);
  assert.equal(plates.size, 1);
  assert.deepEqual(plates.heldBy("c"), c);
  assert.equal(plates.use(c.nameplate, "", 1150)?.holder, "c");
  assert.deepEqual(plates.expire(5000), []);
});

Deno.test("nextExpiryAt is when the oldest held nameplate expires, and undefined when none is held", () => {
  const plates = new Nameplates({ ttlMs: 1000 });
  assert.equal(plates.nextExpiryAt, undefined);
  const a = plates.claim("a", "", 0);
  plates.claim("b", "", 300);
  assert.equal(plates.nextExpiryAt, 1000);
  plates.use(a.nameplate, "", 10);
  assert.equal(plates.nextExpiryAt, 1300);
  // Claiming again renews: b's new nameplate expires last.
  plates.claim("c", "", 400);
  plates.claim("b", "", 500);
  assert.equal(plates.nextExpiryAt, 1400);
  plates.expire(1400);
  assert.equal(plates.nextExpiryAt, 1500);
  plates.release("b");
  assert.equal(plates.nextExpiryAt, undefined);
});

Deno.test("a tenant's nameplate is unknown to another tenant, and both can hold the same number", () => {
  const script = scripted([twoDigit(7), twoDigit(7)]);
  const plates = new Nameplates({ ttlMs: TTL, random: script.random });
  const inA = plates.claim("alice", "a", 0);
  assert.equal(inA.nameplate, "7");
  assert.equal(inA.tenant, "a");
  assert.equal(plates.use("7", "b", 0), undefined);
  assert.equal(plates.use("7", "", 0), undefined);
  const inB = plates.claim("bob", "b", 0);
  assert.equal(inB.nameplate, "7");
  assert.equal(script.left(), 0);
  assert.equal(plates.size, 2);
  assert.equal(plates.use("7", "b", 0)?.holder, "bob");
  assert.equal(plates.use("7", "a", 0)?.holder, "alice");
});

Deno.test("numbers grow to three digits once 1–99 are all taken in a tenant", () => {
  let random = () => 0;
  const plates = new Nameplates({ ttlMs: TTL, random: () => random() });
  for (let n = 1; n <= 99; n++) {
    const value = twoDigit(n);
    random = () => value;
    assert.equal(plates.claim(`holder-${n}`, "", 0).nameplate, String(n));
  }
  // 0.5 draws 50 (taken) from 1–99 and 500 from 1–999.
  random = () => 0.5;
  assert.equal(plates.claim("holder-100", "", 0).nameplate, "500");
  // Another tenant still starts short.
  assert.equal(plates.claim("other", "t", 0).nameplate, "50");
  assert.equal(plates.size, 101);
});

Deno.test("no number is handed out twice while it is held, however the draws collide", () => {
  for (const [seed, squash] of [[1, 1], [2, 4], [3, 12]] as const) {
    const draw = seeded(seed);
    // A power of the draw crowds the numbers low, so collisions are common.
    const plates = new Nameplates({ ttlMs: TTL, random: () => draw() ** squash });
    const held = new Map<string, string>(); // nameplate → holder
    let longest = 0;
    for (let i = 0; i < 1500; i++) {
      if (i % 5 === 4 && held.size > 0) {
        const [nameplate, holder] = [...held][Math.floor(draw() * held.size)]!;
        assert.equal(plates.release(holder)?.nameplate, nameplate);
        held.delete(nameplate);
        continue;
      }
      const holder = `holder-${i}`;
      const { nameplate } = plates.claim(holder, "", i);
      assert.ok(isNameplate(nameplate), nameplate);
      assert.ok(!held.has(nameplate), `${nameplate} handed out twice (seed ${seed})`);
      held.set(nameplate, holder);
      longest = Math.max(longest, nameplate.length);
    }
    assert.equal(plates.size, held.size);
    assert.ok(held.size > 99);
    assert.ok(longest >= 3, `longest ${longest}`);
    for (const [nameplate, holder] of held) {
      assert.equal(plates.use(nameplate, "", 1500)?.holder, holder);
    }
    assert.equal(plates.size, 0);
  }
});

Deno.test("release gives up what a holder holds, once", () => {
  const plates = new Nameplates({ ttlMs: TTL });
  const alice = plates.claim("alice", "", 0);
  const bob = plates.claim("bob", "", 0);
  assert.equal(plates.release("carol"), undefined);
  assert.equal(plates.size, 2);
  assert.deepEqual(plates.release("alice"), alice);
  assert.equal(plates.size, 1);
  assert.equal(plates.release("alice"), undefined);
  assert.equal(plates.heldBy("alice"), undefined);
  assert.equal(plates.use(alice.nameplate, "", 1), undefined);
  assert.deepEqual(plates.expire(TTL), [bob]);
});

Deno.test("size counts the nameplates held across tenants", () => {
  const plates = new Nameplates({ ttlMs: TTL });
  assert.equal(plates.size, 0);
  plates.claim("a", "", 0);
  plates.claim("b", "x", 0);
  plates.claim("c", "y", 0);
  assert.equal(plates.size, 3);
  plates.claim("a", "", 1);
  assert.equal(plates.size, 3);
  plates.release("b");
  assert.equal(plates.size, 2);
});

Deno.test("the constructor refuses a lifetime that is not positive", () => {
  for (const ttlMs of [0, -1, -0, Number.NaN, -Infinity]) {
    assert.throws(() => new Nameplates({ ttlMs }), RangeError, String(ttlMs));
  }
  assert.equal(new Nameplates({ ttlMs: 1 }).ttlMs, 1);
});

Deno.test("isNameplate accepts 1 to 9 digits without a leading zero", () => {
  for (const good of ["1", "7", "42", "999", "123456789"]) assert.equal(isNameplate(good), true);
  for (const bad of ["", "0", "07", "1234567890", "4x", " 4", "4 ", "-4", "4.0", "４"]) {
    assert.equal(isNameplate(bad), false, JSON.stringify(bad));
  }
});
