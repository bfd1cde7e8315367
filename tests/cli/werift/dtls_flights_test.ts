import assert from "node:assert/strict";
import { loadWerift } from "../../../lib/runtime/deps.ts";
import { withoutDuplicateFlights } from "../../../lib/cli/werift/dtls_flights.ts";

/** A DTLS client shaped like werift's, recording the flights it handles. */
function fakeClientClass(handled: number[][]) {
  return class FakeDtlsClient {
    onHandleHandshakes: unknown;
    constructor() {
      this.onHandleHandshakes = this.handleHandshakes;
    }
    // Mirrors werift: `case 2 /* server_hello_2 */` starts a new flight 5.
    handleHandshakes = (assembled: { msg_type: number }[]) => {
      handled.push(assembled.map((h) => h.msg_type));
      return Promise.resolve();
    };
    connect(): Promise<void> {
      return Promise.resolve();
    }
  };
}

Deno.test("withoutDuplicateFlights() hands a retransmitted server flight 4 to the client once", async () => {
  const handled: number[][] = [];
  const FakeDtlsClient = fakeClientClass(handled);
  withoutDuplicateFlights({ DtlsClient: FakeDtlsClient } as never);
  const client = new FakeDtlsClient();
  await client.connect();
  const handle = client.onHandleHandshakes as (a: { msg_type: number }[]) => Promise<void>;
  const flight = (...types: number[]) => types.map((msg_type) => ({ msg_type }));
  await handle(flight(2));
  await handle(flight(11, 12, 13, 14));
  await handle(flight(2)); // the browser sends flight 4 again
  await handle(flight(11, 12, 13, 14));
  await handle(flight(20)); // its Finished
  assert.deepEqual(handled, [[2], [11, 12, 13, 14], [20]]);
});

Deno.test({
  name: "withoutDuplicateFlights() applies to werift's DTLS client, once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const werift = await loadWerift();
    withoutDuplicateFlights(werift);
    const patched = werift.DtlsClient.prototype.connect;
    withoutDuplicateFlights(werift);
    assert.equal(werift.DtlsClient.prototype.connect, patched);
  },
});

Deno.test("withoutDuplicateFlights() fails loudly when werift's DTLS client no longer matches", () => {
  class Changed {
    connect() {}
  }
  assert.throws(
    () => withoutDuplicateFlights({ DtlsClient: Changed } as never),
    /no longer handles flight 4 as expected/,
  );
});
