/**
 * Makes werift notice at once that ICE has completed, instead of at the end of
 * its 20 ms pacing sleep.
 *
 * `Connection.prototype.connect` is replaced by a copy whose pause between
 * starting two connectivity checks still lasts up to 20 ms (the pacing the ICE
 * specification asks for) but ends as soon as the check list is done.
 *
 * The copied method is adapted from werift 0.25.2 (MIT License, copyright
 * Yuki Shindo); the patch checks werift's source first (see `patch.ts`).
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  expectSource,
  markPatched,
  methodPatch,
  prototypeOf,
  type SourceExpectation,
  weriftDebug,
  WeriftMismatch,
} from "./patch.ts";

/**
 * Applies {@link icePacingPatch}. Idempotent.
 *
 * @param werift The module returned by `loadWerift()`.
 * @throws {WeriftMismatch} When werift's code is not the code this patch was written for.
 */
export function removeIcePacingDelay(werift: Werift): void {
  applyPatches(werift, [icePacingPatch]);
}

interface CandidatePairLike {
  handle?: { resolve?: () => void } | undefined;
}

interface IceConnectionInternals {
  state: string;
  iceLite: boolean;
  localCandidatesEnd: boolean;
  localCandidatesStart: boolean;
  remoteUsername: string;
  remotePassword: string;
  localPassword: string;
  readonly remoteCandidates: readonly unknown[];
  checkList: CandidatePairLike[];
  checkListDone: boolean;
  readonly checkListState: { get(): Promise<number> };
  earlyChecks: unknown[][];
  earlyChecksDone: boolean;
  nominated?: unknown;
  pairRemoteCandidate(candidate: unknown): void;
  sortCheckList(): void;
  unfreezeInitial(): void;
  checkIncoming(...check: unknown[]): void;
  schedulingChecks(): boolean;
  queryConsent(): void;
  setState(state: string): void;
}

/** Per ICE connection: ends the current pause between checks. */
const pauseEnders = new WeakMap<object, () => void>();

/** Waits `ms`, or less if the check list completes meanwhile. */
function pauseBetweenChecks(connection: object, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      if (pauseEnders.get(connection) === end) pauseEnders.delete(connection);
      resolve();
    };
    const timer = setTimeout(end, ms);
    pauseEnders.set(connection, end);
  });
}

const iceConnectExpectation: SourceExpectation = {
  name: "Connection.prototype.connect",
  fragments: [
    ["await timers.setTimeout(20);", "the pause between checks"],
    ["if (!this.schedulingChecks()) break;", "the check loop"],
    ["res = await this.checkListState.get();", "waiting for the check list's result"],
  ],
  fingerprint: "1f32d863",
};

const iceCheckCompleteExpectation: SourceExpectation = {
  name: "Connection.prototype.checkComplete",
  fragments: [["this.checkListDone = true;", "where ICE completes"]],
};

/** The patch {@link removeIcePacingDelay} applies. */
export const icePacingPatch = methodPatch<Werift>({
  replaces: [["Connection", "connect"], ["Connection", "checkComplete"]],
  check(werift) {
    const connection = prototypeOf(werift, "Connection");
    expectSource(connection.connect, iceConnectExpectation);
    expectSource(connection.checkComplete, iceCheckCompleteExpectation);
    if (typeof werift.ICE_COMPLETED !== "number" || typeof werift.ICE_FAILED !== "number") {
      throw new WeriftMismatch("ICE_COMPLETED, ICE_FAILED", "are not exported as numbers");
    }
  },
  apply(werift) {
    const connection = prototypeOf(werift, "Connection");
    const { ICE_COMPLETED, ICE_FAILED } = werift;
    const log = weriftDebug(werift, "werift-ice : packages/ice/src/ice.ts : log");

    const checkComplete = connection.checkComplete as (
      this: IceConnectionInternals,
      pair: unknown,
    ) => void;
    connection.checkComplete = markPatched(
      function (this: IceConnectionInternals, pair: unknown): void {
        checkComplete.call(this, pair);
        if (this.checkListDone) pauseEnders.get(this)?.();
      },
    );

    // A copy of werift 0.25.2's Connection.connect() whose pause between
    // checks ends early once the check list is done.
    connection.connect = markPatched(async function connect(this: IceConnectionInternals) {
      log("start connect ice");
      if (!this.localCandidatesEnd) {
        if (!this.localCandidatesStart) {
          throw new Error("Local candidates gathering was not performed");
        }
      }
      if (!this.remoteUsername || !this.remotePassword) {
        throw new Error("Remote username or password is missing");
      }
      for (const c of this.remoteCandidates) {
        this.pairRemoteCandidate(c);
      }
      this.sortCheckList();
      if (!this.iceLite) {
        this.unfreezeInitial();
      }
      log("earlyChecks", this.localPassword, this.earlyChecks.length);
      for (const earlyCheck of this.earlyChecks) {
        this.checkIncoming(...earlyCheck);
      }
      this.earlyChecks = [];
      this.earlyChecksDone = true;
      if (this.iceLite) {
        if (!this.nominated) {
          let res2: number = ICE_FAILED;
          while (!this.checkListDone && this.state !== "closed") {
            res2 = await this.checkListState.get();
            log("checkListState", res2);
            if (res2 === ICE_COMPLETED) {
              break;
            }
          }
          if (res2 !== ICE_COMPLETED && !this.nominated) {
            throw new Error("ICE negotiation failed");
          }
        }
        this.setState("connected");
        return;
      }
      for (;;) {
        if (this.state === "closed") break;
        if (!this.schedulingChecks()) break;
        // Once the check list is done the loop only has to run to its end.
        if (!this.checkListDone) await pauseBetweenChecks(this, 20);
      }
      let res: number = ICE_FAILED;
      while (this.checkList.length > 0 && res === ICE_FAILED) {
        res = await this.checkListState.get();
        log("checkListState", res);
      }
      for (const check of this.checkList) {
        check.handle?.resolve?.();
      }
      if (res !== ICE_COMPLETED) {
        throw new Error("ICE negotiation failed");
      }
      this.queryConsent();
      this.setState("connected");
    });
  },
});
