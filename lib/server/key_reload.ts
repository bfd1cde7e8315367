/**
 * Reloading the API keys into a running server: new keys work at once, the
 * clients of keys no longer there are closed with 1008 `key revoked`, and
 * those away in a resume window have it ended at once.
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
 * @throws {TypeError} On a server started without API keys.
 */
export function reloadKeys(
  server: ServerState,
  keys: readonly KeyRecord[],
): { keys: number; revoked: number } {
  const { access, registry, resumption } = server;
  const count = access.reload(keys);
  // Away sessions first, so a connected partner hears `peer_left` before its own 1008.
  let revoked = resumption.revoke((id) => access.revokedClient(id));
  for (const { socket: connection } of [...registry]) {
    if (access.revoked(connection.tenant)) {
      connection.revoke();
      revoked++;
    }
  }
  return { keys: count, revoked };
}
