/**
 * The conversation as the page shows it: lines in the chat, a file offer
 * with its choice, the verification code. Everything a peer or the server
 * chose is shown through `printable()`.
 *
 * @module
 */

import { printable } from "../shared/printable.js";
import { verificationCode } from "../shared/verification.js";
import { ui } from "./elements.js";
import { session } from "./session.js";

/**
 * Adds a line to the chat.
 *
 * @param {"mine" | "theirs" | "system"} kind
 * @param {string} text
 * @param {string} [who]
 * @param {boolean} [viaServer] Whether the server carried it.
 * @returns {HTMLLIElement}
 */
export function addLine(kind, text, who, viaServer = false) {
  const item = document.createElement("li");
  item.className = kind;
  item.dataset.path = viaServer ? "server" : "p2p";
  if (who) {
    const name = document.createElement("span");
    name.className = "who";
    name.textContent = printable(who);
    item.append(name);
  }
  item.append(document.createTextNode(printable(text)));
  if (viaServer) {
    const via = document.createElement("span");
    via.className = "via";
    via.textContent = "via server";
    item.append(via);
  }
  ui.messages.append(item);
  item.scrollIntoView({ block: "nearest" });
  return item;
}

/**
 * A button that does `onClick`.
 *
 * @param {string} label
 * @param {() => void} onClick
 * @param {string} [className] `secondary` for the choice that is not the main one.
 * @returns {HTMLButtonElement}
 */
export function button(label, onClick, className) {
  const control = document.createElement("button");
  control.type = "button";
  control.textContent = label;
  if (className) control.className = className;
  control.addEventListener("click", onClick);
  return control;
}

/**
 * An id cut to its first eight characters, for the status line.
 *
 * @param {string} id
 * @returns {string}
 */
export function short(id) {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

/**
 * Announces a file the partner offers where the user looks: in the status
 * and in the chat, with the choice right there (the Files card has it too).
 *
 * @param {import("./files_ui.js").OfferNotice} offer
 * @returns {import("./files_ui.js").OfferAnnouncement}
 */
export function announceOffer(offer) {
  const from = session.partner === undefined ? "Your partner" : short(session.partner);
  const notice = printable(`${from} offers a file: ${offer.description}`);
  ui.status.textContent = notice;
  const item = addLine("system", `${from} offers ${offer.description}`);
  item.classList.add("offer");
  const choice = document.createElement("span");
  choice.className = "choice";
  choice.append(
    button("Accept", offer.accept),
    button("Reject", offer.reject, "secondary"),
  );
  item.append(choice);
  return {
    settle(outcome) {
      choice.replaceChildren(printable(outcome));
      if (ui.status.textContent === notice) ui.status.textContent = printable(session.words);
    },
  };
}

/**
 * Shows the verification code of an open connection, or hides it.
 *
 * @param {import("../shared/rtc_types.js").PeerConnectionLike | undefined} connection
 */
export function showVerification(connection) {
  const code = connection === undefined ? undefined : verificationCode(
    connection.localDescription?.sdp ?? "",
    connection.remoteDescription?.sdp ?? "",
  );
  ui.verifyCode.textContent = code ?? "";
  ui.verification.hidden = !code;
}
