import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { sctpAssociationClass } from "../../../lib/cli/werift/sctp_association.ts";
import { WeriftMismatch } from "../../../lib/cli/werift/patch.ts";

Deno.test({
  name: "sctpAssociationClass() finds werift's unexported SCTP association class",
  // Loading werift starts timers of its own that outlive the test.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const association = sctpAssociationClass(await loadWerift());
    assert.equal(typeof (association.prototype as Record<string, unknown>).handleData, "function");
  },
});

Deno.test("sctpAssociationClass() throws a WeriftMismatch when the transport makes none", () => {
  class NoAssociation {
    setDtlsTransport() {}
  }
  assert.throws(
    () => sctpAssociationClass({ RTCSctpTransport: NoAssociation } as never),
    WeriftMismatch,
  );
});
