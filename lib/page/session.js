/**
 * What the page knows about its session with the server and its partner,
 * and the one way it sends the server a message.
 *
 * @module
 */

/** @typedef {import("../shared/peer_link.js").PeerLink} PeerLink */
/** @typedef {import("../shared/protocol.js").IceServer} IceServer */

/**
 * What a pairing by code adds to the link: the binding of descriptions to
 * the code's key, and what to do when the partner's fails it.
 *
 * @typedef {object} ProvenByCode
 * @property {import("../shared/code_exchange.js").FingerprintBinding} binding
 * @property {(reason: string) => void} tampered Told why the partner's description was refused.
 */

/** Everything the page knows about its session. */
export const session = {
  /** @type {WebSocket | undefined} */
  socket: undefined,
  myId: "",
  /** @type {string | undefined} The partner's id while paired. */
  partner: undefined,
  /** @type {PeerLink | undefined} */
  link: undefined,
  /**
   * How the pair was made, and for a pair made by code, what proves its link.
   *
   * @type {{ initiator: boolean, iceServers: IceServer[], code?: ProvenByCode } | undefined}
   */
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
  /**
   * Whether the pairing was made by code or as remembered devices: then it
   * talks only over its proven channel, never through the server's relay.
   */
  endToEndOnly: false,
  /**
   * What the server wants to connect: an API key, an access token.
   *
   * @type {import("./server_probe.js").Access}
   */
  access: { auth: false, tokens: false, embed: [] },
  /** Whether the server lets this client receive files (its access token's `grants.files`). */
  receiveFiles: true,
};

/**
 * Sends the server a message, if the socket is open.
 *
 * @param {{ type: string, [field: string]: unknown }} message
 * @returns {boolean} Whether it went.
 */
export function sendToServer(message) {
  if (session.socket?.readyState !== WebSocket.OPEN) return false;
  session.socket.send(JSON.stringify(message));
  return true;
}
