/**
 * No public STUN server unless one is configured: werift asks Google's when
 * the configuration names none.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import { applyPatches, markPatched, methodPatch, prototypeOf, WeriftMismatch } from "./patch.ts";

/** The part of werift {@link defaultStunPatch} reads. */
type Module = Pick<Werift, "Connection">;

/**
 * Keeps werift from asking a public STUN server for this host's address when
 * the configuration names none: a peer given no STUN server must contact no
 * one but its partner, and on a closed network that lookup costs about 5 s
 * per connection.
 */
export const defaultStunPatch = methodPatch<Module>({
  replaces: [["Connection", "applyStunTurnServersFromOptions"]],
  check(werift) {
    const original = prototypeOf(werift, "Connection").applyStunTurnServersFromOptions;
    if (typeof original !== "function") {
      throw new WeriftMismatch("Connection.applyStunTurnServersFromOptions", "is missing");
    }
    if (!/DEFAULT_STUN_SERVER/.test(String(original))) {
      throw new WeriftMismatch("Connection", "no longer defaults to a STUN server as expected");
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "Connection");
    const original = proto.applyStunTurnServersFromOptions as (this: unknown) => void;
    proto.applyStunTurnServersFromOptions = markPatched(
      function (this: { options: { stunServer?: unknown }; stunServer?: unknown }) {
        original.call(this);
        if (this.options.stunServer === undefined) this.stunServer = undefined;
      },
    );
  },
});

/**
 * Applies {@link defaultStunPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's ICE class no longer looks as
 *   expected, so an upgrade cannot silently bring the lookup back.
 */
export function withoutDefaultStun(werift: Module): void {
  applyPatches(werift, [defaultStunPatch]);
}
