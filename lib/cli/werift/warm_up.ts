/**
 * A throw-away connection between two peers in this process, made at start-up
 * so the first real connection does not pay for a cold JIT.
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import type { DtlsKeys } from "./certificate.ts";

/** The options werift's `RTCPeerConnection` takes. */
export type PeerConfig = NonNullable<ConstructorParameters<Werift["RTCPeerConnection"]>[0]>;

/**
 * Peer options for a host that is reached on loopback only: no STUN or TURN
 * server, IPv4, and 127.0.0.1 offered as a host candidate.
 *
 * @param keys Keys from `createDtlsKeys()` (`certificate.ts`), to skip making a certificate.
 * @returns A fresh options object for `new RTCPeerConnection()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loopbackPeerConfig } from "./warm_up.ts";
 *
 * assert.deepEqual(loopbackPeerConfig().iceAdditionalHostAddresses, ["127.0.0.1"]);
 * ```
 */
export function loopbackPeerConfig(keys?: DtlsKeys): PeerConfig {
  const config: PeerConfig = {
    iceServers: [],
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceUseIpv6: false,
  };
  if (keys) config.dtls = { keys };
  return config;
}

/** How long {@link warmUp} waits for its connection by default, in ms. */
export const WARM_UP_TIMEOUT_MS = 3000;

/**
 * Opens and closes a throw-away connection between two peers in this process
 * (ICE, DTLS, SCTP, a data channel and one message each way), so the first
 * real connection does not pay for a cold JIT (100 ms and more of its opening
 * time). Run it while waiting for the partner anyway. It never rejects: a
 * failure only means no warm-up.
 *
 * Needs `--allow-net --allow-env --allow-sys=networkInterfaces`, like werift.
 * werift leaves timers behind after `close()`; a program that is done must end
 * its process.
 *
 * @param werift The module returned by `loadWerift()`, ideally tuned already.
 * @param keys Keys from `createDtlsKeys()` (`certificate.ts`).
 * @param timeoutMs How long to wait for the message to come back.
 * @returns `true` when the message made the round trip, `false` on failure or
 *   timeout.
 */
export async function warmUp(
  werift: Werift,
  keys: DtlsKeys,
  timeoutMs: number = WARM_UP_TIMEOUT_MS,
): Promise<boolean> {
  const peers: InstanceType<Werift["RTCPeerConnection"]>[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const offerer = new werift.RTCPeerConnection(loopbackPeerConfig(keys));
    peers.push(offerer);
    const answerer = new werift.RTCPeerConnection(loopbackPeerConfig(keys));
    peers.push(answerer);
    const echoed = new Promise<void>((resolve) => {
      answerer.onDataChannel.subscribe((channel) => {
        channel.onMessage.subscribe((message) => channel.send(message));
      });
      const channel = offerer.createDataChannel("warm-up");
      channel.stateChanged.subscribe((state) => {
        if (state === "open") channel.send("warm-up");
      });
      channel.onMessage.subscribe(() => resolve());
    });
    const exchange = (async () => {
      await offerer.setLocalDescription(await offerer.createOffer());
      await answerer.setRemoteDescription(offerer.localDescription!);
      await answerer.setLocalDescription(await answerer.createAnswer());
      await offerer.setRemoteDescription(answerer.localDescription!);
      await echoed;
      return true;
    })();
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    // A failure after the timeout still lands in this catch, never unhandled.
    return await Promise.race([exchange.catch(() => false), timedOut]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await Promise.allSettled(peers.map((peer) => peer.close()));
  }
}
