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
 *   | { kind: "stranger", peer: string }} CodeEvent
 *   `code`: the code this side shows; `using`: a typed code went to the
 *   server; `expired`: the shown code expired unused; `checking` and
 *   `matched`: the exchange with the partner began and succeeded;
 *   `failed`: it did not, or the partner refused a description (the pairing
 *   is being ended); `stranger`: the server paired this side by a code it
 *   neither shows nor typed, so it leaves.
 */

/**
 * @typedef {object} CodeSessionOptions
 * @property {(message: { type: string, [field: string]: unknown }) => boolean} send
 *   Sends a message to the server; `false` when not connected.
 * @property {() => void} leave Ends the pairing, as the user's leave does.
 * @property {(paired: PairedLike, binding: FingerprintBinding) => void} proven
 *   The code was proven by both sides: connect, with descriptions bound to it.
 * @property {(event: CodeEvent) => void} onEvent Told what happens.
 */

/** How long the initiator waits for the partner to end a failed pairing before it does. */
export const FAILED_UNPAIR_MS = 5000;

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
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #unpairTimer;

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
    if (paired.by_code !== true) return;
    if (code === undefined) {
      this.#options.onEvent({ kind: "stranger", peer: paired.peer });
      this.#options.leave();
      return;
    }
    this.#paired = paired;
    this.#code = formatCode(code);
    this.#options.onEvent({ kind: "checking", peer: paired.peer });
    const exchange = this.#exchange = new CodeExchange({
      initiator: paired.initiator,
      code,
      send: (pake) => {
        if (this.#exchange === exchange) this.#options.send(pake);
      },
      done: (outcome) => {
        if (this.#exchange !== exchange) return;
        if (outcome.ok) {
          this.#proven = true;
          this.#options.onEvent({ kind: "matched", peer: paired.peer });
          this.#options.proven(paired, outcome.binding);
        } else {
          this.#failed(outcome.failure, outcome.fromPartner);
        }
      },
    });
    exchange.start();
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

  /** A typed code was refused by the server (spent, mistyped, rate limit): nothing is pending. */
  refused() {
    this.#using = undefined;
  }

  /** The pairing ended (or a new one began): forget its exchange. */
  ended() {
    clearTimeout(this.#unpairTimer);
    this.#unpairTimer = undefined;
    this.#exchange = undefined;
    this.#paired = undefined;
    this.#proven = false;
  }

  /** @param {{ [field: string]: unknown }} message */
  #pake(message) {
    if (this.#paired === undefined || message.from !== this.#paired.peer) return;
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
