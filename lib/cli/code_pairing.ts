/**
 * Pairing by code for the command-line peer: `code` (or `--code`) asks the
 * server for a nameplate and shows the code, its link and a QR code;
 * `pair 7-tidy-orbit` (or the code as the last argument) uses one. Once the
 * server has paired the two, they prove the password to each other
 * (`code_exchange.js`) before either makes a peer connection, and the
 * connection's descriptions are then bound to the key that gives.
 *
 * @module
 */

import { type ClientMessage, MessageType, type ServerMessage } from "../protocol/messages.ts";
import {
  CodeExchange,
  CodeFailure,
  type CodeFailureValue,
  failureMessage,
  type FingerprintBinding,
  partnerFailure,
} from "../shared/code_exchange.js";
import { codeLink, formatCode, newPassword, type PairingCode } from "../shared/pairing_code.js";
import { qrTerminal } from "../shared/qr_code.js";
import { printable } from "../runtime/safe_text.ts";

type Paired = Extract<ServerMessage, { type: typeof MessageType.Paired }>;
type Pake = Extract<ServerMessage, { type: typeof MessageType.Pake }>;

/** What {@linkcode CodePairing} needs from the client around it. */
export interface CodePairingOptions {
  /** The server's URL, for the page link. */
  serverUrl: string;
  /** Prints one line (or several joined by `\n`) on stdout. */
  print(line: string): void;
  /** Sends a message to the server; `false` when not connected. */
  send(message: ClientMessage): boolean;
  /** Ends the pairing, as `leave` does, without a line of its own (this module says why). */
  leave(): void;
  /** The code was proven by both sides: connect, with descriptions bound to it. */
  proven(paired: Paired, binding: FingerprintBinding): void;
  /** Whether to draw the QR code (not in scripts, where nobody scans). */
  qr: boolean;
}

/** How long the initiator waits for the partner to end a failed pairing before it does. */
export const FAILED_UNPAIR_MS = 5000;

/**
 * The words a person reads when an exchange fails, by who found out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureLine } from "./code_pairing.ts";
 * assert.match(failureLine("wrong_code", false, "7-tidy-orbit"), /did not match/);
 * ```
 */
export function failureLine(
  failure: CodeFailureValue,
  fromPartner: boolean,
  code: string,
): string {
  switch (failure) {
    case CodeFailure.WrongCode:
      return `*** The code did not match: the other side typed another password than ${code}. ` +
        "Nothing was connected, and the code is spent; get a new one (code) ***";
    case CodeFailure.Tampered:
      return fromPartner
        ? "*** Refused by the other side: the connection details it received were changed on " +
          "the way, so someone between you (the server or the network) may be listening in. " +
          "Nothing was connected ***"
        : "*** Refused: the connection details were changed on the way, so someone between you " +
          "(the server or the network) may be listening in. Nothing was connected ***";
    case CodeFailure.Malformed:
      return "*** The other side answered the code with something that is not a valid key " +
        "exchange: nothing was connected ***";
  }
}

/** Claims, uses and checks codes for one client. */
export class CodePairing {
  readonly #options: CodePairingOptions;
  // The password of the code this side holds, until the server names its nameplate.
  #claiming: string | undefined;
  // The code this side shows, once the server gave its nameplate.
  #held: PairingCode | undefined;
  // The code this side typed, until the pairing it asked for comes (or is refused).
  #using: PairingCode | undefined;
  #exchange: CodeExchange | undefined;
  #paired: Paired | undefined;
  #code = "";
  #proven = false;
  #unpairTimer: ReturnType<typeof setTimeout> | undefined;

  /** @param options How to print, reach the server, and connect once proven. */
  constructor(options: CodePairingOptions) {
    this.#options = options;
  }

  /** `code`: asks the server for a nameplate; the password is made here and never sent. */
  claim(): void {
    const password = newPassword();
    if (this.#options.send({ type: MessageType.CodeClaim })) this.#claiming = password;
  }

  /** `pair 7-tidy-orbit`: asks the server to pair with the nameplate's holder. */
  use(code: PairingCode): void {
    if (this.#options.send({ type: MessageType.CodeUse, nameplate: code.nameplate })) {
      this.#using = code;
      this.#options.print(`*** Using the code ${formatCode(code)}… ***`);
    }
  }

  /** Whether the current pairing was made by code and its password is not yet proven. */
  get checking(): boolean {
    return this.#exchange !== undefined && !this.#exchange.finished;
  }

  /**
   * Takes the messages of pairing by code: `nameplate`, `nameplate_expired`,
   * `pake`, and `paired` when made by a code.
   *
   * @returns Whether the message was taken (and printed as needed).
   */
  take(message: ServerMessage): boolean {
    switch (message.type) {
      case MessageType.Nameplate:
        this.#nameplate(message.nameplate, message.expires_s);
        return true;
      case MessageType.NameplateExpired:
        if (this.#held?.nameplate === message.nameplate) {
          this.#options.print(
            `*** Your code ${formatCode(this.#held)} expired unused; type code for a new one ***`,
          );
          this.#held = undefined;
        }
        return true;
      case MessageType.Pake:
        this.#pake(message);
        return true;
      default:
        return false;
    }
  }

  /**
   * A pairing began. Made by a code, it is checked here first (the caller
   * connects only once {@linkcode CodePairingOptions.proven} is called);
   * made by id, it ends whatever code this side held or typed.
   */
  paired(message: Paired): void {
    this.ended();
    const byCode = message.by_code === true;
    const code = message.initiator ? this.#using : this.#held;
    this.#using = undefined;
    this.#held = undefined;
    this.#claiming = undefined;
    if (!byCode) return;
    if (code === undefined) {
      // The server paired us by a code we neither hold nor typed: nothing to prove it with.
      this.#options.print("*** Paired by a code this side knows nothing of; leaving ***");
      this.#options.leave();
      return;
    }
    this.#paired = message;
    this.#code = formatCode(code);
    this.#options.print(`*** Checking the code with ${printable(message.peer)}… ***`);
    const exchange = this.#exchange = new CodeExchange({
      initiator: message.initiator,
      code,
      send: (pake) => {
        if (this.#exchange === exchange) this.#options.send(pake);
      },
      done: (outcome) => {
        if (this.#exchange !== exchange) return;
        if (outcome.ok) {
          this.#proven = true;
          this.#options.print(
            `*** The code matched: ${
              printable(message.peer)
            } knows it too. Connecting end to end… ***`,
          );
          this.#options.proven(message, outcome.binding);
        } else {
          this.#failed(outcome.failure, outcome.fromPartner);
        }
      },
    });
    exchange.start();
  }

  /**
   * The link refused a description whose proof did not match: tell the
   * partner, say so, and end the pairing.
   */
  tampered(): void {
    if (this.#paired === undefined) return;
    this.#options.send(failureMessage(CodeFailure.Tampered));
    this.#options.print(failureLine(CodeFailure.Tampered, false, this.#code));
    this.#unpair();
  }

  /**
   * A typed code was refused by the server (no such nameplate, rate limit):
   * the server's error line says why; nothing is pending any more.
   */
  refused(): void {
    this.#using = undefined;
  }

  /** The pairing ended (or a new one began): forget its exchange. */
  ended(): void {
    clearTimeout(this.#unpairTimer);
    this.#unpairTimer = undefined;
    this.#exchange = undefined;
    this.#paired = undefined;
    this.#proven = false;
  }

  /** Stops timers, for the client's exit. */
  close(): void {
    this.ended();
  }

  #nameplate(nameplate: string, expiresS: number): void {
    const password = this.#claiming;
    if (password === undefined) return;
    this.#claiming = undefined;
    const code = this.#held = { nameplate, password };
    const text = formatCode(code);
    const link = codeLink(this.#options.serverUrl, text);
    const minutes = Math.max(1, Math.round(expiresS / 60));
    const lines = [
      `*** Your code: ${text} (for one pairing, within ${minutes} min) ***`,
      `*** On the other side: deno task peer ${text}, or open ${link} ***`,
    ];
    if (this.#options.qr) lines.push(qrTerminal(link));
    this.#options.print(lines.join("\n"));
  }

  #pake(message: Pake): void {
    if (this.#paired === undefined || message.from !== this.#paired.peer) return;
    const failure = partnerFailure(message);
    // After the code matched, a failure is the partner refusing a description.
    if (failure !== undefined && this.#proven) {
      this.#proven = false;
      this.#options.print(failureLine(failure, true, this.#code));
      this.#unpair();
      return;
    }
    this.#exchange?.take(message);
  }

  #failed(failure: CodeFailureValue, fromPartner: boolean): void {
    this.#options.print(failureLine(failure, fromPartner, this.#code));
    const paired = this.#paired;
    // The other side ends the pairing after it judged the last message; the
    // initiator does so itself only if the partner does not within a while.
    if (paired?.initiator && failure === CodeFailure.WrongCode && !fromPartner) {
      this.#unpairTimer = setTimeout(() => this.#unpair(), FAILED_UNPAIR_MS);
      return;
    }
    this.#unpair();
  }

  #unpair(): void {
    if (this.#paired === undefined) return;
    this.ended();
    this.#options.leave();
  }
}
