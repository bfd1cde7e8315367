import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { FIXES, fixWerift } from "../../../lib/cli/werift/fixes.ts";

Deno.test({
  name: "fixWerift() applies every fix to werift once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    const proto = werift.RTCSctpTransport.prototype as unknown as Record<string, unknown>;
    fixWerift(werift);
    const flush = proto.dataChannelFlush;
    const probe = new werift.RTCSctpTransport() as unknown as {
      setDtlsTransport(dtls: unknown): void;
      sctp: { handleData: unknown };
    };
    probe.setDtlsTransport({
      id: "test",
      onStateChange: { subscribe: () => ({ unSubscribe() {} }) },
    });
    const handleData = probe.sctp.handleData;
    fixWerift(werift);
    assert.equal(proto.dataChannelFlush, flush);
    assert.equal(probe.sctp.handleData, handleData);
  },
});

Deno.test({
  name: "fixWerift() leaves every fix in place",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    fixWerift(werift);
    assert.ok(FIXES.every((fix) => fix.isApplied(werift)));
  },
});

Deno.test("fixWerift() checks every fix before it applies any", () => {
  class Connection {
    applyStunTurnServersFromOptions() {
      return "DEFAULT_STUN_SERVER";
    }
  }
  const original = Connection.prototype.applyStunTurnServersFromOptions;
  // The STUN fix would fit; the DTLS client after it does not.
  assert.throws(() => fixWerift({ Connection } as never), /DtlsClient is not exported as a class/);
  assert.equal(Connection.prototype.applyStunTurnServersFromOptions, original);
});
