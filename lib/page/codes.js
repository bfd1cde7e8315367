/**
 * Pairing by code on the page: "Get a code" shows the code, its link and a
 * QR code; a code typed in the pair box (or carried by `#code=` in the
 * page's address) pairs with its holder. The exchange that proves the code,
 * and binds the connection to it, is the shared `CodeSession`'s, as in the
 * terminal.
 *
 * @module
 */

import { CodeSession } from "../shared/code_session.js";
import { CodeFailure } from "../shared/code_exchange.js";
import { codeLink, parseCode } from "../shared/pairing_code.js";
import { qrSvg } from "../shared/qr_code.js";
import { MessageType, toIceServers } from "../shared/protocol.js";
import { ui } from "./elements.js";
import { sendToServer, session } from "./session.js";
import { setState } from "./status.js";
import { addLine, short } from "./chat_view.js";
import { leaveQuietly, startLink } from "./pairing.js";
import { copyButton } from "./copy_button.js";

/**
 * What a person reads when the exchange fails, by who found out.
 *
 * @type {Readonly<Record<string, (fromPartner: boolean) => string>>}
 */
const FAILURE_WORDS = {
  [CodeFailure.WrongCode]: () =>
    "The code did not match: the other side has another password. Nothing was connected, and " +
    "the code is spent; get a new one.",
  [CodeFailure.Tampered]: (fromPartner) =>
    `${fromPartner ? "Refused by the other side" : "Refused"}: the connection details were ` +
    "changed on the way, so someone between you (the server or the network) may be listening " +
    "in. Nothing was connected.",
  [CodeFailure.Timeout]: () =>
    "The other side did not finish checking the code in time: nothing was connected.",
  [CodeFailure.Malformed]: () =>
    "The other side answered the code with something that is not a valid key exchange: nothing " +
    "was connected.",
};

/**
 * What the code session tells the rest of the page: `matched` and
 * `identity` (the partner sent its device key), each with the partner's id.
 */
export const codeEvents = new EventTarget();

/** This page's codes: the one it shows, the one typed, the exchange that proves it. */
export const codes = new CodeSession({
  send: sendToServer,
  leave: leaveQuietly,
  proven: (paired, binding) => {
    const iceServers = toIceServers(/** @type {{ iceServers?: unknown }} */ (paired).iceServers);
    startLink(paired.peer, paired.initiator, iceServers, {
      binding,
      tampered: () => codes.tampered(),
    });
  },
  onEvent: (event) => {
    switch (event.kind) {
      case "code":
        showCode(event.code, event.expiresS);
        break;
      case "using":
        setState("pairing", `Pairing by the code ${event.code}…`);
        break;
      case "expired":
        ui.codeBox.hidden = true;
        addLine("system", `Your code ${event.code} expired unused; get a new one`);
        break;
      case "checking":
        ui.codeBox.hidden = true;
        setState("negotiating", `Checking the code with ${short(event.peer)}…`);
        break;
      case "matched":
        addLine("system", `The code matched: ${event.peer} knows it too; connecting end to end`);
        codeEvents.dispatchEvent(new CustomEvent("matched", { detail: event.peer }));
        break;
      case "failed": {
        const words = (FAILURE_WORDS[event.failure] ?? FAILURE_WORDS[CodeFailure.Malformed])?.(
          event.fromPartner,
        ) ?? "";
        addLine("system", words);
        setState("ready", words);
        document.body.dataset.codeFailure = event.failure;
        break;
      }
      case "stranger":
        addLine("system", "Paired by a code this page knows nothing of; leaving");
        break;
      case "identity":
        codeEvents.dispatchEvent(new CustomEvent("identity", { detail: event.peer }));
        break;
    }
  },
});

/** "Get a code": asks the server for a nameplate. */
export function getCode() {
  delete document.body.dataset.codeFailure;
  codes.claim();
}

/**
 * Pairs by a code as typed, or says it is not one.
 *
 * @param {string} text
 * @returns {boolean} Whether the text was a code (even if it could not go).
 */
export function useCode(text) {
  const code = parseCode(text);
  if (code === undefined) return false;
  delete document.body.dataset.codeFailure;
  if (session.partner !== undefined) {
    addLine("system", "Leave your partner before pairing by a code");
  } else if (!session.connected) {
    addLine("system", "Not connected to the server: the code was not used");
  } else {
    codes.use(code);
  }
  return true;
}

/**
 * A `paired` from the server: by code, the code is checked before the link
 * starts (as remembered devices, `devices.js` starts it); by id, any code
 * shown goes.
 *
 * @param {{ type: string, peer: string, initiator: boolean, by_code?: boolean, by_device?: boolean, iceServers?: unknown }} paired
 */
export function pairedByServer(paired) {
  codes.paired(paired);
  // By code, the code is proven first; as remembered devices, their keys bind the link.
  session.endToEndOnly = paired.by_code === true || paired.by_device === true;
  if (session.endToEndOnly) {
    session.partner = paired.peer;
    ui.requests.replaceChildren();
    return;
  }
  startLink(paired.peer, paired.initiator, toIceServers(paired.iceServers));
}

/** Shows the code this page holds, its link and its QR code. */
function showCode(/** @type {string} */ code, /** @type {number} */ expiresS) {
  const link = codeLink(location.href, code);
  ui.codeText.textContent = code;
  ui.codeLink.value = link;
  // An image, not markup: the drawing is data the page shows, never parses into itself.
  ui.codeQr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qrSvg(link))}`;
  ui.codeBox.hidden = false;
  setState(
    "ready",
    `Your code is ${code}: whoever types it within ${Math.round(expiresS / 60)} min pairs with you`,
  );
}

copyButton(ui.copyCodeLink, ui.codeLink);

/**
 * Messages of pairing by code the server sends, for `server_messages.js`.
 *
 * @type {ReadonlySet<string>}
 */
export const CODE_MESSAGES = new Set([
  MessageType.Nameplate,
  MessageType.NameplateExpired,
  MessageType.Pake,
]);
