import assert from "node:assert/strict";
import {
  applyPatches,
  collapsedSource,
  expectSource,
  isPatched,
  markPatched,
  methodNow,
  prototypeOf,
  sourceFingerprint,
  WERIFT_VERSION,
  WeriftMismatch,
  type WeriftPatch,
} from "../../../lib/cli/werift/patch.ts";

/** A library with one method, and a patch that doubles what it returns. */
function doubling() {
  class Counter {
    count(): number {
      return 1; // the original
    }
  }
  const library = { Counter };
  const patch: WeriftPatch<typeof library> = {
    isApplied: (lib) => isPatched(methodNow(lib, "Counter", "count")),
    check(lib) {
      expectSource(prototypeOf(lib, "Counter").count, {
        name: "Counter.prototype.count",
        fragments: [["the original", "what the patch doubles"]],
      });
    },
    apply(lib) {
      const proto = prototypeOf(lib, "Counter");
      const count = proto.count as () => number;
      proto.count = markPatched(function (this: unknown) {
        return 2 * count.call(this);
      });
    },
  };
  return { library, patch };
}

Deno.test("applyPatches() applies a patch once, however often it is called", () => {
  const { library, patch } = doubling();
  applyPatches(library, [patch]);
  applyPatches(library, [patch]);
  assert.equal(new library.Counter().count(), 2);
  assert.equal(patch.isApplied(library), true);
});

Deno.test("applyPatches() checks every patch before applying any", () => {
  const { library, patch } = doubling();
  const failing: WeriftPatch<typeof library> = {
    isApplied: () => false,
    check: () => {
      throw new WeriftMismatch("Counter", "is not what this patch expects");
    },
    apply: () => assert.fail("never applied"),
  };
  assert.throws(() => applyPatches(library, [patch, failing]), WeriftMismatch);
  assert.equal(patch.isApplied(library), false);
  assert.equal(new library.Counter().count(), 1);
});

Deno.test("WeriftMismatch names the subject, what differs and the werift release", () => {
  const error = new WeriftMismatch("Connection.prototype.connect", "is missing");
  assert.equal(error.name, "WeriftMismatch");
  assert.equal(
    error.message,
    `cannot patch werift: Connection.prototype.connect is missing (written for werift ${WERIFT_VERSION})`,
  );
});

Deno.test("expectSource() throws on a missing method, a missing fragment and a changed fingerprint", () => {
  const expected = { name: "f", fragments: [["return 1", "the result"]] as const };
  assert.throws(() => expectSource(undefined, expected), /f does not exist/);
  assert.throws(
    () => expectSource(() => 2, expected),
    /f no longer contains "return 1" \(the result\)/,
  );
  const fn = function () {
    return 1;
  };
  expectSource(fn, { ...expected, fingerprint: sourceFingerprint(String(fn)) });
  assert.throws(
    () => expectSource(fn, { ...expected, fingerprint: "00000000" }),
    /f changed \(source fingerprint [0-9a-f]{8}, expected 00000000\)/,
  );
});

Deno.test("prototypeOf() and methodNow() read a class werift exports; only prototypeOf() throws", () => {
  class Thing {
    run() {}
  }
  assert.equal(prototypeOf({ Thing }, "Thing").run, Thing.prototype.run);
  assert.equal(methodNow({ Thing }, "Thing", "run"), Thing.prototype.run);
  assert.equal(methodNow({}, "Thing", "run"), undefined);
  assert.throws(() => prototypeOf({}, "Thing"), /Thing is not exported as a class/);
});

Deno.test("collapsedSource() and sourceFingerprint() ignore how code is laid out", () => {
  assert.equal(collapsedSource("a\n\t  b"), "a b");
  assert.equal(sourceFingerprint("a\n\t  b"), sourceFingerprint("a b"));
  assert.notEqual(sourceFingerprint("a b"), sourceFingerprint("a c"));
});
