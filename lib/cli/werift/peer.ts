/**
 * Peer connections for the command-line peer, made with werift: the WebRTC
 * library is loaded here, on first use, and nowhere else.
 *
 * @module
 */

import { getLogger, loadWerift } from "../../runtime/deps.ts";
import { fixWerift } from "./fixes.ts";
import { createDtlsKeys } from "./certificate.ts";
import { speedUpTransfers } from "./throughput.ts";
import { tuneWerift } from "./tuning.ts";
import { warmUp } from "./warm_up.ts";
import { reportTurnRefusals, withTurnErrors } from "./turn.ts";
import type { IceServer } from "../../protocol/messages.ts";
import type { PeerConnectionLike } from "../../shared/rtc_types.js";

const logger = getLogger(["switchboard", "webrtc"]);

/** How the peer's connections are set up. */
export interface PeerConnectionSettings {
  /** The peer's own ICE servers (`--ice-server`), added after the server's. */
  ownIceServers: readonly IceServer[];
  /** Whether to use TURN relays only. */
  relayOnly: boolean;
  /** The host's interfaces, from `Deno.networkInterfaces()`. */
  interfaces: readonly Pick<Deno.NetworkInterfaceInfo, "family" | "address">[];
}

/**
 * Makes one peer connection, given the ICE servers the signaling server sent;
 * it may have to wait for the WebRTC library to load.
 */
export type PeerConnectionFactory = (
  serverIceServers: readonly IceServer[],
) => PeerConnectionLike | Promise<PeerConnectionLike>;

/**
 * Loads werift and returns a factory for peer connections with these
 * settings. Needs `--allow-net --allow-env --allow-sys=networkInterfaces`.
 */
export async function weriftFactory(
  settings: PeerConnectionSettings,
): Promise<PeerConnectionFactory> {
  const werift = await loadWerift();
  fixWerift(werift);
  tuneWerift(werift);
  speedUpTransfers(werift);
  reportTurnRefusals(werift);
  const keys = await createDtlsKeys(werift);
  // The first handshake of a process pays for a cold JIT: one throw-away
  // connection, made while the client connects and waits for a partner
  // anyway, takes it away. Bounded, and never rejects.
  if (!await warmUp(werift, keys)) {
    logger.debug("The WebRTC warm-up connection did not complete.");
  }
  return (serverIceServers) =>
    withTurnErrors(
      // werift's connection has the standard shape this needs, with its own types.
      new werift.RTCPeerConnection({
        ...peerConfig(settings, serverIceServers),
        dtls: { keys },
      }) as unknown as PeerConnectionLike,
    );
}

/** A werift configuration: the parts of `RTCConfiguration` it reads. */
export interface WeriftConfig {
  /** STUN and TURN servers; always given, since werift's default is a public STUN server. */
  iceServers: IceServer[];
  /** `relay` for TURN only. */
  iceTransportPolicy: "all" | "relay";
  /** Extra host candidates: loopback, on a host that has nothing else. */
  iceAdditionalHostAddresses?: string[];
  /** Whether to gather IPv6 candidates. */
  iceUseIpv6?: boolean;
}

/**
 * The configuration for one connection. On a host whose only interface is
 * loopback, werift gathers no host candidate by itself, so loopback is added
 * and IPv6 left out; elsewhere its own gathering is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peerConfig } from "./peer.ts";
 * const loopbackOnly = [{ family: "IPv4" as const, address: "127.0.0.1" }];
 * assert.deepEqual(
 *   peerConfig({ ownIceServers: [], relayOnly: false, interfaces: loopbackOnly }, []),
 *   {
 *     iceServers: [],
 *     iceTransportPolicy: "all",
 *     iceAdditionalHostAddresses: ["127.0.0.1"],
 *     iceUseIpv6: false,
 *   },
 * );
 * ```
 */
export function peerConfig(
  settings: PeerConnectionSettings,
  serverIceServers: readonly IceServer[],
): WeriftConfig {
  const config: WeriftConfig = {
    iceServers: [...serverIceServers, ...settings.ownIceServers],
    iceTransportPolicy: settings.relayOnly ? "relay" : "all",
  };
  const routable = settings.interfaces.some((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  if (!routable) {
    config.iceAdditionalHostAddresses = ["127.0.0.1"];
    config.iceUseIpv6 = false;
  }
  return config;
}
