// This module is browser compatible.
// @ts-check
/**
 * Pairing by code for one client, written once for the command-line peer
 * and the page: asking the server for a nameplate (the password is made
 * here and never sent), typing a code, and, once the server has paired the
 * two, proving the password to each other (`code_exchange.js`) before
 * either makes a peer connection. What happens is reported as events; the
 * terminal prints them and the page shows them.
 *
 * @module
 */

import { MessageType } from "./protocol.js";
import { CodeExchange, CodeFailure, failureMessage, partnerFailure } from "./code_exchange.js";
import { formatCode, newPassword } from "./pairing_code.js";
import { identityMac, rememberingKeys } from "./device_binding.js";

/**
 * @typedef {import("./pairing_code.js").PairingCode} PairingCode
 * @typedef {import("./code_exchange.js").CodeFailureValue} CodeFailureValue
 * @typedef {import("./code_exchange.js").FingerprintBinding} FingerprintBinding
 * @typedef {{ type: string, peer: string, initiator: boolean, by_code?: boolean }} PairedLike
 */

/**
 * What a code session reports.
 *
 * @typedef {{ kind: "code", code: string, expiresS: number }
 *   | { kind: "using", code: string }
 *   | { kind: "expired", code: string }
 *   | { kind: "checking", peer: string }
 *   | { kind: "matched", peer: string }
 *   | { kind: "failed", failure: CodeFailureValue, fromPartner: boolean, code: string }
 *   | { kind: "stranger", peer: string }
 *   | { kind: "identity", peer: string }} CodeEvent
 *   `code`: the code this side shows; `using`: a typed code went to the
 *   server; `expired`: the shown code expired unused; `checking` and
 *   `matched`: the exchange with the partner began and succeeded;
 *   `failed`: it did not, or the partner refused a description (the pairing
 *   is being ended); `stranger`: the server paired this side by a code it
 *   neither shows nor typed, so it leaves; `identity`: the partner sent its
 *   device key, to be remembered (see {@linkcode CodeSession.rememberable}).
 */

/**
 * @typedef {object} CodeSessionOptions
 * @property {(message: { type: string, [field: string]: unknown }) => boolean} send
 *   Sends a message to the server; `false` when not connected.
 * @property {() => void} leave Ends the pairing, as the user's leave does.
 * @property {(paired: PairedLike, binding: FingerprintBinding) => void} proven
 *   The code was proven by both sides: connect, with descriptions bound to
 *   it. `paired` is the server's, with `initiator` turned round: here the
 *   initiator makes the offer, and that is the side that did not type the code.
 * @property {(event: CodeEvent) => void} onEvent Told what happens.
 * @property {number} [exchangeTimeoutMs] How long the exchange may take once
 *   paired; {@linkcode EXCHANGE_TIMEOUT_MS} by default.
 */

/** How long the initiator waits for the partner to end a failed pairing before it does. */
export const FAILED_UNPAIR_MS = 5000;

/**
 * How long the exchange may take once paired: a partner that goes quiet
 * halfway must not hold this side paired, "checking", for ever.
 */
export const EXCHANGE_TIMEOUT_MS = 30_000;

/**
 * Claims, uses and checks codes for one client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CodeSession } from "./code_session.js";
 * const sent: string[] = [];
 * const codes = new CodeSession({
 *   send: (message) => sent.push(message.type) > 0,
 *   leave: () => {},
 *   proven: () => {},
 *   onEvent: () => {},
 * });
 * codes.claim();
 * assert.deepEqual(sent, ["code_claim"]);
 * assert.equal(codes.take({ type: "nameplate", nameplate: "7", expires_s: 300 }), true);
 * assert.match(codes.shown ?? "", /^7-[a-z]+-[a-z]+$/);
 * ```
 */
export class CodeSession {
  /** @type {CodeSessionOptions} */
  #options;
  /** @type {string | undefined} The password of the code asked for, until its nameplate comes. */
  #claiming;
  /** @type {PairingCode | undefined} The code this side shows. */
  #held;
  /** @type {PairingCode | undefined} The code this side typed, until its pairing comes. */
  #using;
  /** @type {CodeExchange | undefined} */
  #exchange;
  /** @type {PairedLike | undefined} */
  #paired;
  #code = "";
  #proven = false;
  /** @type {{ macKey: Uint8Array, linkSecret: Uint8Array } | undefined} */
  #remembering;
  /** @type {string | undefined} The partner's device key, MAC checked. */
  #partnerKey;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #unpairTimer;
  /** @type {{ code: PairingCode, initiator: boolean, exchange: CodeExchange } | undefined} */
  #prepared;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #exchangeTimer;

  /** @param {CodeSessionOptions} options */
  constructor(options) {
    this.#options = options;
  }

  /** @returns {string | undefined} The code this side shows, while it is valid. */
  get shown() {
    return this.#held ? formatCode(this.#held) : undefined;
  }

  /**
   * Asks the server for a nameplate; the password is made here and never
   * sent. A code shown before is replaced: the server releases its nameplate.
   */
  claim() {
    const password = newPassword();
    if (this.#options.send({ type: MessageType.CodeClaim })) this.#claiming = password;
  }

  /** Gives up the code this side shows, if any. */
  release() {
    this.#claiming = undefined;
    if (this.#held === undefined) return;
    this.#held = undefined;
    this.#options.send({ type: MessageType.CodeRelease });
  }

  /**
   * Asks the server to pair with the holder of a typed code's nameplate.
   *
   * @param {PairingCode} code
   */
  use(code) {
    if (this.#options.send({ type: MessageType.CodeUse, nameplate: code.nameplate })) {
      this.#using = code;
      this.#options.onEvent({ kind: "using", code: formatCode(code) });
      this.#prepare(code, true);
    }
  }

  /**
   * Takes the server's messages of pairing by code: `nameplate`,
   * `nameplate_expired` and `pake`.
   *
   * @param {{ type: string } | { type: string, [field: string]: unknown }} envelope A checked
   *   server message.
   * @returns {boolean} Whether it was one of those.
   */
  take(envelope) {
    const message = /** @type {{ type: string, [field: string]: unknown }} */ (envelope);
    switch (message.type) {
      case MessageType.Nameplate: {
        const password = this.#claiming;
        if (password === undefined) return true;
        this.#claiming = undefined;
        this.#held = { nameplate: String(message.nameplate), password };
        this.#prepare(this.#held, false);
        this.#options.onEvent({
          kind: "code",
          code: formatCode(this.#held),
          expiresS: Number(message.expires_s),
        });
        return true;
      }
      case MessageType.NameplateExpired: {
        const held = this.#held;
        if (held !== undefined && held.nameplate === message.nameplate) {
          this.#held = undefined;
          this.#options.onEvent({ kind: "expired", code: formatCode(held) });
        }
        return true;
      }
      case MessageType.Pake:
        this.#pake(message);
        return true;
      default:
        return false;
    }
  }

  /**
   * A pairing began. Made by a code, it is checked here first (connect only
   * once `proven` is called); made by id, it ends whatever code this side
   * showed or typed.
   *
   * @param {PairedLike} paired
   */
  paired(paired) {
    this.ended();
    const code = paired.initiator ? this.#using : this.#held;
    this.#using = undefined;
    this.#held = undefined;
    this.#claiming = undefined;
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (paired.by_code !== true) return;
    if (code === undefined) {
      this.#options.onEvent({ kind: "stranger", peer: paired.peer });
      this.#options.leave();
      return;
    }
    this.#paired = paired;
    this.#code = formatCode(code);
    this.#options.onEvent({ kind: "checking", peer: paired.peer });
    const exchange = this.#exchange =
      prepared?.code === code && prepared.initiator === paired.initiator
        ? prepared.exchange
        : this.#newExchange(code, paired.initiator);
    this.#exchangeTimer = setTimeout(() => {
      if (this.#exchange !== exchange || exchange.finished) return;
      this.#exchange = undefined;
      this.#options.onEvent({
        kind: "failed",
        failure: CodeFailure.Timeout,
        fromPartner: false,
        code: this.#code,
      });
      this.#unpair();
    }, this.#options.exchangeTimeoutMs ?? EXCHANGE_TIMEOUT_MS);
    exchange.start();
  }

  /**
   * An exchange for `code`, in the role this side will have: made as soon as
   * the code is known (its curve arithmetic then takes no time once paired).
   *
   * @param {PairingCode} code
   * @param {boolean} initiator
   * @returns {CodeExchange}
   */
  #newExchange(code, initiator) {
    const exchange = new CodeExchange({
      initiator,
      code,
      send: (pake) => {
        if (this.#exchange === exchange) this.#options.send(pake);
      },
      done: (outcome) => {
        const paired = this.#paired;
        if (this.#exchange !== exchange || paired === undefined) return;
        clearTimeout(this.#exchangeTimer);
        if (outcome.ok) {
          this.#proven = true;
          this.#remembering = rememberingKeys(outcome.ke);
          this.#options.onEvent({ kind: "matched", peer: paired.peer });
          // The side that did not type the code makes the offer. Its last message went a
          // round trip ago, so the offer does not wait behind it for an acknowledgement
          // (a browser's or Deno's WebSocket holds a second small frame until then).
          this.#options.proven({ ...paired, initiator: !paired.initiator }, outcome.binding);
        } else {
          this.#failed(outcome.failure, outcome.fromPartner);
        }
      },
    });
    return exchange;
  }

  /**
   * @param {PairingCode} code
   * @param {boolean} initiator
   */
  #prepare(code, initiator) {
    this.#prepared = { code, initiator, exchange: this.#newExchange(code, initiator) };
  }

  /**
   * The link refused a description whose proof did not match: tell the
   * partner, report it, and end the pairing.
   */
  tampered() {
    // Only a proven code starts a link whose descriptions can fail their proof.
    if (this.#paired === undefined || !this.#proven) return;
    this.#options.send(failureMessage(CodeFailure.Tampered));
    this.#options.onEvent({
      kind: "failed",
      failure: CodeFailure.Tampered,
      fromPartner: false,
      code: this.#code,
    });
    this.#unpair();
  }

  /**
   * Sends the partner this device's public key, MACed under the proven
   * code's key, so that it may remember this device; `false` unless a code
   * is proven with the partner.
   *
   * @param {string} publicHex
   * @returns {boolean}
   */
  sendIdentity(publicHex) {
    const keys = this.#remembering;
    const paired = this.#paired;
    if (!this.#proven || keys === undefined || paired === undefined) return false;
    return this.#options.send({
      type: MessageType.Pake,
      identity: publicHex,
      confirm: identityMac(keys.macKey, paired.initiator, publicHex),
    });
  }

  /**
   * What remembering the partner takes: its device key and the link secret,
   * once it has sent its key; `undefined` before.
   *
   * @returns {{ partnerKey: string, linkSecret: Uint8Array } | undefined}
   */
  rememberable() {
    const keys = this.#remembering;
    if (keys === undefined || this.#partnerKey === undefined) return undefined;
    return { partnerKey: this.#partnerKey, linkSecret: keys.linkSecret };
  }

  /** A typed code was refused by the server (spent, mistyped, rate limit): nothing is pending. */
  refused() {
    this.#using = undefined;
  }

  /** The pairing ended (or a new one began): forget its exchange. */
  ended() {
    clearTimeout(this.#unpairTimer);
    this.#unpairTimer = undefined;
    clearTimeout(this.#exchangeTimer);
    this.#exchangeTimer = undefined;
    this.#exchange = undefined;
    this.#paired = undefined;
    this.#proven = false;
    this.#remembering = undefined;
    this.#partnerKey = undefined;
  }

  /** @param {{ [field: string]: unknown }} message */
  #pake(message) {
    if (this.#paired === undefined || message.from !== this.#paired.peer) return;
    // After the code matched: the partner's device key, for remembering it.
    if (typeof message.identity === "string" && this.#proven) {
      this.#takeIdentity(message.identity, message.confirm);
      return;
    }
    const failure = partnerFailure(message);
    // After the code matched, a failure is the partner refusing a description.
    if (failure !== undefined && this.#proven) {
      this.#proven = false;
      this.#options.onEvent({ kind: "failed", failure, fromPartner: true, code: this.#code });
      this.#unpair();
      return;
    }
    this.#exchange?.take(message);
  }

  /**
   * @param {string} identity
   * @param {unknown} confirm
   */
  #takeIdentity(identity, confirm) {
    const keys = this.#remembering;
    const paired = this.#paired;
    if (keys === undefined || paired === undefined || !/^04[0-9a-f]{128}$/.test(identity)) return;
    // A key whose MAC fails did not come from the partner: it is never remembered.
    const expected = identityMac(keys.macKey, !paired.initiator, identity);
    if (typeof confirm !== "string" || !sameText(confirm, expected)) return;
    this.#partnerKey = identity;
    this.#options.onEvent({ kind: "identity", peer: paired.peer });
  }

  /**
   * @param {CodeFailureValue} failure
   * @param {boolean} fromPartner
   */
  #failed(failure, fromPartner) {
    this.#options.onEvent({ kind: "failed", failure, fromPartner, code: this.#code });
    // The other side ends the pairing once it has judged the last message;
    // the initiator does so itself only if the partner does not within a while.
    if (this.#paired?.initiator && failure === CodeFailure.WrongCode && !fromPartner) {
      this.#unpairTimer = setTimeout(() => this.#unpair(), FAILED_UNPAIR_MS);
      return;
    }
    this.#unpair();
  }

  #unpair() {
    if (this.#paired === undefined) return;
    this.ended();
    this.#options.leave();
  }
}

/**
 * Whether two MACs in hex are equal, in time that does not depend on where
 * they differ.
 *
 * @param {string} a
 * @param {string} b
 */
function sameText(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
