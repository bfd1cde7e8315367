/**
 * The page's query parameters: `peer=<id>` asks that client to pair at once,
 * once; `relay=1` uses TURN relays only; `p2p_timeout=<seconds>` (default
 * 15, at most 300) is how long the data channel may take to open; `warm=0`
 * skips the WebRTC warm-up (`warm_up.js`). And its
 * fragment: `#code=7-tidy-orbit` pairs by that code, once (a fragment never
 * reaches a server, so neither does the code's password); `#token=<jwt>` is
 * the access token the app that opened the page minted for its user.
 *
 * @module
 */

import { CODE_FRAGMENT } from "../shared/pairing_code.js";
import { TOKEN_FRAGMENT } from "../shared/protocol.js";

const params = new URLSearchParams(location.search);

/**
 * Whether the page warms its WebRTC stack while it waits (`?warm=0` turns it
 * off: for the benchmark's reference, a page as it was before).
 */
export const warmUp = params.get("warm") !== "0";

/** Whether the peer connection may use TURN relays only (`?relay=1`). */
export const relayOnly = params.get("relay") === "1";

const p2pTimeoutS = Number(params.get("p2p_timeout") ?? "15");

/** How long the data channel may take to open, in milliseconds (`?p2p_timeout=`). */
export const P2P_TIMEOUT_MS = Number.isFinite(p2pTimeoutS) && p2pTimeoutS > 0
  ? Math.min(p2pTimeoutS, 300) * 1000
  : 15_000;

/**
 * `?peer=` asks once: it is taken out of the address bar, so neither a new
 * session after a server restart nor a reload asks again.
 *
 * @type {string | undefined}
 */
let peerToAsk = params.get("peer") ?? undefined;
if (peerToAsk !== undefined) {
  const address = new URL(location.href);
  address.searchParams.delete("peer");
  history.replaceState(history.state, "", address);
}

/**
 * The client `?peer=` named, the first time it is asked for; `undefined` after.
 *
 * @returns {string | undefined}
 */
export function takePeerToAsk() {
  const wanted = peerToAsk;
  peerToAsk = undefined;
  return wanted;
}

const fragment = new URLSearchParams(location.hash.slice(1));

/**
 * `#code=` pairs once: it leaves the address bar at once, so it is neither in
 * the history nor tried again on a reload (the code is spent by then).
 *
 * @type {string | undefined}
 */
let codeToUse = fragment.get(CODE_FRAGMENT) ?? undefined;

/**
 * `#token=` leaves the address bar at once too: a token is a credential,
 * for neither the history nor a bookmark.
 *
 * @type {string | undefined}
 */
let tokenGiven = fragment.get(TOKEN_FRAGMENT) || undefined;
if (codeToUse !== undefined || tokenGiven !== undefined) {
  const address = new URL(location.href);
  address.hash = "";
  history.replaceState(history.state, "", address);
}

/**
 * The code `#code=` carried, the first time it is asked for; `undefined` after.
 *
 * @returns {string | undefined}
 */
export function takeCodeToUse() {
  const code = codeToUse;
  codeToUse = undefined;
  return code;
}

/**
 * The access token `#token=` carried, the first time it is asked for; `undefined` after.
 *
 * @returns {string | undefined}
 */
export function takeGivenToken() {
  const token = tokenGiven;
  tokenGiven = undefined;
  return token;
}
