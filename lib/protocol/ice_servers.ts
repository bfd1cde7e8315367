/**
 * The ICE server list a peer connection gets: the server's list from
 * `paired` plus the peer's own `--ice-server` flags. Pure.
 *
 * @module
 */

import type { IceServer } from "./messages.ts";

/** The environment variable that holds the password for `turn:` URLs. */
export const ICE_CREDENTIAL_ENV = "SWITCHBOARD_ICE_CREDENTIAL";

/**
 * Turns `--ice-server` URLs into `RTCIceServer` entries: STUN URLs as they
 * are, TURN URLs with the username and password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iceServersFromUrls } from "./ice_servers.ts";
 * assert.deepEqual(
 *   iceServersFromUrls(["stun:stun.example.org", "turn:turn.example.org"], "me", "pw"),
 *   [
 *     { urls: "stun:stun.example.org" },
 *     { urls: "turn:turn.example.org", username: "me", credential: "pw" },
 *   ],
 * );
 * ```
 */
export function iceServersFromUrls(
  urls: readonly string[],
  username: string | undefined,
  credential: string | undefined,
): IceServer[] {
  return urls.map((url) => {
    if (!/^turns?:/.test(url)) return { urls: url };
    const server: IceServer = { urls: url };
    if (username !== undefined) server.username = username;
    if (credential !== undefined) server.credential = credential;
    return server;
  });
}

/** Whether any of `urls` is a TURN URL, which needs a password. */
export function needsCredential(urls: readonly string[]): boolean {
  return urls.some((url) => /^turns?:/.test(url));
}
