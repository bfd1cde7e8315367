/**
 * What the page does with each message from the server, once it has passed
 * the protocol's checks (`readServerMessage()` in the shared protocol).
 *
 * @module
 */

import { ErrorCode, MessageType, toIceServers } from "../shared/protocol.js";
import { printable } from "../shared/printable.js";
import { ui } from "./elements.js";
import { takeCodeToUse, takePeerToAsk } from "./page_params.js";
import { NOT_A_CODE } from "../shared/pairing_code.js";
import { CODE_MESSAGES, codes, pairedByServer, useCode } from "./codes.js";
import { deviceEnded, devicePaired, showDevices, takeDeviceMessage } from "./devices.js";
import { session } from "./session.js";
import { askAppForToken } from "./access_token.js";
import { setState } from "./status.js";
import { addLine, short } from "./chat_view.js";
import {
  askToPair,
  carryOn,
  END_TO_END_ONLY,
  endLink,
  showRequest,
  withdrawRequest,
} from "./pairing.js";

/**
 * Acts on a checked message from the server.
 *
 * @param {import("../shared/protocol.js").Envelope} message A message that
 *   fits the protocol's server schema: its fields have their kinds.
 */
export function receive(message) {
  // The schema checked each field's kind; this reads the text fields as such.
  const text = (/** @type {string} */ key) => String(message[key] ?? "");
  if (takeDeviceMessage(message)) return;
  if (CODE_MESSAGES.has(message.type)) {
    codes.take(message);
    return;
  }
  switch (message.type) {
    case MessageType.YourId:
      session.receiveFiles = message.receive_files !== false;
      takeId(text("id"));
      break;
    case MessageType.Session:
      session.token = text("resume_token");
      break;
    case MessageType.PeerReconnecting:
      if (text("peer") !== session.partner) break;
      addLine("system", `${text("peer")} lost its connection; waiting for it to come back`);
      ui.status.textContent = printable(`${short(text("peer"))} is reconnecting…`);
      break;
    case MessageType.PeerBack:
      if (text("peer") !== session.partner) break;
      addLine("system", `${text("peer")} is back`);
      carryOn();
      break;
    case MessageType.PairRequest:
      showRequest(text("from"));
      break;
    case MessageType.PairCancelled:
      withdrawRequest(text("from"), text("reason"));
      break;
    case MessageType.Paired:
      pairedByServer({
        type: message.type,
        peer: text("peer"),
        initiator: message.initiator === true,
        by_code: message.by_code === true,
        by_device: message.by_device === true,
        iceServers: toIceServers(message.iceServers),
      });
      devicePaired({
        peer: text("peer"),
        initiator: message.initiator === true,
        by_device: message.by_device === true,
        iceServers: message.iceServers,
      });
      break;
    case MessageType.PairRejected:
      if (session.partner === undefined) {
        setState("ready", `Pair request to ${short(text("peer"))} ended (${text("reason")})`);
      }
      break;
    case MessageType.PeerLeft:
      if (text("peer") !== session.partner) break;
      endLink();
      codes.ended();
      deviceEnded();
      setState("left", `${short(text("peer"))} left (${text("reason")})`);
      addLine("system", `${text("peer")} left (${text("reason")})`);
      break;
    case MessageType.Offer:
    case MessageType.Answer:
    case MessageType.Candidate:
      if (text("from") === session.partner) session.link?.handle(message);
      break;
    case MessageType.Relay:
      if (text("from") !== session.partner) break;
      if (session.endToEndOnly) {
        addLine("system", `A line came through the server, not shown: ${END_TO_END_ONLY}`);
        break;
      }
      addLine(
        "theirs",
        typeof message.data === "string" ? message.data : JSON.stringify(message.data),
        short(text("from")),
        true,
      );
      break;
    case MessageType.TokenExpiring:
      // The app's fresh token renews it on this connection (`app.js`).
      askAppForToken("expiring");
      break;
    case MessageType.TokenRefreshed:
      // For tests and embedding apps that look: how long the renewed token lasts.
      document.body.dataset.tokenLeft = String(message.expires_s);
      break;
    case MessageType.Error:
      // The new id's line has said it already.
      if (message.code === ErrorCode.ResumeFailed) break;
      if (message.code === ErrorCode.UnknownNameplate || message.code === ErrorCode.TooManyCodes) {
        codes.refused();
      }
      addLine("system", `Server: ${text("message")}`);
      if (session.partner === undefined && document.body.dataset.state === "pairing") {
        setState("ready", `Could not pair: ${text("message")}`);
      }
      break;
  }
}

/**
 * `your_id`: the session resumed (same id), or a new one began, with a link
 * to share; a `?peer=` waiting for an id is asked now.
 *
 * @param {string} id
 */
function takeId(id) {
  const resuming = session.resuming;
  session.resuming = false;
  session.retries = 0;
  session.connected = true;
  if (resuming && id === session.myId) {
    addLine(
      "system",
      session.partner === undefined
        ? `Reconnected as ${id}`
        : `Reconnected as ${id}; still paired with ${session.partner}`,
    );
    carryOn();
    return;
  }
  if (resuming) {
    const partner = session.partner;
    endLink();
    session.token = undefined;
    addLine(
      "system",
      `Could not resume the session${
        partner === undefined ? "" : ` (no longer paired with ${partner})`
      }: your new id is ${id}`,
    );
  }
  session.myId = id;
  ui.myId.textContent = session.myId;
  const link = new URL(location.pathname, location.href);
  link.searchParams.set("peer", session.myId);
  ui.shareLink.value = link.href;
  ui.copyLink.disabled = false;
  setState("ready", "Waiting: share your link, or enter a partner's id");
  const wanted = takePeerToAsk();
  if (wanted && wanted !== session.myId) askToPair(wanted);
  void showDevices();
  const code = takeCodeToUse();
  if (code !== undefined && !useCode(code)) {
    addLine("system", `The link's code: ${NOT_A_CODE}`);
  }
}
