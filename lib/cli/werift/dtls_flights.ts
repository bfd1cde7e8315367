/**
 * werift's DTLS client handles a retransmitted server flight once.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import { applyPatches, markPatched, methodPatch, prototypeOf, WeriftMismatch } from "./patch.ts";

/** The part of werift {@link duplicateFlightsPatch} reads. */
type Module = Pick<Werift, "DtlsClient">;

// DTLS handshake messages of the server's flight 4.
const FLIGHT_4 = new Set([2, 11, 12, 13, 14]); // ServerHello … ServerHelloDone

/**
 * Makes werift's DTLS client ignore a retransmitted server flight 4. A
 * browser that has not seen the client's flight 5 within its retransmission
 * timer (about 50 ms in Chromium) sends its ServerHello flight again; werift
 * handled each copy as new and sent a second flight 5 with fresh keys, so
 * the two sides derived different keys and the handshake never finished
 * (about half of all Chromium → werift connections on a loaded machine).
 * werift's own flight 5 is retransmitted on its timer, so dropping the copy
 * loses nothing.
 */
export const duplicateFlightsPatch = methodPatch<Module>({
  replaces: [["DtlsClient", "connect"]],
  check(werift) {
    if (typeof prototypeOf(werift, "DtlsClient").connect !== "function") {
      throw new WeriftMismatch("DtlsClient.connect", "is missing");
    }
    const source = String(werift.DtlsClient);
    if (
      !/onHandleHandshakes = this\.handleHandshakes/.test(source) ||
      !/server_hello_2/.test(source)
    ) {
      throw new WeriftMismatch("DtlsClient", "no longer handles flight 4 as expected");
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "DtlsClient");
    const connect = proto.connect as (this: Client, ...args: unknown[]) => unknown;
    type Handshake = { msg_type: number };
    type Client = { onHandleHandshakes: (assembled: Handshake[]) => Promise<void> };
    proto.connect = markPatched(function (this: Client, ...args: unknown[]) {
      const handle = this.onHandleHandshakes;
      const seen = new Set<number>();
      this.onHandleHandshakes = (assembled) => {
        const fresh = assembled.filter((h) => !(FLIGHT_4.has(h.msg_type) && seen.has(h.msg_type)));
        for (const h of fresh) if (FLIGHT_4.has(h.msg_type)) seen.add(h.msg_type);
        return fresh.length > 0 ? handle(fresh) : Promise.resolve();
      };
      return connect.apply(this, args);
    });
  },
});

/**
 * Applies {@link duplicateFlightsPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's DTLS client no longer looks as expected.
 */
export function withoutDuplicateFlights(werift: Module): void {
  applyPatches(werift, [duplicateFlightsPatch]);
}
