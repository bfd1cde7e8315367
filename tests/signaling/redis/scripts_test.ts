import assert from "node:assert/strict";
import {
  channelOf,
  parseEvent,
  SCRIPTS,
  toldEvents,
} from "../../../lib/signaling/redis/scripts.ts";

Deno.test("parseEvent() reads pairing events and relayed messages", () => {
  assert.deepEqual(parseEvent("a p b 1"), { to: "a", kind: "p", peer: "b", reason: "1" });
  assert.deepEqual(parseEvent("a r b -"), { to: "a", kind: "r", peer: "b", reason: "-" });
  assert.deepEqual(parseEvent('a m {"type":"relay","data":"x y"}'), {
    to: "a",
    kind: "m",
    json: '{"type":"relay","data":"x y"}',
  });
});

Deno.test("parseEvent() refuses what no script publishes", () => {
  for (const payload of ["", "a", "a p", "a x b c", " p b c", "a p b"]) {
    assert.equal(parseEvent(payload), undefined, payload);
  }
});

Deno.test("toldEvents() reads the groups of four after a script's own results", () => {
  assert.deepEqual(toldEvents(["ok", "0", "", "b", "r", "a", "-"], 3), [
    { to: "b", kind: "r", peer: "a", reason: "-" },
  ]);
  assert.deepEqual(toldEvents(["ok"], 1), []);
});

Deno.test("every script shares the prefix and each instance has its own channel", () => {
  for (const script of Object.values(SCRIPTS)) {
    assert.match(script.source, /local P = 'switchboard:'/);
  }
  assert.equal(channelOf("i1"), "switchboard:ch:i1");
  assert.notEqual(channelOf("i1"), channelOf("i2"));
});
