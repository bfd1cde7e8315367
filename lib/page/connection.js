/**
 * The page's connection to the server it was served from: always a
 * resumable session; when the connection is lost it reconnects with backoff,
 * shows `reconnecting`, and resumes its id and pairing if the server still
 * holds them. With an API key, the key is offered as the subprotocol
 * `switchboard.key.<key>` next to `switchboard`: a browser cannot set headers
 * on a WebSocket, and a key in the URL would land in access logs.
 *
 * @module
 */

import {
  CloseCode,
  KEY_SUBPROTOCOL_PREFIX,
  readServerMessage,
  SUBPROTOCOL,
} from "../shared/protocol.js";
import { backoffDelay } from "../shared/backoff.js";
import { resumeUrl } from "../shared/resume_params.js";
import { ui } from "./elements.js";
import { session } from "./session.js";
import { setState } from "./status.js";
import { endLink } from "./pairing.js";
import { receive } from "./server_messages.js";
import { askForKey, forgetKey, storedKey } from "./key_form.js";
import { serverReady, wantsKey } from "./server_probe.js";

/** Reconnect attempts in a row before the page gives up and shows `closed`. */
const MAX_RETRIES = 10;
/** The first wait before reconnecting; it doubles each attempt, up to the cap. */
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;

/** The reason of the 1008 close the server sends the clients of a revoked key. */
const KEY_REVOKED = "key revoked";

/**
 * Connects, resuming the session when there is a token; without the key a
 * server wants, shows the key form instead.
 *
 * @param {boolean} auth Whether the server wants a key.
 */
export function connect(auth) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const key = auth ? storedKey() : null;
  if (auth && !key) {
    askForKey("This server needs an API key");
    return;
  }
  session.resuming = session.token !== undefined;
  const url = resumeUrl(`${scheme}://${location.host}/`, session.token);
  if (session.myId === "") setState("connecting", "Connecting…");
  const socket = key
    ? new WebSocket(url, [SUBPROTOCOL, `${KEY_SUBPROTOCOL_PREFIX}${key}`])
    : new WebSocket(url);
  session.socket = socket;
  let opened = false;
  socket.addEventListener("open", () => opened = true);
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const checked = readServerMessage(event.data);
    if (checked.ok) receive(checked.message);
    else console.warn(`Dropped a message from the server: ${checked.reason}`);
  });
  socket.addEventListener("close", (event) => {
    session.connected = false;
    if (event.code === CloseCode.PolicyViolation && event.reason === KEY_REVOKED) {
      // The server ended the session with the key: nothing is left to resume.
      forgetKey();
      endLink();
      session.token = undefined;
      ui.requests.replaceChildren();
      ui.copyLink.disabled = true;
      askForKey("The server revoked this API key: enter another one to reconnect");
      return;
    }
    if (opened) reconnectLater(auth, event);
    else void refused(auth, event, key !== null);
  });
}

/**
 * A connection closed before it opened. A browser is not told why, so the
 * server is asked: one that is up and wants a key refused this tab's key, or
 * wants one this tab never had (it was opened before the server wanted
 * keys). Anything else is the network or a server on its way down or up:
 * try again.
 *
 * @param {boolean} auth Whether this connection was made with a key in mind.
 * @param {CloseEvent} event
 * @param {boolean} sentKey Whether it offered one.
 */
async function refused(auth, event, sentKey) {
  const [wants, ready] = await Promise.all([wantsKey(), serverReady()]);
  if (wants === true && ready) {
    forgetKey();
    askForKey(
      sentKey
        ? "The server did not accept the connection: check the API key"
        : session.myId === ""
        ? "This server needs an API key"
        : "The server now needs an API key: enter one to reconnect",
    );
    return;
  }
  reconnectLater(wants ?? auth, event);
}

/**
 * Tries again after a backoff, counting the seconds down, or gives up.
 *
 * @param {boolean} auth
 * @param {CloseEvent} event
 */
function reconnectLater(auth, event) {
  // Another connection resumed this session: two pages must not fight over it.
  if (event.code === CloseCode.Superseded || session.retries >= MAX_RETRIES) {
    endLink();
    setState(
      "closed",
      `Disconnected from the server${event.reason ? `: ${event.reason}` : ""}; reload to reconnect`,
    );
    ui.copyLink.disabled = true;
    return;
  }
  // Without a token nothing can be resumed: the pairing is over.
  if (session.token === undefined) endLink();
  session.retries++;
  const at = performance.now() + backoffDelay(session.retries, RETRY_BASE_MS, RETRY_CAP_MS);
  const tick = () => {
    const left = at - performance.now();
    if (left <= 0) {
      setState("reconnecting", "Connection to the server lost; reconnecting…");
      connect(auth);
      return;
    }
    setState(
      "reconnecting",
      `Connection to the server lost; reconnecting in ${Math.ceil(left / 1000)} s…`,
    );
    // The next whole second.
    setTimeout(tick, left % 1000 || 1000);
  };
  tick();
}
