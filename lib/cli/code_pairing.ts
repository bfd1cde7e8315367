/**
 * Pairing by code in the terminal: the words for what the shared
 * {@linkcode CodeSession} reports. `code` (or `--code`) shows the code, its
 * page link and a QR code; `pair 7-tidy-orbit` (or the code as the last
 * argument) uses one; the exchange that proves it is the shared module's.
 *
 * @module
 */

import type { ClientMessage } from "../protocol/messages.ts";
import { type CodeEvent, CodeSession, type PairedLike } from "../shared/code_session.js";
import {
  CodeFailure,
  type CodeFailureValue,
  type FingerprintBinding,
} from "../shared/code_exchange.js";
import { codeLink } from "../shared/pairing_code.js";
import { qrTerminal } from "../shared/qr_code.js";
import { printable } from "../runtime/safe_text.ts";

/** What {@linkcode terminalCodes} needs from the client around it. */
export interface TerminalCodesOptions {
  /** The server's URL, for the page link. */
  serverUrl: string;
  /** Prints one line (or several joined by `\n`) on stdout. */
  print(line: string): void;
  /** Sends a message to the server; `false` when not connected. */
  send(message: ClientMessage): boolean;
  /** Ends the pairing, as `leave` does, without a line of its own (this module says why). */
  leave(): void;
  /** The code was proven by both sides: connect, with descriptions bound to it. */
  proven(paired: PairedLike, binding: FingerprintBinding): void;
  /** Whether to draw the QR code (not in scripts, where nobody scans). */
  qr: boolean;
  /** The partner sent its device key, to remember it by (see `devices/remembered.ts`). */
  identity?(peer: string): void;
}

/**
 * A code session that prints what happens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { terminalCodes } from "./code_pairing.ts";
 * const lines: string[] = [];
 * const codes = terminalCodes({
 *   serverUrl: "ws://192.168.1.20:8765",
 *   print: (line) => lines.push(line),
 *   send: () => true,
 *   leave: () => {},
 *   proven: () => {},
 *   qr: false,
 * });
 * codes.claim();
 * codes.take({ type: "nameplate", nameplate: "7", expires_s: 300 });
 * assert.match(lines[0] ?? "", /^\*\*\* Your code: 7-[a-z]+-[a-z]+ \(for one pairing, within 5 min\) \*\*\*\n/);
 * ```
 */
export function terminalCodes(options: TerminalCodesOptions): CodeSession {
  return new CodeSession({
    send: (message) => options.send(message as ClientMessage),
    leave: options.leave,
    proven: options.proven,
    onEvent: (event) => {
      const line = eventLine(event, options);
      if (line !== undefined) options.print(line);
    },
  });
}

function eventLine(event: CodeEvent, options: TerminalCodesOptions): string | undefined {
  switch (event.kind) {
    case "code": {
      const link = codeLink(options.serverUrl, event.code);
      const minutes = Math.max(1, Math.round(event.expiresS / 60));
      const lines = [
        `*** Your code: ${event.code} (for one pairing, within ${minutes} min) ***`,
        `*** On the other side: deno task peer ${event.code}, or open ${link} ***`,
      ];
      if (options.qr) lines.push(qrTerminal(link));
      return lines.join("\n");
    }
    case "using":
      return `*** Using the code ${event.code}… ***`;
    case "expired":
      return `*** Your code ${event.code} expired unused; type code for a new one ***`;
    case "checking":
      return `*** Checking the code with ${printable(event.peer)}… ***`;
    case "matched":
      return `*** The code matched: ${
        printable(event.peer)
      } knows it too. Connecting end to end… ***`;
    case "failed":
      return failureLine(event.failure, event.fromPartner, event.code);
    case "stranger":
      return "*** Paired by a code this side knows nothing of; leaving ***";
    case "identity":
      options.identity?.(event.peer);
      return undefined;
  }
}

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
    case CodeFailure.Timeout:
      return "*** The other side did not finish checking the code in time: nothing was " +
        "connected ***";
  }
}
