/**
 * The page's access token, on a server that takes them: the app that opens
 * or embeds the page mints it on its own backend and hands it over, in the
 * fragment (`#token=<jwt>`) or with `postMessage` (`EmbedMessage.Token`).
 * The page never asks a person to paste one. Messages are taken only from
 * the page's parent frame or opener, and only from an origin the server
 * names (`--embed-origin`, `embed` in `/config.json`); requests for a fresh
 * token (`EmbedMessage.TokenNeeded`) go only to those origins. It asks when
 * it has none, when the server says the token expires soon, and when the
 * server refused or closed it. The token lives in this tab's memory only.
 *
 * @module
 */

import { EmbedMessage } from "../shared/protocol.js";
import { takeGivenToken } from "./page_params.js";
import { session } from "./session.js";

/** @type {string | undefined} */
let token = takeGivenToken();

/** @type {((token: string) => void)[]} */
const listeners = [];

/**
 * The token to connect with, if the page has one.
 *
 * @returns {string | undefined}
 */
export function currentToken() {
  return token;
}

/** Forgets the token: the server refused it, or it expired. */
export function forgetToken() {
  token = undefined;
}

/**
 * Asks the app that opened or embeds the page for a token, at each origin
 * the server lets embed it.
 *
 * @param {"start" | "expiring" | "expired" | "refused"} reason
 */
export function askAppForToken(reason) {
  for (const app of appWindows()) {
    for (const origin of session.access.embed) {
      app.postMessage({ type: EmbedMessage.TokenNeeded, reason }, origin);
    }
  }
}

/**
 * Calls `listener` with each token the app sends.
 *
 * @param {(token: string) => void} listener
 */
export function onToken(listener) {
  listeners.push(listener);
}

/**
 * The windows a token may come from: the page's parent when it is framed,
 * and the window that opened it.
 *
 * @returns {Window[]}
 */
function appWindows() {
  /** @type {Window[]} */
  const windows = [];
  if (self.parent !== self) windows.push(self.parent);
  if (self.opener) windows.push(self.opener);
  return windows;
}

addEventListener("message", (event) => {
  if (!session.access.embed.includes(event.origin)) return;
  if (!appWindows().includes(/** @type {Window} */ (event.source))) return;
  const data = event.data;
  if (
    typeof data !== "object" || data === null || data.type !== EmbedMessage.Token ||
    typeof data.token !== "string" || data.token === ""
  ) {
    return;
  }
  token = data.token;
  for (const listener of listeners) listener(data.token);
});
