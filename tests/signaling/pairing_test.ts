import assert from "node:assert/strict";
import { PairError, Pairing } from "../../lib/signaling/pairing.ts";

/** A pairing with `alice` paired to `bob`, made the way the server would. */
function pairedAliceBob(): Pairing {
  const pairing = new Pairing();
  assert.ok(pairing.request("alice", "bob", 0).ok);
  assert.ok(pairing.accept("bob", "alice", 0).ok);
  return pairing;
}

Deno.test("request() records a pending request the target can see", () => {
  const pairing = new Pairing();
  assert.deepEqual(pairing.request("alice", "bob", 0), {
    ok: true,
    refreshed: false,
    replaced: undefined,
  });
  assert.deepEqual(pairing.pendingFrom("bob"), ["alice"]);
  assert.equal(pairing.pendingTarget("alice"), "bob");
  assert.equal(pairing.isPaired("alice"), false);
});

Deno.test("request() refuses to pair a client with itself", () => {
  const pairing = new Pairing();
  assert.deepEqual(pairing.request("alice", "alice", 0), {
    ok: false,
    code: PairError.SelfPair,
  });
  assert.equal(pairing.pendingCount, 0);
});

Deno.test("request() refuses a requester that is already paired", () => {
  const pairing = pairedAliceBob();
  assert.deepEqual(pairing.request("alice", "carol", 0), {
    ok: false,
    code: PairError.AlreadyPaired,
  });
  assert.deepEqual(pairing.pendingFrom("carol"), []);
});

Deno.test("request() refuses a target that is already paired with peer_busy", () => {
  const pairing = pairedAliceBob();
  assert.deepEqual(pairing.request("carol", "bob", 0), { ok: false, code: PairError.PeerBusy });
  assert.equal(pairing.pendingTarget("carol"), undefined);
});

Deno.test("request() to the same target while pending refreshes the expiry", () => {
  const pairing = new Pairing({ timeoutMs: 1_000 });
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.request("alice", "bob", 600), {
    ok: true,
    refreshed: true,
    replaced: undefined,
  });
  assert.equal(pairing.nextExpiryAt, 1_600);
  assert.deepEqual(pairing.expire(1_000), []);
  assert.deepEqual(pairing.pendingFrom("bob"), ["alice"]);
});

Deno.test("request() to the same target after expiry is a new request, not a refresh", () => {
  const pairing = new Pairing({ timeoutMs: 1_000 });
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.request("alice", "bob", 1_000), {
    ok: true,
    refreshed: false,
    replaced: undefined,
  });
  assert.equal(pairing.pendingCount, 1);
});

Deno.test("request() to a new target replaces the previous request and names its target", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.request("alice", "carol", 1), {
    ok: true,
    refreshed: false,
    replaced: "bob",
  });
  assert.deepEqual(pairing.pendingFrom("bob"), []);
  assert.deepEqual(pairing.pendingFrom("carol"), ["alice"]);
  assert.equal(pairing.pendingCount, 1);
});

Deno.test("request() lets one target hold requests from several requesters", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "bob", 1);
  pairing.request("dave", "bob", 2);
  assert.deepEqual(pairing.pendingFrom("bob"), ["alice", "carol", "dave"]);
  assert.equal(pairing.pendingCount, 3);
});

Deno.test("request() keeps crossing requests as two requests without pairing", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("bob", "alice", 1);
  assert.deepEqual(pairing.pendingFrom("alice"), ["bob"]);
  assert.deepEqual(pairing.pendingFrom("bob"), ["alice"]);
  assert.equal(pairing.pairCount, 0);
});

Deno.test("request() does not care whether an id is a connected client", () => {
  const pairing = new Pairing();
  assert.ok(pairing.request("alice", "nobody-registered-this", 0).ok);
});

Deno.test("accept() pairs both clients and marks the requester initiator", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.accept("bob", "alice", 10), {
    ok: true,
    initiator: "alice",
    responder: "bob",
    dropped: [],
    withdrawn: [],
  });
  assert.equal(pairing.partnerOf("alice"), "bob");
  assert.equal(pairing.partnerOf("bob"), "alice");
  assert.equal(pairing.pendingCount, 0);
  assert.equal(pairing.pairCount, 1);
});

Deno.test("accept() fails with no_pending_request when that id asked nobody or someone else", () => {
  const pairing = new Pairing();
  assert.deepEqual(pairing.accept("bob", "alice", 0), {
    ok: false,
    code: PairError.NoPendingRequest,
  });
  pairing.request("alice", "carol", 0);
  assert.deepEqual(pairing.accept("bob", "alice", 0), {
    ok: false,
    code: PairError.NoPendingRequest,
  });
  assert.equal(pairing.isPaired("alice"), false);
});

Deno.test("accept() fails with no_pending_request once the request has expired, before any sweep", () => {
  const pairing = new Pairing({ timeoutMs: 1_000 });
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.accept("bob", "alice", 1_000), {
    ok: false,
    code: PairError.NoPendingRequest,
  });
  // Still held, so expire() can tell alice `timeout`.
  assert.deepEqual(pairing.expire(1_000), [{
    requester: "alice",
    target: "bob",
    expiresAt: 1_000,
  }]);
});

Deno.test("accept() fails with already_paired when the target already has a partner", () => {
  const pairing = pairedAliceBob();
  assert.deepEqual(pairing.accept("bob", "carol", 0), {
    ok: false,
    code: PairError.AlreadyPaired,
  });
});

Deno.test("accept() fails with no_pending_request when the requester paired meanwhile", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "alice", 0);
  const accepted = pairing.accept("alice", "carol", 1);
  // bob learns here that alice's request is gone, so no peer_busy is needed later.
  assert.ok(accepted.ok);
  assert.deepEqual(accepted.withdrawn, ["bob"]);
  assert.deepEqual(pairing.accept("bob", "alice", 2), {
    ok: false,
    code: PairError.NoPendingRequest,
  });
});

Deno.test("accept() drops other requests to both parties and lists their requesters", () => {
  const pairing = new Pairing();
  pairing.request("carol", "bob", 0);
  pairing.request("alice", "bob", 1);
  pairing.request("dave", "alice", 2);
  pairing.request("erin", "frank", 3);
  const accepted = pairing.accept("bob", "alice", 4);
  assert.ok(accepted.ok);
  assert.deepEqual(accepted.dropped, ["carol", "dave"]);
  assert.deepEqual(accepted.withdrawn, []);
  assert.equal(pairing.pendingTarget("carol"), undefined);
  assert.equal(pairing.pendingTarget("dave"), undefined);
  assert.deepEqual(pairing.pendingFrom("frank"), ["erin"]);
});

Deno.test("accept() withdraws the target's own outgoing request and lists its target", () => {
  const pairing = new Pairing();
  pairing.request("bob", "carol", 0);
  pairing.request("alice", "bob", 1);
  const accepted = pairing.accept("bob", "alice", 2);
  assert.ok(accepted.ok);
  assert.deepEqual(accepted.withdrawn, ["carol"]);
  assert.deepEqual(pairing.pendingFrom("carol"), []);
});

Deno.test("accept() of crossing requests lists neither party and clears both", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("bob", "alice", 1);
  const accepted = pairing.accept("bob", "alice", 2);
  assert.ok(accepted.ok);
  assert.deepEqual(accepted.dropped, []);
  assert.deepEqual(accepted.withdrawn, []);
  assert.equal(pairing.pendingCount, 0);
});

Deno.test("reject() removes the pending request and names the requester", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "bob", 0);
  assert.deepEqual(pairing.reject("bob", "alice"), { ok: true, requester: "alice" });
  assert.deepEqual(pairing.pendingFrom("bob"), ["carol"]);
  assert.equal(pairing.pendingTarget("alice"), undefined);
});

Deno.test("reject() fails with no_pending_request when that id has not asked", () => {
  const pairing = new Pairing();
  pairing.request("alice", "carol", 0);
  assert.deepEqual(pairing.reject("bob", "alice"), {
    ok: false,
    code: PairError.NoPendingRequest,
  });
  assert.equal(pairing.pendingTarget("alice"), "carol");
});

Deno.test("reject() works on an expired request that has not been swept", () => {
  const pairing = new Pairing({ timeoutMs: 1_000 });
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.reject("bob", "alice"), { ok: true, requester: "alice" });
  assert.deepEqual(pairing.expire(5_000), []);
});

Deno.test("expire() returns requests at or past their timeout, oldest first, and keeps the rest", () => {
  const pairing = new Pairing({ timeoutMs: 1_000 });
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "bob", 100);
  pairing.request("dave", "erin", 200);
  assert.deepEqual(pairing.expire(999), []);
  assert.deepEqual(pairing.expire(1_100), [
    { requester: "alice", target: "bob", expiresAt: 1_000 },
    { requester: "carol", target: "bob", expiresAt: 1_100 },
  ]);
  assert.deepEqual(pairing.pendingFrom("bob"), []);
  assert.deepEqual(pairing.pendingFrom("erin"), ["dave"]);
  assert.equal(pairing.pendingCount, 1);
});

Deno.test("expire() uses 30 seconds when no timeoutMs is given", () => {
  const pairing = new Pairing();
  assert.equal(pairing.timeoutMs, 30_000);
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.expire(29_999), []);
  assert.equal(pairing.expire(30_000).length, 1);
});

Deno.test("expire() sweeps a refreshed request by its new expiry, after older ones", () => {
  const pairing = new Pairing({ timeoutMs: 1_000 });
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "dave", 100);
  pairing.request("alice", "bob", 500);
  assert.deepEqual(pairing.expire(1_100).map((r) => r.requester), ["carol"]);
  assert.deepEqual(pairing.expire(1_500).map((r) => r.requester), ["alice"]);
});

Deno.test("nextExpiryAt is the oldest request's expiry, or undefined when none is pending", () => {
  const pairing = new Pairing({ timeoutMs: 1_000 });
  assert.equal(pairing.nextExpiryAt, undefined);
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "bob", 300);
  assert.equal(pairing.nextExpiryAt, 1_000);
  pairing.reject("bob", "alice");
  assert.equal(pairing.nextExpiryAt, 1_300);
  pairing.expire(1_300);
  assert.equal(pairing.nextExpiryAt, undefined);
});

Deno.test("constructor rejects a timeoutMs that is not positive", () => {
  assert.throws(() => new Pairing({ timeoutMs: 0 }), RangeError);
  assert.throws(() => new Pairing({ timeoutMs: -1 }), RangeError);
  assert.throws(() => new Pairing({ timeoutMs: NaN }), RangeError);
});

Deno.test("unpair() ends the pairing on both sides and returns the former partner", () => {
  const pairing = pairedAliceBob();
  assert.deepEqual(pairing.unpair("bob"), { ok: true, partner: "alice" });
  assert.equal(pairing.isPaired("alice"), false);
  assert.equal(pairing.isPaired("bob"), false);
  assert.equal(pairing.pairCount, 0);
  assert.ok(pairing.request("alice", "bob", 1).ok);
});

Deno.test("unpair() fails with not_paired when the client has no partner", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  assert.deepEqual(pairing.unpair("alice"), { ok: false, code: PairError.NotPaired });
  assert.equal(pairing.pendingTarget("alice"), "bob");
});

Deno.test("remove() of a paired client returns the former partner and frees it", () => {
  const pairing = pairedAliceBob();
  assert.deepEqual(pairing.remove("alice"), { partner: "bob", dropped: [], withdrawn: [] });
  assert.equal(pairing.isPaired("bob"), false);
  assert.equal(pairing.pairCount, 0);
});

Deno.test("remove() of a requester withdraws its request and names the target", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "bob", 0);
  assert.deepEqual(pairing.remove("alice"), {
    partner: undefined,
    dropped: [],
    withdrawn: ["bob"],
  });
  assert.deepEqual(pairing.pendingFrom("bob"), ["carol"]);
});

Deno.test("remove() of a target drops the requests to it and lists their requesters", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "bob", 0);
  assert.deepEqual(pairing.remove("bob"), {
    partner: undefined,
    dropped: ["alice", "carol"],
    withdrawn: [],
  });
  assert.equal(pairing.pendingCount, 0);
  assert.equal(pairing.nextExpiryAt, undefined);
});

Deno.test("remove() of a client that both asked and was asked reports both directions", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.request("carol", "alice", 0);
  pairing.request("bob", "alice", 0);
  assert.deepEqual(pairing.remove("alice"), {
    partner: undefined,
    dropped: ["carol", "bob"],
    withdrawn: ["bob"],
  });
  assert.equal(pairing.pendingCount, 0);
});

Deno.test("remove() of an unknown or already removed client changes nothing", () => {
  const pairing = pairedAliceBob();
  pairing.request("carol", "dave", 0);
  const nothing = { partner: undefined, dropped: [], withdrawn: [] };
  assert.deepEqual(pairing.remove("erin"), nothing);
  pairing.remove("alice");
  assert.deepEqual(pairing.remove("alice"), nothing);
  assert.equal(pairing.pendingCount, 1);
});

Deno.test("pendingFrom() returns a copy the caller may change", () => {
  const pairing = new Pairing();
  pairing.request("alice", "bob", 0);
  pairing.pendingFrom("bob").push("mallory");
  assert.deepEqual(pairing.pendingFrom("bob"), ["alice"]);
});

/** A small seeded PRNG (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fails when any documented invariant does not hold for `ids`. */
function assertConsistent(pairing: Pairing, ids: readonly string[]): void {
  let paired = 0;
  let pending = 0;
  for (const id of ids) {
    const partner = pairing.partnerOf(id);
    const target = pairing.pendingTarget(id);
    assert.equal(pairing.isPaired(id), partner !== undefined);
    if (partner !== undefined) {
      paired++;
      assert.notEqual(partner, id);
      assert.equal(pairing.partnerOf(partner), id, "partnership is symmetric");
      assert.equal(target, undefined, "a paired client has no outgoing request");
      assert.deepEqual(pairing.pendingFrom(id), [], "a paired client has no incoming request");
    }
    if (target !== undefined) {
      pending++;
      assert.notEqual(target, id);
      assert.ok(pairing.pendingFrom(target).includes(id), "the target indexes the request");
      assert.equal(pairing.isPaired(target), false, "nobody asks a paired client");
    }
    for (const requester of pairing.pendingFrom(id)) {
      assert.equal(pairing.pendingTarget(requester), id, "incoming matches outgoing");
    }
  }
  assert.equal(pairing.pairCount * 2, paired);
  assert.equal(pairing.pendingCount, pending);
  assert.equal(pairing.nextExpiryAt === undefined, pending === 0);
}

Deno.test("Pairing stays consistent over 10,000 random operations on 20 clients", () => {
  const next = random(20_240_601);
  const ids = Array.from({ length: 20 }, (_, i) => `client-${i}`);
  const pick = () => ids[Math.floor(next() * ids.length)]!;
  const pairing = new Pairing({ timeoutMs: 5_000 });
  let now = 0;
  const outcomes = new Map<string, number>();
  for (let step = 0; step < 10_000; step++) {
    now += Math.floor(next() * 300);
    const a = pick();
    const b = pick();
    const roll = next();
    let outcome: string;
    if (roll < 0.4) {
      const result = pairing.request(a, b, now);
      outcome = result.ok ? "request" : result.code;
      if (result.ok) assert.equal(pairing.pendingTarget(a), b);
    } else if (roll < 0.6) {
      const result = pairing.accept(a, b, now);
      outcome = result.ok ? "accept" : result.code;
      if (result.ok) {
        assert.equal(pairing.partnerOf(a), b);
        assert.equal(result.initiator, b);
        assert.ok(!result.dropped.includes(a) && !result.dropped.includes(b));
        assert.ok(!result.withdrawn.includes(a) && !result.withdrawn.includes(b));
      }
    } else if (roll < 0.7) {
      const result = pairing.reject(a, b);
      outcome = result.ok ? "reject" : result.code;
    } else if (roll < 0.8) {
      const result = pairing.unpair(a);
      outcome = result.ok ? "unpair" : result.code;
      if (result.ok) assert.equal(pairing.isPaired(result.partner), false);
    } else if (roll < 0.9) {
      for (const expired of pairing.expire(now)) {
        assert.ok(expired.expiresAt <= now);
        assert.equal(pairing.pendingTarget(expired.requester), undefined);
      }
      const nextExpiry = pairing.nextExpiryAt;
      assert.ok(nextExpiry === undefined || nextExpiry > now);
      outcome = "expire";
    } else {
      const result = pairing.remove(a);
      outcome = "remove";
      assert.equal(pairing.isPaired(a), false);
      assert.equal(pairing.pendingTarget(a), undefined);
      assert.deepEqual(pairing.pendingFrom(a), []);
      if (result.partner !== undefined) assert.equal(pairing.isPaired(result.partner), false);
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    assertConsistent(pairing, ids);
  }
  // The run must reach every path, or the invariants were checked on easy states only.
  for (
    const outcome of [
      "request",
      "accept",
      "reject",
      "unpair",
      "expire",
      "remove",
      ...Object.values(PairError),
    ]
  ) {
    assert.ok((outcomes.get(outcome) ?? 0) > 0, `never saw ${outcome}`);
  }
});
