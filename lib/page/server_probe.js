/**
 * What the page asks the server over plain HTTP: whether it wants an API
 * key, and whether it is up. A browser is not told why a WebSocket was
 * refused, so these answers say it instead.
 *
 * @module
 */

import { HttpPath } from "../shared/protocol.js";

/**
 * Whether the server wants an API key, from its `/config.json`; `undefined`
 * when it cannot be reached. A static copy of the page has no `/config.json`:
 * its server is taken as open.
 *
 * @returns {Promise<boolean | undefined>}
 */
export async function wantsKey() {
  try {
    const response = await fetch(HttpPath.Config, { cache: "no-store" });
    return response.ok ? (await response.json()).auth === true : false;
  } catch {
    return undefined;
  }
}

/**
 * Whether the server is up and not stopping (a stopping server refuses handshakes too).
 *
 * @returns {Promise<boolean>}
 */
export async function serverReady() {
  try {
    const response = await fetch(HttpPath.Health, { cache: "no-store" });
    await response.body?.cancel();
    return response.status !== 503;
  } catch {
    return false;
  }
}
