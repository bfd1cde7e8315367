/**
 * The log lines of signaling, written once for every implementation: an
 * operator reads "Clients … paired." the same way whichever one the server
 * runs. Each implementation narrates through its own logger category.
 *
 * @module
 */

import type { Logger } from "../runtime/deps.ts";
import type { PairCancelledReason } from "../protocol/messages.ts";

/**
 * Logs what signaling did, one line per event, naming both clients.
 *
 * @example
 * ```ts
 * import { getLogger } from "../runtime/deps.ts";
 * import { Narration } from "./narration.ts";
 *
 * const narrate = new Narration(getLogger(["switchboard", "example"]));
 * narrate.paired("initiator-id", "responder-id");
 * ```
 */
export class Narration {
  readonly #logger: Logger;

  /** @param logger Where the lines go. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** `requester` asked `target` to pair. */
  requested(requester: string, target: string): void {
    this.#info("Client {clientId} asked to pair with {peerId}.", requester, target);
  }

  /** `initiator`'s request was accepted by `responder`. */
  paired(initiator: string, responder: string): void {
    this.#logger.info("Clients {initiatorId} and {responderId} paired.", {
      initiatorId: initiator,
      responderId: responder,
    });
  }

  /** `holder` holds nameplate `nameplate` (a code's number; the code's words never reach the server). */
  claimed(holder: string, nameplate: string): void {
    this.#logger.info("Client {clientId} holds nameplate {nameplate}.", {
      clientId: holder,
      nameplate,
    });
  }

  /** `user` typed the code of `holder`'s nameplate: the two are paired next. */
  codeUsed(user: string, holder: string, nameplate: string): void {
    this.#logger.info("Client {clientId} used nameplate {nameplate} of {peerId}.", {
      clientId: user,
      peerId: holder,
      nameplate,
    });
  }

  /** `me` met `waiting`, a remembered device, under the rendezvous they share. */
  met(me: string, waiting: string): void {
    this.#info("Client {clientId} met {peerId}, a remembered device.", me, waiting);
  }

  /** `holder`'s nameplate expired unused. */
  nameplateExpired(holder: string, nameplate: string): void {
    this.#logger.info("Nameplate {nameplate} of client {clientId} expired unused.", {
      clientId: holder,
      nameplate,
    });
  }

  /** `target` rejected `requester`'s request. */
  rejected(target: string, requester: string): void {
    this.#info("Client {clientId} rejected pairing with {peerId}.", target, requester);
  }

  /** `id` unpaired from `partner`. */
  unpaired(id: string, partner: string): void {
    this.#info("Client {clientId} unpaired from {peerId}.", id, partner);
  }

  /** `id` left, and `partner` was told. */
  left(id: string, partner: string): void {
    this.#info("Client {peerId} left; told its partner {clientId}.", partner, id);
  }

  /** `requester`'s request ended because `target` left. */
  targetLeft(requester: string, target: string): void {
    this.#info(
      "Pair request from {clientId} to {peerId} ended: the target left.",
      requester,
      target,
    );
  }

  /** `requester`'s request ended because `target` paired with another client. */
  targetPaired(requester: string, target: string): void {
    this.#info(
      "Pair request from {clientId} to {peerId} ended: the target paired with another.",
      requester,
      target,
    );
  }

  /** `requester` withdrew its request to `target`; a timeout has its own line. */
  cancelled(requester: string, target: string, reason: PairCancelledReason): void {
    if (reason === "timeout") return;
    this.#logger.info("Pair request from {clientId} to {peerId} cancelled ({reason}).", {
      clientId: requester,
      peerId: target,
      reason,
    });
  }

  /** `requester`'s request to `target` timed out. */
  timedOut(requester: string, target: string): void {
    this.#info("Pair request from {clientId} to {peerId} timed out.", requester, target);
  }

  /** A message of `type` went from `from` to its partner `to`. */
  relayed(type: string, from: string, to: string): void {
    this.#logger.debug("Relayed {type} from {clientId} to {peerId}.", {
      type,
      clientId: from,
      peerId: to,
    });
  }

  /** `id` lost its connection and may resume; `partner` was told. */
  reconnecting(id: string, partner: string): void {
    this.#info("Client {peerId} is reconnecting; told its partner {clientId}.", partner, id);
  }

  /** `id` resumed; `partner` was told. */
  back(id: string, partner: string): void {
    this.#info("Client {peerId} is back; told its partner {clientId}.", partner, id);
  }

  // Most lines name a client and its peer, with these two properties.
  #info(message: string, clientId: string, peerId: string): void {
    this.#logger.info(message, { clientId, peerId });
  }
}
