import assert from "node:assert/strict";
import {
  dtlsStartPatch,
  MAX_EARLY_RECORDS,
  removeDtlsStartDelay,
} from "../../../lib/cli/werift/dtls_start.ts";

/** A module whose two transports have `start` methods of the given source. */
function withStarts(dtlsStart: () => unknown, iceStart: () => unknown) {
  const classWith = (start: () => unknown) => {
    const stand_in = class {};
    Object.assign(stand_in.prototype, { start });
    return stand_in;
  };
  return { RTCDtlsTransport: classWith(dtlsStart), RTCIceTransport: classWith(iceStart) } as never;
}

Deno.test("removeDtlsStartDelay() throws, naming the method and the sleep, when the sleep is gone", () => {
  const werift = withStarts(function start() {}, function start() {});
  assert.throws(
    () => removeDtlsStartDelay(werift),
    /cannot patch werift: RTCDtlsTransport\.prototype\.start no longer contains "await setTimeout6\(100\);" \(the sleep before the DTLS client connects\)/,
  );
  assert.equal(dtlsStartPatch.isApplied(werift), false, "nothing was patched");
});

Deno.test("dtlsStartPatch.isApplied() is false, never a throw, for a module without the classes", () => {
  assert.equal(dtlsStartPatch.isApplied({} as never), false);
});

Deno.test("MAX_EARLY_RECORDS bounds the early records to a few handshake flights", () => {
  assert.ok(MAX_EARLY_RECORDS >= 8 && MAX_EARLY_RECORDS <= 64);
});
