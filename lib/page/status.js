/**
 * The page's state, in words for people and in `document.body.dataset.state`
 * for tests, and the controls that can work in it.
 *
 * @module
 */

import { PATH_WORDS } from "../shared/peer_link.js";
import { printable } from "../shared/printable.js";
import { ui } from "./elements.js";
import { session } from "./session.js";

/**
 * Shows the state in words and in `data-state`.
 *
 * @param {string} state One of `key`, `connecting`, `ready`, `pairing`,
 *   `negotiating`, `open`, `relay`, `left`, `reconnecting`, `closed`.
 * @param {string} words
 */
export function setState(state, words) {
  document.body.dataset.state = state;
  session.words = words;
  ui.status.textContent = printable(words);
  updateControls();
}

/**
 * Enables only what can work now, and names the path messages take only
 * when there is one: the data channel, or the server while it is connected.
 */
export function updateControls() {
  const state = document.body.dataset.state;
  const paired = session.partner !== undefined;
  const p2p = session.link?.state === "open";
  const online = session.connected;
  ui.message.disabled = ui.send.disabled = !(paired && (p2p || online));
  ui.leave.disabled = !(paired && online);
  ui.peerId.disabled = ui.askToPair.disabled = ui.getCode.disabled = !online || paired;
  if (paired) ui.codeBox.hidden = true;
  ui.path.textContent = p2p
    ? document.body.dataset.path === "relay" ? `peer-to-peer ${PATH_WORDS.relay}` : "peer-to-peer"
    : online && paired && (state === "relay" || state === "negotiating")
    ? "via server"
    : "";
}
