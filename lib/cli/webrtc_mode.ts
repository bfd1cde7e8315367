/**
 * WebRTC mode's start: its permissions checked, the TURN credential read, and
 * the WebRTC library loaded in the background, so the client connects and
 * shows its id meanwhile.
 *
 * @module
 */

import type { ClientFlags } from "./flags.ts";
import {
  ICE_CREDENTIAL_ENV,
  iceServersFromUrls,
  needsCredential,
} from "../protocol/ice_servers.ts";
import { missingFlags, readSecretEnv, WEBRTC_PERMISSIONS } from "../runtime/permissions.ts";
import { errorText } from "../runtime/safe_text.ts";
import { type PeerConnectionFactory, weriftFactory } from "./werift/peer.ts";
import { rehearseExchange } from "../shared/code_exchange.js";

/** WebRTC mode, started: its connections, and when the library is ready. */
export interface WebrtcMode {
  /** Makes peer connections, waiting for the library if need be. */
  factory: PeerConnectionFactory;
  /** Settles once the library is loaded and warm. */
  ready: Promise<unknown>;
}

/**
 * Checks WebRTC mode's permissions and starts loading the WebRTC library.
 *
 * @param report Where the one line about a failure goes (stderr).
 * @returns WebRTC mode, or an exit code after one line on `report`.
 */
export async function prepareWebrtc(
  flags: Pick<ClientFlags, "iceUrls" | "iceUsername" | "relayOnly">,
  report: (line: string) => void,
): Promise<WebrtcMode | number> {
  const missing = await missingFlags(WEBRTC_PERMISSIONS);
  if (missing.length > 0) {
    report(`WebRTC mode needs ${missing.join(" ")} (run it with: deno task peer)`);
    return 2;
  }
  let credential: string | undefined;
  try {
    if (needsCredential(flags.iceUrls)) credential = await readSecretEnv(ICE_CREDENTIAL_ENV);
  } catch (error) {
    report(`Cannot start WebRTC mode: ${errorText(error)}`);
    return 1;
  }
  const ready = weriftFactory({
    ownIceServers: iceServersFromUrls(flags.iceUrls, flags.iceUsername, credential),
    relayOnly: flags.relayOnly,
    interfaces: Deno.networkInterfaces(),
  }).then((factory) => {
    // Then the curves of pairing by code, so a code typed early is checked warm too.
    rehearseExchange();
    return factory;
  });
  // A failure shows on the first pairing, whose link falls back to the server.
  ready.catch(() => {});
  return { factory: async (iceServers) => (await ready)(iceServers), ready };
}
