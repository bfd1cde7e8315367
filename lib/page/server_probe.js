/**
 * What the page asks the server over plain HTTP: whether it wants an API
 * key, and whether it is up. A browser is not told why a WebSocket was
 * refused, so these answers say it instead.
 *
 * @module
 */

import { HttpPath } from "../shared/protocol.js";

/**
 * What a client needs to connect: an API key (`auth`), an access token
 * (`tokens`), either when both, neither on an open server; and the origins
 * of the apps that may frame the page and hand it tokens (`embed`).
 *
 * @typedef {{ auth: boolean, tokens: boolean, embed: readonly string[] }} Access
 */

/** An open server's access. */
export const OPEN = Object.freeze({ auth: false, tokens: false, embed: [] });

/**
 * What the server wants, from its `/config.json`; `undefined` when it cannot
 * be reached. A static copy of the page has no `/config.json`: its server is
 * taken as open.
 *
 * @returns {Promise<Access | undefined>}
 */
export async function serverAccess() {
  try {
    const response = await fetch(HttpPath.Config, { cache: "no-store" });
    if (!response.ok) return OPEN;
    const config = await response.json();
    const embed = Array.isArray(config.embed)
      ? config.embed.filter((/** @type {unknown} */ origin) => typeof origin === "string")
      : [];
    return { auth: config.auth === true, tokens: config.tokens === true, embed };
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
