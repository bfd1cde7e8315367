/**
 * The browser page: connects to the server it was served from, pairs by
 * consent, opens a data channel with `PeerLink` (the same negotiation as the
 * command-line peer) and chats over it, or through the server when
 * peer-to-peer is not possible. This module wires the controls and starts;
 * each part is a module of its own:
 *
 * - `page_params.js`: the query (`peer=<id>`, `relay=1`, `p2p_timeout=<seconds>`) and
 *   the fragment (`#code=7-tidy-orbit`);
 * - `connection.js`: the resumable session with the server, reconnects, the API key;
 * - `access_token.js`: the access token the app that opened or embeds the page gives it;
 * - `server_messages.js`: what each message from the server does;
 * - `pairing.js`: requests, the data channel, leaving;
 * - `codes.js`: pairing by code (shared with the terminal in `code_session.js`);
 * - `status.js`, `chat_view.js`, `key_form.js`, `files_ui.js`: what the user sees;
 * - `warm_up.js`: a certificate made ahead and a throw-away connection, while it waits.
 *
 * When the server wants an API key (its `/config.json` says `auth: true`), the
 * page asks for it once and keeps it for this tab. A connection refused
 * before it opens by a server that is up and wants a key asks for one
 * (again); so does a close with 1008 `key revoked`. When it takes access
 * tokens (`tokens: true`), the page waits for the app's token instead, and
 * asks the app again when it runs out (`access_token.js`). A tab opened before the
 * server wanted keys asks too.
 *
 * Everything a peer or the server chose (ids, names, chat, reasons) is shown
 * through `printable()`: no control or text-reordering character reaches the
 * page as it is.
 *
 * For tests, `document.body.dataset.state` is one of `key`, `token`, `connecting`,
 * `ready`, `pairing`, `negotiating`, `open`, `relay`, `left`, `reconnecting`,
 * `closed`; once open, `document.body.dataset.path` is `direct` or `relay`
 * (through TURN).
 *
 * @module
 */

import { ui } from "./elements.js";
import { sendToServer, session } from "./session.js";
import { askToPair, leave, sendChat } from "./pairing.js";
import { getCode, useCode } from "./codes.js";
import { looksLikeCode, NOT_A_CODE } from "../shared/pairing_code.js";
import { addLine } from "./chat_view.js";
import { connect } from "./connection.js";
import { onKeyEntered } from "./key_form.js";
import { OPEN, serverAccess } from "./server_probe.js";
import { onToken } from "./access_token.js";
import { MessageType } from "../shared/protocol.js";
import { copyButton } from "./copy_button.js";
// Warms the page's WebRTC stack while it waits for a partner.
import "./warm_up.js";

copyButton(ui.copyLink, ui.shareLink);

ui.pairForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // A code pairs by code; a mistyped one is never sent (the server would see its words);
  // anything else is an id to ask.
  if (useCode(ui.peerId.value)) {
    // Used, or said why not.
  } else if (looksLikeCode(ui.peerId.value)) {
    addLine("system", NOT_A_CODE);
    return;
  } else {
    askToPair(ui.peerId.value);
  }
  ui.peerId.value = "";
});

ui.getCode.addEventListener("click", getCode);

ui.chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.message.value;
  if (!text.trim() || session.partner === undefined) return;
  if (sendChat(text)) ui.message.value = "";
});

ui.leave.addEventListener("click", leave);

onKeyEntered(() => connect({ ...session.access, auth: true }));

// A token from the app: the connection that waited for one starts, and a
// connected one renews its token on the open connection.
onToken((token) => {
  if (session.connected) sendToServer({ type: MessageType.Refresh, token });
  else if (document.body.dataset.state === "token") connect(session.access);
});

/** Asks the server whether it wants a key or a token, then connects. */
async function start() {
  // Unreachable: the WebSocket will say so.
  connect(await serverAccess() ?? OPEN);
}

start();
