import assert from "node:assert/strict";
import { CodeLimits, DEFAULT_CODE_LIMITS } from "../../lib/server/code_limits.ts";

const MINUTE = 60_000;

/** How many of `count` tries at `now` are allowed. */
function allowed(
  limits: CodeLimits,
  address: string,
  tenant: string | undefined,
  now: number,
  count: number,
): number {
  let yes = 0;
  for (let i = 0; i < count; i++) if (limits.allow(address, tenant, now)) yes++;
  return yes;
}

Deno.test("the default limits let a person type a few codes a minute and a key's program more", () => {
  assert.deepEqual(DEFAULT_CODE_LIMITS, {
    perAddress: { perMinute: 10, burst: 20 },
    perKey: { perMinute: 120, burst: 240 },
  });
  const limits = new CodeLimits();
  assert.equal(allowed(limits, "203.0.113.7", undefined, 0, 100), 20);
});

Deno.test("an address gets its burst at once, then one code per refill interval", () => {
  const limits = new CodeLimits();
  const { perMinute, burst } = DEFAULT_CODE_LIMITS.perAddress;
  const interval = MINUTE / perMinute; // 6 s
  assert.equal(allowed(limits, "203.0.113.7", undefined, 0, burst), burst);
  assert.equal(limits.allow("203.0.113.7", undefined, 0), false);
  assert.equal(limits.allow("203.0.113.7", undefined, interval - 1), false);
  assert.equal(limits.allow("203.0.113.7", undefined, interval), true);
  assert.equal(limits.allow("203.0.113.7", undefined, interval), false);
  // A minute gives a minute's worth, and a long wait no more than the burst.
  assert.equal(allowed(limits, "203.0.113.7", undefined, interval + MINUTE, 100), perMinute);
  assert.equal(allowed(limits, "203.0.113.7", undefined, 3_600_000, 100), burst);
  // Other addresses were never touched.
  assert.equal(allowed(limits, "198.51.100.1", undefined, 0, 100), burst);
});

Deno.test("a key's limit applies across all the addresses its clients come from", () => {
  const limits = new CodeLimits({
    perAddress: { perMinute: 60, burst: 100 },
    perKey: { perMinute: 1, burst: 5 },
  });
  for (let i = 1; i <= 5; i++) assert.equal(limits.allow(`192.0.2.${i}`, "key-a", 0), true);
  assert.equal(limits.allow("192.0.2.6", "key-a", 0), false);
  assert.equal(limits.allow("192.0.2.1", "key-a", 0), false);
  // The address itself is fine, without the key or with another.
  assert.equal(limits.allow("192.0.2.6", undefined, 0), true);
  assert.equal(limits.allow("192.0.2.6", "key-b", 0), true);
  // The key refills at its own rate.
  assert.equal(limits.allow("192.0.2.7", "key-a", MINUTE - 1), false);
  assert.equal(limits.allow("192.0.2.7", "key-a", MINUTE), true);
  assert.equal(limits.allow("192.0.2.8", "key-a", MINUTE), false);
});

Deno.test("a key's empty bucket refuses without spending the address's codes", () => {
  const limits = new CodeLimits({
    perAddress: { perMinute: 1, burst: 3 },
    perKey: { perMinute: 1, burst: 5 },
  });
  // The busy key spends its codes elsewhere...
  for (let i = 1; i <= 5; i++) assert.equal(limits.allow(`192.0.2.${i}`, "busy", 0), true);
  // ...and its client at the shared address is refused, many times.
  for (let i = 0; i < 10; i++) assert.equal(limits.allow("198.51.100.9", "busy", 0), false);
  // Another key's client at that address still gets the whole address burst.
  assert.equal(allowed(limits, "198.51.100.9", "quiet", 0, 10), 3);
});

Deno.test("full buckets are forgotten once there are more than 10,000, at most once a minute", () => {
  const limits = new CodeLimits();
  for (let i = 0; i <= 10_000; i++) {
    assert.equal(limits.allow(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, undefined, 0), true);
  }
  assert.equal(limits.size, 10_001);
  // One code takes six seconds to come back (10 a minute): a second on, none is full yet.
  assert.equal(limits.allow("203.0.113.8", undefined, 1000), true);
  assert.equal(limits.size, 10_002);
  // 10.0.0.1 spends its whole burst: it is full again only two minutes later.
  assert.equal(allowed(limits, "10.0.0.1", undefined, 30_000, 100), 20);
  // Within a minute of the last sweep, no other sweep, however many buckets are full.
  assert.equal(limits.allow("203.0.113.9", undefined, 60_000), true);
  assert.equal(limits.size, 10_003);
  // A minute after it, the full ones go; the drained one stays, and so does its count, as
  // does 203.0.113.9's, used a second ago.
  assert.equal(limits.allow("203.0.113.10", undefined, 61_001), true);
  assert.equal(limits.size, 3);
  assert.equal(allowed(limits, "10.0.0.1", undefined, 61_001, 100), 5, "10.0.0.1 was kept");
  // A forgotten address starts again with a full bucket.
  assert.equal(allowed(limits, "10.0.0.0", undefined, 61_001, 100), 20);
  assert.equal(limits.size, 4);
});

Deno.test("buckets are not swept while there are 10,000 or fewer", () => {
  const limits = new CodeLimits();
  for (let i = 0; i < 9_999; i++) {
    limits.allow(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, undefined, 0);
  }
  assert.equal(limits.size, 9_999);
  limits.allow("203.0.113.7", undefined, 3_600_000);
  assert.equal(limits.size, 10_000);
  limits.allow("203.0.113.8", undefined, 7_200_000);
  assert.equal(limits.size, 10_001);
});

Deno.test("a key's bucket counts towards the buckets kept and is swept when idle", () => {
  const limits = new CodeLimits();
  limits.allow("192.0.2.1", "key-a", 0);
  assert.equal(limits.size, 2);
  for (let i = 0; i < 9_999; i++) {
    limits.allow(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, undefined, 0);
  }
  assert.equal(limits.size, 10_001);
  limits.allow("203.0.113.7", "key-b", 11 * MINUTE);
  assert.equal(limits.size, 2);
});
