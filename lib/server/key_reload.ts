/**
 * Reloading the API keys into a running server: new keys work at once, the
 * clients of keys no longer there are closed with 1008 `key revoked`, and
 * those away in a resume window have it ended at once — on every instance
 * that shares the state.
 *
 * @module
 */

import type { KeyRecord } from "../auth/key_file.ts";
import type { ServerState } from "./connection.ts";

/**
 * Replaces the server's keys and closes what the removed ones held.
 *
 * @returns How many keys there are now, and how many clients were closed
 *   or, away, had their session ended.
 * @throws {TypeError} On a server started without API keys (the promise rejects).
 */
export async function reloadKeys(
  server: ServerState,
  keys: readonly KeyRecord[],
): Promise<{ keys: number; revoked: number }> {
  const { access, signaling } = server;
  // New keys work from here on, and revoked ones are refused at the handshake.
  const { size, removed, removedLabels, kept } = access.reload(keys);
  for (const label of removedLabels) server.config.webhooks?.emit("key.revoked", { key: label });
  // Away sessions first, so a connected partner hears `peer_left` before its own 1008;
  // instances that share the state are told too, and close their own clients of these keys.
  const ended = await signaling.revoke(removed, kept);
  return { keys: size, revoked: ended + closeRevoked(server) };
}

/**
 * Keys revoked on another instance that shares this one's state: refused
 * here from now on, and their clients here closed with 1008 `key revoked`.
 *
 * @returns How many clients were closed.
 */
export function revokeShared(server: ServerState, tenants: readonly string[]): number {
  server.access.revokeShared(tenants);
  return closeRevoked(server);
}

/** Closes the clients whose key is revoked; how many. */
function closeRevoked({ access, registry }: ServerState): number {
  let closed = 0;
  for (const { socket: connection } of [...registry]) {
    if (access.revoked(connection.tenant)) {
      connection.revoke();
      closed++;
    }
  }
  return closed;
}
