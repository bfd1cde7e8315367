/**
 * The refusals signaling answers a client with, written once for every
 * implementation: the same request is refused with the same code and words
 * whichever one the server runs.
 *
 * @module
 */

import { ErrorCode } from "../protocol/messages.ts";
import { truncate } from "../runtime/safe_text.ts";
import type { Refused } from "./service.ts";

const REQUEST_REFUSALS = {
  [ErrorCode.SelfPair]: "you cannot pair with yourself",
  [ErrorCode.AlreadyPaired]: "you already have a partner; unpair first",
  [ErrorCode.PeerBusy]: "that client already has a partner",
} as const;

/** The pairing rules that can refuse a `pair_request` to a known client. */
export type RequestRuleCode = keyof typeof REQUEST_REFUSALS;

/**
 * A `pair_request` refused by the pairing rules.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode } from "../protocol/messages.ts";
 * import { requestRefused } from "./refusals.ts";
 *
 * assert.equal(requestRefused(ErrorCode.SelfPair).reason, "you cannot pair with yourself");
 * ```
 */
export function requestRefused(code: RequestRuleCode): Refused {
  return { code, reason: REQUEST_REFUSALS[code] };
}

/** A `pair_request` to an id no client has (or none the sender may reach). */
export function unknownPeer(target: string): Refused {
  return { code: ErrorCode.UnknownPeer, reason: `no client has the id ${truncate(target, 40)}` };
}

/** A `pair_request` or `pair_accept` naming a client that is away and may come back. */
export function peerUnavailable(id: string): Refused {
  return {
    code: ErrorCode.PeerUnavailable,
    reason: `${truncate(id, 40)} lost its connection and may be back shortly; try again then`,
  };
}

/** A `pair_accept` or `pair_reject` with no request from `from` to answer. */
export function noPendingRequest(from: string): Refused {
  return {
    code: ErrorCode.NoPendingRequest,
    reason: `no pending request from ${truncate(from, 40)}`,
  };
}

/** A `pair_accept` from a client that has a partner already. */
export function acceptWhilePaired(): Refused {
  return { code: ErrorCode.AlreadyPaired, reason: "unpair before accepting another request" };
}

/** An `unpair` from a client with no partner. */
export function noPartner(): Refused {
  return { code: ErrorCode.NotPaired, reason: "you have no partner" };
}

/** A message for a partner (`offer`, `relay`, …) from a client with none. */
export function notPaired(type: string): Refused {
  return { code: ErrorCode.NotPaired, reason: `pair before sending "${type}"` };
}

/** Any request while the shared state is out of reach, with the code it would have failed with. */
export function sharedStateUnreachable(code: ErrorCode): Refused {
  return { code, reason: "the server cannot reach its shared registry; try again later" };
}

/** A `code_use` naming a nameplate nobody holds (used, expired, mistyped, or another key's). */
export function unknownNameplate(nameplate: string): Refused {
  return {
    code: ErrorCode.UnknownNameplate,
    reason: `no code is waiting with the number ${
      truncate(nameplate, 12)
    }: it was used, it expired, or it was mistyped`,
  };
}

/** A `code_use` of the sender's own nameplate. */
export function selfCode(): Refused {
  return { code: ErrorCode.SelfPair, reason: "that is your own code: give it to the other side" };
}

/** A `code_claim` or `code_use` over the limit of the sender's address or key. */
export function tooManyCodes(): Refused {
  return {
    code: ErrorCode.TooManyCodes,
    reason: "too many codes from your address or key; try again in a minute",
  };
}

/** A `meet` whose rendezvous is not 64 hex digits. */
export function badRendezvous(): Refused {
  return { code: ErrorCode.InvalidMessage, reason: "a rendezvous is 64 lowercase hex digits" };
}
