/**
 * Pairing by consent and the data channel to the partner: asking, the pair
 * requests to answer, and a `PeerLink` (the same negotiation as the
 * command-line peer) from `paired` until the pairing ends. When the channel
 * cannot open, or closes, messages go via the server.
 *
 * @module
 */

import { FILES_NOT_GRANTED, MessageType } from "../shared/protocol.js";
import { PATH_WORDS, PeerLink } from "../shared/peer_link.js";
import { printable } from "../shared/printable.js";
import { ui } from "./elements.js";
import { FilesPanel } from "./files_ui.js";
import { P2P_TIMEOUT_MS, relayOnly } from "./page_params.js";
import { withCertificate } from "./warm_up.js";
import { sendToServer, session } from "./session.js";
import { setState, updateControls } from "./status.js";
import { addLine, announceOffer, button, short, showVerification } from "./chat_view.js";

/** @typedef {import("../shared/protocol.js").IceServer} IceServer */

/**
 * A channel that closes after it was open most often means the partner left,
 * and the server says so (`peer_left`, `peer_reconnecting`) within this long:
 * only then does the page say that messages go via the server.
 */
const LEFT_GRACE_MS = 2000;

/** The page's file transfers, for one partner at a time. */
const files = new FilesPanel({ onOffer: announceOffer });

/**
 * Asks `target` to pair.
 *
 * @param {string} target An id as the user typed it.
 */
export function askToPair(target) {
  const id = target.trim();
  if (!id) return;
  if (sendToServer({ type: MessageType.PairRequest, target: id })) {
    setState("pairing", `Request sent to ${short(id)}; waiting for an answer`);
  } else {
    addLine("system", "Not connected to the server: the request was not sent");
  }
}

/**
 * Shows a pair request with its Accept and Reject buttons (once per client).
 *
 * @param {string} from
 */
export function showRequest(from) {
  for (const item of ui.requests.children) {
    if (/** @type {HTMLElement} */ (item).dataset.from === from) return;
  }
  const item = document.createElement("li");
  item.dataset.from = from;
  const id = document.createElement("code");
  id.textContent = printable(from);
  const accept = button("Accept", () => {
    if (sendToServer({ type: MessageType.PairAccept, from })) item.remove();
  });
  const reject = button("Reject", () => {
    if (sendToServer({ type: MessageType.PairReject, from })) item.remove();
  }, "secondary");
  item.append(id, accept, reject);
  ui.requests.append(item);
  if (session.partner === undefined) setState("pairing", `Pair request from ${short(from)}`);
  accept.focus();
}

/**
 * A request ended before this page answered it: its buttons go.
 *
 * @param {string} from
 * @param {string} reason
 */
export function withdrawRequest(from, reason) {
  const item = [...ui.requests.children].find((li) =>
    /** @type {HTMLElement} */ (li).dataset.from === from
  );
  if (item === undefined) return;
  item.remove();
  if (session.partner === undefined && document.body.dataset.state === "pairing") {
    setState("ready", `The pair request from ${short(from)} ended (${reason})`);
  }
}

/** @typedef {import("./session.js").ProvenByCode} ProvenByCode */

/**
 * The pair is made (and, paired by code, the code proven): negotiates a
 * data channel with `peer`.
 *
 * @param {string} peer
 * @param {boolean} initiator
 * @param {IceServer[]} iceServers
 * @param {ProvenByCode} [code]
 */
export function startLink(peer, initiator, iceServers, code) {
  session.link?.close();
  session.partner = peer;
  session.pairing = code ? { initiator, iceServers, code } : { initiator, iceServers };
  ui.requests.replaceChildren();
  setState("negotiating", `Negotiating a peer-to-peer connection with ${short(peer)}…`);
  let opened = false;
  const link = new PeerLink({
    initiator,
    // The DOM types its handlers' events more narrowly than the shared shape
    // (`Event`, not `unknown`), so the browser's connection is cast to it.
    createPeerConnection:
      async () => /** @type {import("../shared/rtc_types.js").PeerConnectionLike} */ (/** @type {unknown} */ (
        new RTCPeerConnection(
          await withCertificate({ iceServers, iceTransportPolicy: relayOnly ? "relay" : "all" }),
        )
      )),
    signal: (message) => sendToServer(message),
    onChannel: (channel) => {
      const fileChannel = /** @type {import("../shared/rtc_types.js").FileChannelLike} */ (
        /** @type {unknown} */ (channel)
      );
      if (session.link === link) {
        files.incoming(fileChannel, session.receiveFiles ? undefined : FILES_NOT_GRANTED);
      } else channel.close();
    },
    timeoutMs: P2P_TIMEOUT_MS,
    relayOnly,
    ...(code ? { binding: code.binding } : {}),
    debug: (text) => console.debug(`Peer connection: ${text}`),
    onEvent: (event) => {
      if (session.link !== link) return;
      switch (event.kind) {
        case "open": {
          const path = event.path ? `, ${PATH_WORDS[event.path]}` : "";
          document.body.dataset.path = event.path ?? "";
          opened = true;
          setState("open", `Peer-to-peer with ${short(peer)} (opened in ${event.ms} ms${path})`);
          addLine("system", `Data channel open with ${peer} (${event.ms} ms${path})`);
          showVerification(link.connection);
          files.opened(link.connection);
          break;
        }
        case "message":
          addLine("theirs", event.text, short(peer));
          break;
        case "failed":
          files.closed(event.reason);
          showVerification(undefined);
          // Paired by code, a description changed on the way ends the pairing: no fall-back.
          if (event.tampered) {
            code?.tampered(event.reason);
            break;
          }
          if (!opened) {
            fallBack(link, event.reason);
            break;
          }
          if (document.body.dataset.state === "open") {
            setState("open", `The peer-to-peer channel with ${short(peer)} closed`);
          } else {
            updateControls();
          }
          setTimeout(() => fallBack(link, event.reason), LEFT_GRACE_MS);
          break;
      }
    },
  });
  session.link = link;
  link.start();
  ui.message.focus();
}

/**
 * The data channel failed and the pairing goes on: messages go via the
 * server, if it is there. Nothing is said when the pairing ended meanwhile.
 *
 * @param {PeerLink} link
 * @param {string} reason
 */
function fallBack(link, reason) {
  if (session.link !== link) return;
  if (session.endToEndOnly) {
    addLine(
      "system",
      `No peer-to-peer channel (${reason}): ${END_TO_END_ONLY}; leave and pair again`,
    );
    updateControls();
    return;
  }
  if (!session.connected) {
    addLine(
      "system",
      `No peer-to-peer channel (${reason}); it is negotiated again once the server is back`,
    );
    updateControls();
    return;
  }
  setState("relay", `Via server: ${reason}`);
  addLine("system", `No peer-to-peer channel (${reason}); messages go via the server`);
}

/** The pairing is over: the channel, its transfers and the partner go. */
export function endLink() {
  if (session.link) files.closed("the pairing ended");
  showVerification(undefined);
  session.link?.close();
  session.link = undefined;
  session.partner = undefined;
  session.pairing = undefined;
  session.endToEndOnly = false;
}

/**
 * After a resume (this page's, or the partner's `peer_back`): a channel that
 * survived carries on; one that did not is negotiated afresh, same roles.
 */
export function carryOn() {
  const peer = session.partner;
  if (peer === undefined) {
    setState("ready", "Reconnected; waiting: share your link, or enter a partner's id");
  } else if (session.link?.state === "open") {
    setState("open", `Peer-to-peer with ${short(peer)}`);
  } else if (session.pairing) {
    const { initiator, iceServers, code } = session.pairing;
    startLink(peer, initiator, iceServers, code);
  }
}

/**
 * Why a pairing by code or by remembered device does not use the server's
 * relay: it was proven end to end, and the relay is the server's to read
 * and to forge.
 */
export const END_TO_END_ONLY =
  "a pairing by code or by remembered device talks only over its proven channel";

/** The user leaves the conversation. */
export function leave() {
  leaveQuietly();
  setState("ready", "You left; waiting for a new partner");
  addLine("system", "You left the conversation");
}

/** Ends the pairing without a word of its own (the caller says why). */
export function leaveQuietly() {
  // The server's word goes first: the partner hears "left" rather than a closed channel.
  sendToServer({ type: MessageType.Unpair });
  endLink();
}

/**
 * Sends a chat line: on the data channel when it is open, else via the server.
 *
 * @param {string} text
 * @returns {boolean} Whether it went.
 */
export function sendChat(text) {
  if (session.link?.send(text)) {
    addLine("mine", text, "You");
  } else if (session.endToEndOnly) {
    addLine("system", `Not sent: ${END_TO_END_ONLY}, which is not open`);
    return false;
  } else if (sendToServer({ type: MessageType.Relay, data: text })) {
    addLine("mine", text, "You", true);
  } else {
    addLine("system", "Not connected: the message was not sent");
    return false;
  }
  return true;
}
