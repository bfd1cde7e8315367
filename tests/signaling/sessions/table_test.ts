import assert from "node:assert/strict";
import {
  newResumeToken,
  SessionTable,
  type SessionTableOptions,
} from "../../../lib/signaling/sessions/table.ts";

function table(options: Partial<SessionTableOptions> = {}): SessionTable<string> {
  let n = 0;
  return new SessionTable<string>({
    graceMs: 1000,
    maxQueued: 3,
    maxQueuedBytes: 100,
    newToken: () => `t${++n}`,
    ...options,
  });
}

Deno.test("newResumeToken() gives 192 random bits in base64url, different every time", () => {
  const tokens = new Set(Array.from({ length: 1000 }, () => newResumeToken()));
  assert.equal(tokens.size, 1000);
  for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{32}$/);
});

Deno.test("open() issues a token that resumes the id it was issued for, and a new token each time", () => {
  const sessions = table();
  assert.equal(sessions.open("a"), "t1");
  assert.equal(sessions.open("b"), "t2");
  assert.equal(sessions.suspend("a", 0), true);
  const resumed = sessions.resume("t1", 10);
  assert.deepEqual(resumed, { ok: true, id: "a", token: "t3", queued: [], wasAway: true });
  assert.deepEqual(sessions.resume("t2", 10), {
    ok: true,
    id: "b",
    token: "t4",
    queued: [],
    wasAway: false,
  });
});

Deno.test("resume() spends the token: the old one fails, the rotated one works", () => {
  const sessions = table();
  sessions.open("a");
  sessions.suspend("a", 0);
  assert.equal(sessions.resume("t1", 1).ok, true);
  assert.deepEqual(sessions.resume("t1", 2), { ok: false });
  sessions.suspend("a", 3);
  assert.deepEqual(sessions.resume("t2", 4), {
    ok: true,
    id: "a",
    token: "t3",
    queued: [],
    wasAway: true,
  });
});

Deno.test("resume() of an unknown token changes nothing", () => {
  const sessions = table();
  sessions.open("a");
  sessions.suspend("a", 0);
  for (const token of ["", "a", "t2", "t1 ", "T1"]) {
    assert.deepEqual(sessions.resume(token, 1), { ok: false });
  }
  assert.equal(sessions.isAway("a"), true);
  assert.equal(sessions.resume("t1", 1).ok, true);
});

Deno.test("resume() refused by owns() changes nothing, like an unknown token: the window, the queue and the token stay", () => {
  const sessions = table();
  sessions.open("a");
  sessions.open("b");
  sessions.suspend("a", 0);
  assert.equal(sessions.hold("a", "waiting", 7), "held");
  const asked: string[] = [];
  const stranger = (id: string) => (asked.push(id), false);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(sessions.resume("t1", 10 + i, stranger), { ok: false });
  }
  // Not away, but connected: a stranger cannot supersede it either.
  assert.deepEqual(sessions.resume("t2", 20, stranger), { ok: false });
  assert.deepEqual(asked, ["a", "a", "a", "a", "a", "b"]);
  assert.equal(sessions.isAway("a"), true);
  assert.equal(sessions.awayCount, 1);
  assert.equal(sessions.nextDeadline, 1000, "the window still ends when it would have");
  // Its owner still gets it back, with what waited.
  assert.deepEqual(sessions.resume("t1", 30, (id) => id === "a"), {
    ok: true,
    id: "a",
    token: "t3",
    queued: ["waiting"],
    wasAway: true,
  });
  // And unresumed, it would have ended on time.
  const other = table();
  other.open("a");
  other.suspend("a", 0);
  other.resume("t1", 10, () => false);
  assert.deepEqual(other.expire(1000), ["a"]);
  assert.equal(other.has("a"), false);
});

Deno.test("resume() fails once the window has ended, even before expire() sweeps it", () => {
  const sessions = table();
  sessions.open("a");
  sessions.suspend("a", 0);
  assert.deepEqual(sessions.resume("t1", 1000), { ok: false });
  assert.equal(sessions.isAway("a"), true);
  assert.deepEqual(sessions.expire(1000), ["a"]);
  assert.equal(sessions.has("a"), false);
  assert.equal(sessions.nextDeadline, undefined);
});

Deno.test("suspend() needs a session and starts a window once", () => {
  const sessions = table();
  assert.equal(sessions.suspend("nobody", 0), false);
  sessions.open("a");
  assert.equal(sessions.suspend("a", 0), true);
  assert.equal(sessions.suspend("a", 500), false);
  assert.equal(sessions.nextDeadline, 1000);
  assert.equal(sessions.awayCount, 1);
});

Deno.test("hold() keeps messages only for an away client and gives them back in order, once", () => {
  const sessions = table();
  sessions.open("a");
  assert.equal(sessions.hold("a", "too early", 1), "absent");
  assert.equal(sessions.hold("b", "nobody", 1), "absent");
  sessions.suspend("a", 0);
  assert.equal(sessions.hold("a", "one", 3), "held");
  assert.equal(sessions.hold("a", "two", 3), "held");
  const resumed = sessions.resume("t1", 1);
  assert.ok(resumed.ok);
  assert.deepEqual(resumed.queued, ["one", "two"]);
  sessions.suspend("a", 2);
  const again = sessions.resume(resumed.token, 3);
  assert.ok(again.ok);
  assert.deepEqual(again.queued, []);
});

Deno.test("hold() past maxQueued messages ends the session", () => {
  const sessions = table({ maxQueued: 2 });
  sessions.open("a");
  sessions.suspend("a", 0);
  assert.equal(sessions.hold("a", "1", 1), "held");
  assert.equal(sessions.hold("a", "2", 1), "held");
  assert.equal(sessions.hold("a", "3", 1), "overflow");
  assert.equal(sessions.has("a"), false);
  assert.equal(sessions.hold("a", "4", 1), "absent");
  assert.deepEqual(sessions.resume("t1", 1), { ok: false });
});

Deno.test("hold() past maxQueuedBytes ends the session", () => {
  const sessions = table({ maxQueuedBytes: 10 });
  sessions.open("a");
  sessions.suspend("a", 0);
  assert.equal(sessions.hold("a", "six", 6), "held");
  assert.equal(sessions.hold("a", "five", 5), "overflow");
  assert.equal(sessions.isAway("a"), false);
});

Deno.test("end() spends the token and drops what was held", () => {
  const sessions = table();
  sessions.open("a");
  sessions.suspend("a", 0);
  sessions.hold("a", "x", 1);
  assert.equal(sessions.end("a"), true);
  assert.equal(sessions.end("a"), false);
  assert.deepEqual(sessions.resume("t1", 1), { ok: false });
  assert.equal(sessions.awayCount, 0);
});

Deno.test("open() again for an id replaces its session and its token", () => {
  const sessions = table();
  sessions.open("a");
  assert.equal(sessions.open("a"), "t2");
  assert.equal(sessions.size, 1);
  sessions.suspend("a", 0);
  assert.deepEqual(sessions.resume("t1", 1), { ok: false });
  assert.equal(sessions.resume("t2", 1).ok, true);
});

Deno.test("expire() ends windows in order, up to now, and leaves the rest", () => {
  const sessions = table();
  for (const id of ["a", "b", "c"]) sessions.open(id);
  sessions.suspend("a", 0);
  sessions.suspend("b", 100);
  sessions.suspend("c", 200);
  assert.deepEqual(sessions.expire(999), []);
  assert.deepEqual(sessions.expire(1100), ["a", "b"]);
  assert.equal(sessions.nextDeadline, 1200);
  assert.equal(sessions.isAway("c"), true);
});

Deno.test("endAway() ends the matching away sessions before their window ends, and nothing else", () => {
  const sessions = table();
  for (const id of ["a1", "a2", "a3", "b1"]) sessions.open(id);
  sessions.suspend("a1", 0);
  sessions.suspend("b1", 100);
  sessions.suspend("a3", 200);
  sessions.hold("a1", "x", 1);
  assert.deepEqual(sessions.endAway((id) => id.startsWith("a")), ["a1", "a3"]);
  // Tokens t1 and t3 are spent; a2 is connected and keeps its session (t2).
  assert.deepEqual(sessions.resume("t1", 10), { ok: false });
  assert.deepEqual(sessions.resume("t3", 10), { ok: false });
  assert.equal(sessions.has("a2"), true);
  assert.equal(sessions.isAway("b1"), true);
  assert.equal(sessions.awayCount, 1);
  assert.equal(sessions.nextDeadline, 1100, "the timer now waits for b1 alone");
  assert.deepEqual(sessions.endAway(() => true), ["b1"]);
  assert.deepEqual(sessions.endAway(() => true), []);
  assert.equal(sessions.size, 1);
});

Deno.test("a poor token source never gives two sessions one token", () => {
  const tokens = ["same", "same", "same", "other"];
  const sessions = new SessionTable<string>({
    graceMs: 1000,
    maxQueued: 1,
    maxQueuedBytes: 1,
    newToken: () => tokens.shift() ?? "later",
  });
  assert.equal(sessions.open("a"), "same");
  assert.equal(sessions.open("b"), "other");
});

Deno.test("the constructor refuses a window or bounds that cannot work", () => {
  assert.throws(() => table({ graceMs: 0 }), RangeError);
  assert.throws(() => table({ maxQueued: 0 }), RangeError);
  assert.throws(() => table({ maxQueuedBytes: Number.NaN }), RangeError);
});
