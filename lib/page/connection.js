/**
 * The page's connection to the server it was served from: always a
 * resumable session; when the connection is lost it reconnects with backoff,
 * shows `reconnecting`, and resumes its id and pairing if the server still
 * holds them. With an API key or an access token, it is offered as the
 * subprotocol `switchboard.key.<credential>` next to `switchboard`: a
 * browser cannot set headers on a WebSocket, and a credential in the URL
 * would land in access logs. A token comes from the app that opened the
 * page (`access_token.js`), which is asked again when it runs out.
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
import { askAppForToken, currentToken, forgetToken } from "./access_token.js";
import { serverAccess, serverReady } from "./server_probe.js";

/** Reconnect attempts in a row before the page gives up and shows `closed`. */
const MAX_RETRIES = 10;
/** The first wait before reconnecting; it doubles each attempt, up to the cap. */
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;

/** The reason of the 1008 close the server sends the clients of a revoked key. */
const KEY_REVOKED = "key revoked";

/** The reason of the 1008 close the server sends a client whose access token expired. */
const TOKEN_EXPIRED = "token expired";

/**
 * Connects, resuming the session when there is a resume token; without the
 * key or access token the server wants, shows the key form or waits for the
 * app's token instead.
 *
 * @param {import("./server_probe.js").Access} access What the server wants.
 */
export function connect(access) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  session.access = access;
  const token = access.tokens ? currentToken() : undefined;
  const key = token ?? (access.auth ? storedKey() : null);
  if (!key && (access.auth || access.tokens)) {
    if (access.tokens) waitForToken("start", "Waiting for an access token from the app");
    else askForKey("This server needs an API key");
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
    const ended = event.code === CloseCode.PolicyViolation &&
      (event.reason === KEY_REVOKED || event.reason === TOKEN_EXPIRED);
    if (ended) {
      // The server ended the session with the credential: nothing is left to resume.
      endLink();
      session.token = undefined;
      ui.requests.replaceChildren();
      ui.copyLink.disabled = true;
      if (event.reason === TOKEN_EXPIRED) {
        forgetToken();
        waitForToken("expired", "The access token expired: waiting for a fresh one from the app");
      } else {
        forgetKey();
        askForKey("The server revoked this API key: enter another one to reconnect");
      }
      return;
    }
    if (opened) reconnectLater(access, event);
    else void refused(access, event, key !== null, token !== undefined);
  });
}

/**
 * Shows that the page waits for the app's access token, and asks the app;
 * the token's arrival connects (see `app.js`).
 *
 * @param {"start" | "expired" | "refused"} reason
 * @param {string} words
 */
function waitForToken(reason, words) {
  setState("token", words);
  askAppForToken(reason);
}

/**
 * A connection closed before it opened. A browser is not told why, so the
 * server is asked: one that is up and wants a credential refused this tab's
 * (an access token is then asked of the app again), or wants one this tab
 * never had (it was opened before the server wanted keys). Anything else is
 * the network or a server on its way down or up: try again.
 *
 * @param {import("./server_probe.js").Access} access What the connection was made for.
 * @param {CloseEvent} event
 * @param {boolean} sentKey Whether it offered a key or token.
 * @param {boolean} sentToken Whether that was an access token.
 */
async function refused(access, event, sentKey, sentToken) {
  const [wants, ready] = await Promise.all([serverAccess(), serverReady()]);
  if (wants?.tokens && ready && (sentToken || !wants.auth)) {
    session.access = wants;
    forgetToken();
    waitForToken(
      sentToken ? "refused" : "start",
      sentToken
        ? "The server refused the access token: waiting for a fresh one from the app"
        : "Waiting for an access token from the app",
    );
    return;
  }
  if (wants?.auth === true && ready) {
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
  reconnectLater(wants ?? access, event);
}

/**
 * Tries again after a backoff, counting the seconds down, or gives up.
 *
 * @param {import("./server_probe.js").Access} access
 * @param {CloseEvent} event
 */
function reconnectLater(access, event) {
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
      connect(access);
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
