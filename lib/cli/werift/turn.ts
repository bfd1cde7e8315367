/**
 * TURN refusals in werift 0.25.2, made fast and visible. When a TURN server
 * refuses the credentials (wrong secret, expired or tampered username), its
 * answer is a 401 error that cannot carry a MESSAGE-INTEGRITY the client can
 * verify (RFC 5389 §10.1.2). werift drops that answer for failing the
 * check, retransmits for about 6.4 s, tries TCP for as long, then gathers
 * nothing and says nothing. Here the 401 ends the allocation at once, and
 * the peer connection that asked hears it as the standard
 * `icecandidateerror` event (errorCode 401), as a browser would report it.
 * The patch goes through `patch.ts`, which checks that the code it changes
 * still looks as expected, so an upgrade of the library cannot silently undo it.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { Werift } from "../../runtime/deps.ts";
import { applyPatches, markPatched, methodPatch, prototypeOf, WeriftMismatch } from "./patch.ts";
import type { IceCandidateErrorLike, PeerConnectionLike } from "../../shared/rtc_types.js";

/** STUN's class of error responses (RFC 5389 §6). */
const ERROR_CLASS = 0x110;

/** Who hears a refusal: the connection whose gathering started the allocation. */
const refusals = new AsyncLocalStorage<(event: IceCandidateErrorLike) => void>();

type Turn = {
  server: [string, number];
  transactions: Record<string, { integrityKey?: unknown } | undefined>;
};
type StunMessage = {
  messageClass: number;
  transactionIdHex: string;
  getAttributeValue(name: string): unknown;
};

/** The part of werift {@link turnRefusalsPatch} reads. */
type Module = Pick<Werift, "TurnProtocol" | "parseMessage">;

/**
 * Patches werift's TURN client: a 401 answer to an authenticated request ends
 * the allocation at once, and a refused allocation is reported to the peer
 * connection made by {@linkcode withTurnErrors}.
 */
export const turnRefusalsPatch = methodPatch<Module>({
  replaces: [["TurnProtocol", "handleSTUNMessage"], ["TurnProtocol", "connectionMade"]],
  check(werift) {
    const proto = prototypeOf(werift, "TurnProtocol");
    const handle = proto.handleSTUNMessage;
    if (typeof handle !== "function" || typeof proto.connectionMade !== "function") {
      throw new WeriftMismatch("TurnProtocol.handleSTUNMessage or connectionMade", "is missing");
    }
    if (!/failed MESSAGE-INTEGRITY check/.test(String(handle))) {
      throw new WeriftMismatch("TurnProtocol", "no longer checks answers as expected");
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "TurnProtocol");
    const handle = proto.handleSTUNMessage as (this: Turn, data: unknown, addr: unknown) => unknown;
    const made = proto.connectionMade as (this: Turn) => Promise<unknown>;
    const parse = werift.parseMessage as unknown as (data: unknown, key?: unknown) => unknown;
    proto.handleSTUNMessage = markPatched(function (this: Turn, data: unknown, addr: unknown) {
      const message = safely(() => parse(data)) as StunMessage | undefined;
      const transaction = message && this.transactions[message.transactionIdHex];
      if (
        message?.messageClass === ERROR_CLASS && transaction?.integrityKey !== undefined &&
        errorCode(message) === 401 && !safely(() => parse(data, transaction.integrityKey))
      ) {
        // The refusal cannot be signed with a key the server does not accept:
        // take it unverified, so the request fails now instead of timing out.
        transaction.integrityKey = undefined;
      }
      return handle.call(this, data, addr);
    });
    proto.connectionMade = markPatched(async function (this: Turn) {
      try {
        return await made.call(this);
      } catch (error) {
        const response = (error as { response?: StunMessage } | null)?.response;
        const code = response ? errorCode(response) : undefined;
        if (code === 401) {
          refusals.getStore()?.({
            errorCode: 401,
            errorText: "Unauthorized",
            url: `turn:${this.server[0]}:${this.server[1]}`,
          });
        }
        throw error;
      }
    });
  },
});

/**
 * Applies {@link turnRefusalsPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's TURN client no longer looks as expected.
 */
export function reportTurnRefusals(werift: Module): void {
  applyPatches(werift, [turnRefusalsPatch]);
}

/**
 * Makes `pc` hear TURN refusals as `icecandidateerror`: the steps that start
 * its gathering (the offerer's `setLocalDescription`, the answerer's
 * `setRemoteDescription`) run with `pc` as the listener.
 *
 * @returns `pc` itself.
 */
export function withTurnErrors(pc: PeerConnectionLike): PeerConnectionLike {
  const report = (event: IceCandidateErrorLike) => pc.onicecandidateerror?.(event);
  const setLocal = pc.setLocalDescription.bind(pc);
  const setRemote = pc.setRemoteDescription.bind(pc);
  pc.setLocalDescription = (description) => refusals.run(report, () => setLocal(description));
  pc.setRemoteDescription = (description) => refusals.run(report, () => setRemote(description));
  return pc;
}

function errorCode(message: StunMessage): number | undefined {
  const value = safely(() => message.getAttributeValue("ERROR-CODE"));
  return Array.isArray(value) && typeof value[0] === "number" ? value[0] : undefined;
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
