// This module is browser compatible.
// @ts-check
/**
 * What two partners paired by a code say to each other before they connect,
 * written once for the command-line peer and the page: they prove to each
 * other that they know the code's password (SPAKE2, `spake2.js`), and then
 * sign the DTLS fingerprints of their descriptions with the key it gives, so
 * a server that swaps a description for its own is caught.
 *
 * The messages (`pake`, relayed by the server like an offer):
 *
 * 1. the initiator (who typed the code) → `{share: pA}`;
 * 2. the other side → `{share: pB, confirm: cB}`;
 * 3. the initiator checks `cB` and → `{confirm: cA}`, right or wrong, so the
 *    other side finds out too; the other side checks `cA`.
 *
 * A wrong `confirm` means the two typed different passwords (or someone in
 * between guessed, and was wrong): both sides stop. Then every `offer` and
 * `answer` carries `proof`, an HMAC of its fingerprints under a key derived
 * from the exchange's; a description whose proof does not match is refused.
 * A side that refuses says so with `{failure}`, which only informs: anyone
 * in the path could forge it, and what it causes (stopping) they could cause
 * anyway.
 *
 * @module
 */

import { hkdf, hmac, sha256 } from "./deps.js";
import { MessageType } from "./protocol.js";
import { passwordScalar, spake2Start } from "./spake2.js";
import { sdpFingerprints } from "./verification.js";
import { fromHex, toHex } from "./hex.js";

/** Why an exchange ended without a key, as `failure` names it on the wire. */
export const CodeFailure = /** @type {const} */ ({
  /** The two sides' passwords differ: someone mistyped, or guessed. */
  WrongCode: "wrong_code",
  /** A description's fingerprints do not match its proof: changed on the way. */
  Tampered: "tampered",
  /** The partner's message was not a valid step of the exchange. */
  Malformed: "malformed",
  /** The exchange did not finish in time: the partner went quiet. */
  Timeout: "timeout",
});

/** @typedef {typeof CodeFailure[keyof typeof CodeFailure]} CodeFailureValue */

/**
 * A `pake` message, either direction.
 *
 * @typedef {{ type: "pake", share?: string, confirm?: string, failure?: string }} PakeMessage
 */

/**
 * The outcome of the exchange.
 *
 * @typedef {{ ok: true, binding: CodeBinding, ke: Uint8Array }
 *   | { ok: false, failure: CodeFailureValue, fromPartner: boolean }} CodeOutcome
 */

/**
 * Signs this side's descriptions and checks the partner's: with the key of a
 * finished exchange, or (`device_binding.js`) with remembered device keys.
 *
 * @typedef {object} FingerprintBinding
 * @property {(sdp: string) => string | Promise<string>} proof The `proof` of
 *   one of this side's descriptions.
 * @property {(sdp: string, proof: unknown) => true | string | Promise<true | string>} check
 *   `true` when a description from the partner carries its fingerprints'
 *   proof; else why it is refused, in words.
 */

/**
 * The {@linkcode FingerprintBinding} of a finished exchange, which answers at once.
 *
 * @typedef {{ proof: (sdp: string) => string, check: (sdp: string, proof: unknown) => true | string }} CodeBinding
 */

/** Why a description whose proof does not match is refused. */
export const TAMPERED = "the connection details were changed on the way";

// Fixed identities and associated data bind the exchange to this protocol and role.
const ID_INITIATOR = new TextEncoder().encode("switchboard code initiator");
const ID_RESPONDER = new TextEncoder().encode("switchboard code responder");
const AAD = new TextEncoder().encode("switchboard pairing by code 1");
const SHARE_HEX = /^[0-9a-f]{130}$/;
const MAC_HEX = /^[0-9a-f]{64}$/;

/**
 * One side's run of the exchange. Feed it the partner's `pake` messages;
 * it sends its own through `send` and reports once through `done`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CodeExchange } from "./code_exchange.js";
 * const outcomes: boolean[] = [];
 * let a: CodeExchange, b: CodeExchange;
 * a = new CodeExchange({
 *   initiator: true,
 *   code: { nameplate: "7", password: "tidy-orbit" },
 *   send: (message) => b.take(message),
 *   done: (outcome) => outcomes.push(outcome.ok),
 * });
 * b = new CodeExchange({
 *   initiator: false,
 *   code: { nameplate: "7", password: "tidy-orbit" },
 *   send: (message) => a.take(message),
 *   done: (outcome) => outcomes.push(outcome.ok),
 * });
 * a.start();
 * assert.deepEqual(outcomes, [true, true]);
 * ```
 */
export class CodeExchange {
  /** @type {{ initiator: boolean, send: (message: PakeMessage) => void, done: (outcome: CodeOutcome) => void }} */
  #options;
  /** @type {ReturnType<typeof spake2Start> | undefined} */
  #state;
  /** @type {import("./spake2.js").Spake2Keys | undefined} */
  #keys;
  #finished = false;

  /**
   * @param {object} options
   * @param {boolean} options.initiator Whether this side typed the code (it sends first, and offers).
   * @param {import("./pairing_code.js").PairingCode} options.code The code both sides should hold.
   * @param {(message: PakeMessage) => void} options.send Sends a `pake` message to the partner.
   * @param {(outcome: CodeOutcome) => void} options.done Told once, when the exchange ends.
   */
  constructor({ initiator, code, send, done }) {
    this.#options = { initiator, send, done };
    const w = passwordScalar(
      new TextEncoder().encode(code.password),
      new TextEncoder().encode(`switchboard nameplate ${code.nameplate}`),
    );
    this.#state = spake2Start(initiator ? "A" : "B", w);
  }

  /** Whether the exchange has ended, either way. */
  get finished() {
    return this.#finished;
  }

  /** Sends the first message; only the initiator has one. */
  start() {
    if (this.#options.initiator && this.#state && !this.#finished) {
      this.#options.send({ type: MessageType.Pake, share: toHex(this.#state.share) });
    }
  }

  /**
   * Takes one `pake` message from the partner.
   *
   * @param {{ share?: unknown, confirm?: unknown, failure?: unknown }} message
   */
  take(message) {
    if (this.#finished) return;
    const failure = partnerFailure(message);
    if (failure !== undefined) {
      this.#end({ ok: false, failure, fromPartner: true });
      return;
    }
    const initiator = this.#options.initiator;
    const share = typeof message.share === "string" ? message.share : undefined;
    const confirm = typeof message.confirm === "string" ? message.confirm : undefined;
    if (this.#keys === undefined) {
      // The first step either side takes: the partner's share (with its confirmation, for the initiator).
      if (share === undefined || !SHARE_HEX.test(share) || (initiator && confirm === undefined)) {
        return this.#refuse(CodeFailure.Malformed);
      }
      try {
        this.#keys = this.#state?.finish(fromHex(share), {
          idA: ID_INITIATOR,
          idB: ID_RESPONDER,
          aad: AAD,
        });
      } catch {
        return this.#refuse(CodeFailure.Malformed);
      }
      const keys = this.#keys;
      if (keys === undefined) return this.#refuse(CodeFailure.Malformed);
      if (!initiator) {
        this.#options.send({
          type: MessageType.Pake,
          share: toHex(this.#state?.share ?? new Uint8Array()),
          confirm: toHex(keys.confirmation),
        });
        return;
      }
      // The initiator answers with its own confirmation even when the partner's is wrong:
      // that is how the partner learns the passwords differ.
      this.#options.send({ type: MessageType.Pake, confirm: toHex(keys.confirmation) });
      return this.#judge(confirm ?? "");
    }
    if (initiator || confirm === undefined || share !== undefined) {
      return this.#refuse(CodeFailure.Malformed);
    }
    this.#judge(confirm);
  }

  /** @param {string} confirm */
  #judge(confirm) {
    const keys = this.#keys;
    if (keys === undefined) return;
    if (!MAC_HEX.test(confirm) || !keys.verify(fromHex(confirm))) {
      // No failure message: a wrong confirmation tells the partner as much, once it has ours.
      this.#end({ ok: false, failure: CodeFailure.WrongCode, fromPartner: false });
      return;
    }
    this.#end({
      ok: true,
      binding: fingerprintBinding(keys.ke, this.#options.initiator),
      ke: keys.ke,
    });
  }

  /** @param {CodeFailureValue} failure */
  #refuse(failure) {
    if (this.#finished) return;
    this.#options.send(failureMessage(failure));
    this.#end({ ok: false, failure, fromPartner: false });
  }

  /** @param {CodeOutcome} outcome */
  #end(outcome) {
    if (this.#finished) return;
    this.#finished = true;
    this.#state = undefined;
    this.#options.done(outcome);
  }
}

/**
 * Runs one whole exchange between two sides in this process and throws the
 * keys away: the curve's tables and the JIT are cold in a fresh process, and
 * the first real exchange would pay for them (about 80 ms here, against 10
 * ms warm). A peer calls this while it waits for a partner anyway.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rehearseExchange } from "./code_exchange.js";
 * assert.equal(rehearseExchange(), true);
 * ```
 *
 * @returns {boolean} Whether the two sides agreed, as they must.
 */
export function rehearseExchange() {
  const code = { nameplate: "1", password: "rehearsal" };
  /** @type {boolean[]} */
  const outcomes = [];
  /** @type {{ first?: CodeExchange, second?: CodeExchange }} */
  const sides = {};
  sides.first = new CodeExchange({
    initiator: true,
    code,
    send: (message) => sides.second?.take(message),
    done: (outcome) => outcomes.push(outcome.ok),
  });
  sides.second = new CodeExchange({
    initiator: false,
    code,
    send: (message) => sides.first?.take(message),
    done: (outcome) => outcomes.push(outcome.ok),
  });
  sides.first.start();
  return outcomes.length === 2 && outcomes.every(Boolean);
}

/**
 * The failure a partner's `pake` message reports, if it reports one; an
 * unknown word counts as {@linkcode CodeFailure.Malformed}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partnerFailure } from "./code_exchange.js";
 * assert.equal(partnerFailure({ failure: "tampered" }), "tampered");
 * assert.equal(partnerFailure({ failure: "??" }), "malformed");
 * assert.equal(partnerFailure({}), undefined);
 * ```
 *
 * @param {{ failure?: unknown }} message
 * @returns {CodeFailureValue | undefined}
 */
export function partnerFailure(message) {
  if (message.failure === undefined) return undefined;
  return Object.values(CodeFailure).find((known) => known === message.failure) ??
    CodeFailure.Malformed;
}

/**
 * A `pake` message that tells the partner why this side stops.
 *
 * @param {CodeFailureValue} failure
 * @returns {PakeMessage}
 */
export function failureMessage(failure) {
  return { type: MessageType.Pake, failure };
}

/**
 * The binding of descriptions to a finished exchange's key: a description's
 * proof is an HMAC-SHA-256, under a key derived from `ke` by HKDF, of the
 * author's role and its `a=fingerprint` values. Exported for tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fingerprintBinding, TAMPERED } from "./code_exchange.js";
 * const ke = new Uint8Array(16).fill(7);
 * const mine = fingerprintBinding(ke, true);
 * const theirs = fingerprintBinding(ke, false);
 * const sdp = "a=fingerprint:sha-256 AB:CD\r\n";
 * assert.equal(theirs.check(sdp, mine.proof(sdp)), true);
 * assert.equal(theirs.check("a=fingerprint:sha-256 AB:CE\r\n", mine.proof(sdp)), TAMPERED);
 * assert.equal(mine.check(sdp, mine.proof(sdp)), TAMPERED); // a proof is for one role
 * ```
 *
 * @param {Uint8Array} ke The exchange's shared key.
 * @param {boolean} initiator Whether this side is the initiator.
 * @returns {CodeBinding}
 */
export function fingerprintBinding(ke, initiator) {
  const key = hkdf(sha256, ke, undefined, new TextEncoder().encode("switchboard fingerprints"), 32);
  /**
   * @param {string} sdp
   * @param {boolean} byInitiator
   */
  const mac = (sdp, byInitiator) => {
    const fingerprints = sdpFingerprints(sdp);
    if (fingerprints.length === 0) return undefined;
    const role = byInitiator ? "initiator" : "responder";
    return hmac(sha256, key, new TextEncoder().encode(`${role}\n${fingerprints.join(",")}`));
  };
  return {
    proof: (sdp) => toHex(mac(sdp, initiator) ?? new Uint8Array()),
    check: (sdp, proof) => {
      const expected = mac(sdp, !initiator);
      if (expected === undefined || typeof proof !== "string" || !MAC_HEX.test(proof)) {
        return TAMPERED;
      }
      return sameBytes(expected, fromHex(proof)) || TAMPERED;
    },
  };
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}
