/**
 * The log lines for sockets that got stuck (a handshake that never opened,
 * a peer that never answered a close): what the `SocketTracker`
 * reports, capped, since a stranger can get sockets stuck as fast as it can
 * connect.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import { LogLimit } from "./log_limit.ts";
import type { StuckSocket } from "./socket_tracker.ts";

const logger = getLogger(["switchboard", "server"]);

/**
 * A logger for stuck sockets, for `SocketTracker`'s `onStuck`: at
 * most ten lines per ten seconds, the next one saying how many were skipped.
 *
 * @param closeTimeoutS The seconds a peer has to answer a close, for the line.
 * @returns The function to call with each stuck socket.
 *
 * @example
 * ```ts
 * import { stuckSocketLog } from "./stuck_sockets.ts";
 * const log = stuckSocketLog(5);
 * log({ address: "192.0.2.1", kind: "unopened" });
 * ```
 */
export function stuckSocketLog(closeTimeoutS: number): (stuck: StuckSocket) => void {
  const limit = new LogLimit(10, 10_000);
  return (stuck) => {
    const admission = limit.admit(performance.now());
    if (!admission.log) return;
    const more = admission.skipped > 0 ? ` (${admission.skipped} more, not logged)` : "";
    if (stuck.kind === "unopened") {
      logger.warn(
        `A handshake from {remoteAddr} never opened (reset before the 101?); the runtime keeps its connection${more}`,
        { remoteAddr: stuck.address, skipped: admission.skipped },
      );
    } else {
      logger.warn(
        `The peer at {remoteAddr} did not answer the close within {seconds} s; its connection stays open until it does${more}`,
        { remoteAddr: stuck.address, seconds: closeTimeoutS, skipped: admission.skipped },
      );
    }
  };
}
