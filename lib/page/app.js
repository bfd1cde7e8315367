/**
 * The browser page: connects to the server it was served from, pairs by
 * consent, opens a data channel with `PeerLink` (the same negotiation as the
 * command-line peer) and chats over it, or through the server when
 * peer-to-peer is not possible.
 *
 * Query parameters: `peer=<id>` asks that client to pair at once, once (it
 * is taken out of the address bar); `relay=1` uses TURN relays only;
 * `p2p_timeout=<seconds>` (default 15).
 *
 * The page always asks for a resumable session: when its connection to the
 * server is lost it reconnects with backoff, shows `reconnecting`, and
 * resumes its id and pairing if the server still holds them.
 *
 * When the server wants an API key (its `/config.json` says `auth: true`), the
 * page asks for it once, keeps it in `sessionStorage` (this tab only), and
 * offers it as the subprotocol `switchboard.key.<key>` next to `switchboard`:
 * a browser cannot set headers on a WebSocket, and a key in the URL would
 * land in access logs. A connection refused before it opens by a server that
 * is up and wants a key asks for one (again); so does a close with 1008
 * `key revoked`. A tab opened before the server wanted keys asks too.
 *
 * Everything a peer or the server chose (ids, names, chat, reasons) is shown
 * through `printable()`: no control or text-reordering character reaches the
 * page as it is.
 *
 * For tests, `document.body.dataset.state` is one of `key`, `connecting`,
 * `ready`, `pairing`, `negotiating`, `open`, `relay`, `left`, `reconnecting`,
 * `closed`; once open, `document.body.dataset.path` is `direct` or `relay`
 * (through TURN).
 */

import { CloseCode, ErrorCode, MessageType, ResumeParam } from "../shared/protocol.js";
import { PeerLink } from "../shared/peer_link.js";
import { FilesPanel } from "./files_ui.js";
import { printable } from "../shared/printable.js";
import { verificationCode } from "../shared/verification.js";

/** How the page names the path the data takes, as the command-line peer does. */
const PATH_WORDS = { direct: "direct", relay: "via TURN relay" };

const params = new URLSearchParams(location.search);
const relayOnly = params.get("relay") === "1";
const p2pTimeoutS = Number(params.get("p2p_timeout") ?? "15");
const P2P_TIMEOUT_MS = Number.isFinite(p2pTimeoutS) && p2pTimeoutS > 0
  ? Math.min(p2pTimeoutS, 300) * 1000
  : 15_000;

/** Reconnect attempts in a row before the page gives up and shows `closed`. */
const MAX_RETRIES = 10;
/** The first wait before reconnecting; it doubles each attempt, up to the cap. */
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;

/** The reason of the 1008 close the server sends the clients of a revoked key. */
const KEY_REVOKED = "key revoked";

/** How long the copy button says what it did before it reads "Copy link" again. */
const COPIED_MS = 2000;

/**
 * A channel that closes after it was open most often means the partner left,
 * and the server says so (`peer_left`, `peer_reconnecting`) within this long:
 * only then does the page say that messages go via the server.
 */
const LEFT_GRACE_MS = 2000;

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

/** @param {string} id */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found;
}

/** Where the tab keeps its API key. */
const KEY_STORAGE = "switchboard.apiKey";

const ui = {
  keySection: element("key-section"),
  keyForm: /** @type {HTMLFormElement} */ (element("key-form")),
  apiKey: /** @type {HTMLInputElement} */ (element("api-key")),
  status: element("status"),
  myId: element("my-id"),
  shareLink: /** @type {HTMLInputElement} */ (element("share-link")),
  copyLink: /** @type {HTMLButtonElement} */ (element("copy-link")),
  pairForm: /** @type {HTMLFormElement} */ (element("pair-form")),
  peerId: /** @type {HTMLInputElement} */ (element("peer-id")),
  askToPair: /** @type {HTMLButtonElement} */ (element("ask-to-pair")),
  verification: element("verification"),
  verifyCode: element("verify-code"),
  requests: element("requests"),
  path: element("path"),
  messages: element("messages"),
  chatForm: /** @type {HTMLFormElement} */ (element("chat-form")),
  message: /** @type {HTMLInputElement} */ (element("message")),
  send: /** @type {HTMLButtonElement} */ (element("send")),
  leave: /** @type {HTMLButtonElement} */ (element("leave")),
};

const files = new FilesPanel({ onOffer: announceOffer });

/** Everything the page knows about its session. */
const session = {
  /** @type {WebSocket | undefined} */
  socket: undefined,
  myId: "",
  /** @type {string | undefined} The partner's id while paired. */
  partner: undefined,
  /** @type {PeerLink | undefined} */
  link: undefined,
  /** @type {{ initiator: boolean, iceServers: unknown } | undefined} How the pair was made. */
  pairing: undefined,
  /** @type {string | undefined} Resumes the session after a lost connection. */
  token: undefined,
  /** Whether this connection presented the token. */
  resuming: false,
  /** Reconnect attempts since the last id. */
  retries: 0,
  /** Whether the server has given this connection its id: messages to it can go. */
  connected: false,
  /** What the status says about the state, under any passing notice. */
  words: "",
};

/**
 * Shows the state in words and in `data-state`.
 *
 * @param {string} state
 * @param {string} words
 */
function setState(state, words) {
  document.body.dataset.state = state;
  session.words = words;
  ui.status.textContent = printable(words);
  updateControls();
}

/**
 * Enables only what can work now, and names the path messages take only
 * when there is one: the data channel, or the server while it is connected.
 */
function updateControls() {
  const state = document.body.dataset.state;
  const paired = session.partner !== undefined;
  const p2p = session.link?.state === "open";
  const online = session.connected;
  ui.message.disabled = ui.send.disabled = !(paired && (p2p || online));
  ui.leave.disabled = !(paired && online);
  ui.peerId.disabled = ui.askToPair.disabled = !online || paired;
  ui.path.textContent = p2p
    ? document.body.dataset.path === "relay" ? "peer-to-peer via TURN relay" : "peer-to-peer"
    : online && paired && (state === "relay" || state === "negotiating")
    ? "via server"
    : "";
}

/**
 * Adds a line to the chat.
 *
 * @param {"mine" | "theirs" | "system"} kind
 * @param {string} text
 * @param {string} [who]
 * @param {boolean} [viaServer] Whether the server carried it.
 * @returns {HTMLLIElement}
 */
function addLine(kind, text, who, viaServer = false) {
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
 * Announces a file the partner offers where the user looks: in the status
 * and in the chat, with the choice right there (the Files card has it too).
 *
 * @param {import("./files_ui.js").OfferNotice} offer
 * @returns {import("./files_ui.js").OfferAnnouncement}
 */
function announceOffer(offer) {
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
 * @param {string} label
 * @param {() => void} onClick
 * @param {string} [className] `secondary` for the choice that is not the main one.
 */
function button(label, onClick, className) {
  const control = document.createElement("button");
  control.type = "button";
  control.textContent = label;
  if (className) control.className = className;
  control.addEventListener("click", onClick);
  return control;
}

/** @param {string} id */
function short(id) {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

/** @param {Record<string, unknown>} message */
function send(message) {
  if (session.socket?.readyState !== WebSocket.OPEN) return false;
  session.socket.send(JSON.stringify(message));
  return true;
}

/** @param {string} target */
function askToPair(target) {
  const id = target.trim();
  if (!id) return;
  if (send({ type: MessageType.PairRequest, target: id })) {
    setState("pairing", `Request sent to ${short(id)}; waiting for an answer`);
  } else {
    addLine("system", "Not connected to the server: the request was not sent");
  }
}

/** @param {string} from */
function showRequest(from) {
  for (const item of ui.requests.children) {
    if (/** @type {HTMLElement} */ (item).dataset.from === from) return;
  }
  const item = document.createElement("li");
  item.dataset.from = from;
  const id = document.createElement("code");
  id.textContent = printable(from);
  const accept = button("Accept", () => {
    if (send({ type: MessageType.PairAccept, from })) item.remove();
  });
  const reject = button("Reject", () => {
    if (send({ type: MessageType.PairReject, from })) item.remove();
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
function withdrawRequest(from, reason) {
  const item = [...ui.requests.children].find((li) =>
    /** @type {HTMLElement} */ (li).dataset.from === from
  );
  if (item === undefined) return;
  item.remove();
  if (session.partner === undefined && document.body.dataset.state === "pairing") {
    setState("ready", `The pair request from ${short(from)} ended (${reason})`);
  }
}

/**
 * @param {string} peer
 * @param {boolean} initiator
 * @param {unknown} iceServers
 */
function startLink(peer, initiator, iceServers) {
  session.link?.close();
  session.partner = peer;
  session.pairing = { initiator, iceServers };
  ui.requests.replaceChildren();
  setState("negotiating", `Negotiating a peer-to-peer connection with ${short(peer)}…`);
  let opened = false;
  const link = new PeerLink({
    initiator,
    createPeerConnection: () =>
      new RTCPeerConnection({
        iceServers: Array.isArray(iceServers) ? iceServers : [],
        iceTransportPolicy: relayOnly ? "relay" : "all",
      }),
    signal: (message) => send(message),
    onChannel: (channel) => {
      if (session.link === link) files.incoming(channel);
      else channel.close();
    },
    timeoutMs: P2P_TIMEOUT_MS,
    relayOnly,
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

/**
 * Shows the verification code of an open connection, or hides it.
 *
 * @param {import("../shared/peer_link.js").PeerConnectionLike | undefined} connection
 */
function showVerification(connection) {
  const code = connection === undefined ? undefined : verificationCode(
    connection.localDescription?.sdp ?? "",
    connection.remoteDescription?.sdp ?? "",
  );
  ui.verifyCode.textContent = code ?? "";
  ui.verification.hidden = !code;
}

function endLink() {
  if (session.link) files.closed("the pairing ended");
  showVerification(undefined);
  session.link?.close();
  session.link = undefined;
  session.partner = undefined;
  session.pairing = undefined;
}

/**
 * After a resume (this page's, or the partner's `peer_back`): a channel that
 * survived carries on; one that did not is negotiated afresh, same roles.
 */
function carryOn() {
  const peer = session.partner;
  if (peer === undefined) {
    setState("ready", "Reconnected; waiting: share your link, or enter a partner's id");
  } else if (session.link?.state === "open") {
    setState("open", `Peer-to-peer with ${short(peer)}`);
  } else if (session.pairing) {
    startLink(peer, session.pairing.initiator, session.pairing.iceServers);
  }
}

/** @param {Record<string, unknown>} message */
function receive(message) {
  const text = (/** @type {string} */ key) => String(message[key] ?? "");
  switch (message.type) {
    case MessageType.YourId: {
      const id = text("id");
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
        break;
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
      const wanted = peerToAsk;
      peerToAsk = undefined;
      if (wanted && wanted !== session.myId) askToPair(wanted);
      break;
    }
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
      startLink(text("peer"), message.initiator === true, message.iceServers);
      break;
    case MessageType.PairRejected:
      if (session.partner === undefined) {
        setState("ready", `Pair request to ${short(text("peer"))} ended (${text("reason")})`);
      }
      break;
    case MessageType.PeerLeft:
      if (text("peer") !== session.partner) break;
      endLink();
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
      addLine(
        "theirs",
        typeof message.data === "string" ? message.data : JSON.stringify(message.data),
        short(text("from")),
        true,
      );
      break;
    case MessageType.Error:
      // The new id's line has said it already.
      if (message.code === ErrorCode.ResumeFailed) break;
      addLine("system", `Server: ${text("message")}`);
      if (session.partner === undefined && document.body.dataset.state === "pairing") {
        setState("ready", `Could not pair: ${text("message")}`);
      }
      break;
  }
}

/**
 * Shows the key form.
 *
 * @param {string} words Why it is shown.
 */
function askForKey(words) {
  ui.keySection.hidden = false;
  setState("key", words);
  ui.apiKey.focus();
}

/** @param {boolean} auth Whether the server wants a key. */
function connect(auth) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = new URL(`${scheme}://${location.host}/`);
  const key = auth ? sessionStorage.getItem(KEY_STORAGE) : null;
  if (auth && !key) {
    askForKey("This server needs an API key");
    return;
  }
  session.resuming = session.token !== undefined;
  if (session.token === undefined) url.searchParams.set(ResumeParam.Resumable, "1");
  else url.searchParams.set(ResumeParam.Resume, session.token);
  if (session.myId === "") setState("connecting", "Connecting…");
  const socket = key
    ? new WebSocket(url, ["switchboard", `switchboard.key.${key}`])
    : new WebSocket(url);
  session.socket = socket;
  let opened = false;
  socket.addEventListener("open", () => opened = true);
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (typeof message === "object" && message !== null) receive(message);
  });
  socket.addEventListener("close", (event) => {
    session.connected = false;
    if (event.code === CloseCode.PolicyViolation && event.reason === KEY_REVOKED) {
      // The server ended the session with the key: nothing is left to resume.
      sessionStorage.removeItem(KEY_STORAGE);
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
    sessionStorage.removeItem(KEY_STORAGE);
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
  const delay = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (session.retries - 1)) *
    (1 + Math.random() / 2);
  const at = performance.now() + delay;
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

/**
 * Whether the server wants an API key, from its `/config.json`; `undefined`
 * when it cannot be reached. A static copy of the page has no `/config.json`:
 * its server is taken as open.
 *
 * @returns {Promise<boolean | undefined>}
 */
async function wantsKey() {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    return response.ok ? (await response.json()).auth === true : false;
  } catch {
    return undefined;
  }
}

/** Whether the server is up and not stopping (a stopping server refuses handshakes too). */
async function serverReady() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    await response.body?.cancel();
    return response.status !== 503;
  } catch {
    return false;
  }
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let copiedTimer;

ui.copyLink.addEventListener("click", async () => {
  ui.shareLink.select();
  try {
    await navigator.clipboard.writeText(ui.shareLink.value);
    ui.copyLink.textContent = "Copied";
  } catch {
    // No clipboard on a plain-http LAN address: the link is selected to copy by hand.
    ui.copyLink.textContent = "Selected: press Ctrl+C";
  }
  clearTimeout(copiedTimer);
  copiedTimer = setTimeout(() => ui.copyLink.textContent = "Copy link", COPIED_MS);
});

ui.pairForm.addEventListener("submit", (event) => {
  event.preventDefault();
  askToPair(ui.peerId.value);
  ui.peerId.value = "";
});

ui.chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.message.value;
  if (!text.trim() || session.partner === undefined) return;
  if (session.link?.send(text)) {
    addLine("mine", text, "You");
  } else if (send({ type: MessageType.Relay, data: text })) {
    addLine("mine", text, "You", true);
  } else {
    addLine("system", "Not connected: the message was not sent");
    return;
  }
  ui.message.value = "";
});

ui.leave.addEventListener("click", () => {
  // The server's word goes first: the partner hears "left" rather than a closed channel.
  send({ type: MessageType.Unpair });
  endLink();
  setState("ready", "You left; waiting for a new partner");
  addLine("system", "You left the conversation");
});

ui.keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = ui.apiKey.value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  ui.apiKey.value = "";
  ui.keySection.hidden = true;
  connect(true);
});

/** Asks the server whether it wants a key, then connects. */
async function start() {
  // Unreachable: the WebSocket will say so.
  connect(await wantsKey() === true);
}

start();
