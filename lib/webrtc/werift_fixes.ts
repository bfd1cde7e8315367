/**
 * Fixes to werift 0.25.2 that its options cannot reach. Each one checks that
 * the code it changes still looks as expected and throws otherwise, so an
 * upgrade of the library cannot silently undo it.
 *
 * @module
 */

import type { Werift } from "../deps.ts";

// Marks a patched function, so that each fix is applied once.
const PATCHED = Symbol("switchboard werift fix");

/** Applies every fix below; idempotent. */
export function fixWerift(werift: Pick<Werift, "Connection" | "DtlsClient">): void {
  withoutDefaultStun(werift);
  withoutDuplicateFlights(werift);
}

/**
 * Stops werift from asking a public STUN server (Google's) for this host's
 * address when the configuration names none: a peer given no STUN server
 * must contact no one but its partner, and on a closed network that lookup
 * costs about 5 s per connection. Idempotent.
 *
 * @throws {Error} When werift's ICE class no longer looks as expected, so
 * an upgrade cannot silently bring the lookup back.
 */
export function withoutDefaultStun(werift: Pick<Werift, "Connection">): void {
  const proto = werift.Connection.prototype as unknown as Record<string, unknown>;
  const original = proto.applyStunTurnServersFromOptions;
  if (typeof original !== "function") {
    throw new Error("werift's Connection.applyStunTurnServersFromOptions is missing");
  }
  if (PATCHED in original) return;
  if (!/DEFAULT_STUN_SERVER/.test(String(original))) {
    throw new Error("werift's Connection no longer defaults to a STUN server as expected");
  }
  const patched = function (this: { options: { stunServer?: unknown }; stunServer?: unknown }) {
    original.call(this);
    if (this.options.stunServer === undefined) this.stunServer = undefined;
  };
  Object.defineProperty(patched, PATCHED, { value: true });
  proto.applyStunTurnServersFromOptions = patched;
}

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
 * loses nothing. Idempotent.
 *
 * @throws {Error} When werift's DTLS client no longer looks as expected.
 */
export function withoutDuplicateFlights(werift: Pick<Werift, "DtlsClient">): void {
  const proto = werift.DtlsClient.prototype as unknown as Record<string, unknown>;
  const connect = proto.connect;
  if (typeof connect !== "function") throw new Error("werift's DtlsClient.connect is missing");
  if (PATCHED in connect) return;
  const source = String(werift.DtlsClient);
  if (
    !/onHandleHandshakes = this\.handleHandshakes/.test(source) || !/server_hello_2/.test(source)
  ) {
    throw new Error("werift's DtlsClient no longer handles flight 4 as expected");
  }
  type Handshake = { msg_type: number };
  type Client = { onHandleHandshakes: (assembled: Handshake[]) => Promise<void> };
  const patched = function (this: Client, ...args: unknown[]) {
    const handle = this.onHandleHandshakes;
    const seen = new Set<number>();
    this.onHandleHandshakes = (assembled) => {
      const fresh = assembled.filter((h) => !(FLIGHT_4.has(h.msg_type) && seen.has(h.msg_type)));
      for (const h of fresh) if (FLIGHT_4.has(h.msg_type)) seen.add(h.msg_type);
      return fresh.length > 0 ? handle(fresh) : Promise.resolve();
    };
    return connect.apply(this, args);
  };
  Object.defineProperty(patched, PATCHED, { value: true });
  proto.connect = patched;
}
