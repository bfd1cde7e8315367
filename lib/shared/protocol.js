// @ts-check
/**
 * The Switchboard wire protocol's names, declared once as plain data: the
 * server, the command-line client and the browser page all import this file
 * (the server serves it to the page as it is). The message shapes and their
 * checks are in `../protocol.ts`.
 *
 * @module
 */

/** Every message type, in either direction. */
export const MessageType = /** @type {const} */ ({
  /** Server → client: the client's id; always the first message. */
  YourId: "your_id",
  /** Server → client: a problem with what the client sent. */
  Error: "error",
  /** Client → server `{target}`: ask to pair; server → target `{from}`. */
  PairRequest: "pair_request",
  /** Client → server `{from}`: accept a pending request. */
  PairAccept: "pair_accept",
  /** Client → server `{from}`: decline a pending request. */
  PairReject: "pair_reject",
  /** Server → both `{peer, initiator, iceServers?}`: the pair is made. */
  Paired: "paired",
  /** Server → requester `{peer, reason}`: the request ended without a pair. */
  PairRejected: "pair_rejected",
  /** Server → target `{from, reason}`: a request to it ended before it answered. */
  PairCancelled: "pair_cancelled",
  /** WebRTC SDP offer `{sdp}`, forwarded to the partner with `from`. */
  Offer: "offer",
  /** WebRTC SDP answer `{sdp}`, forwarded to the partner with `from`. */
  Answer: "answer",
  /** WebRTC ICE candidate `{candidate}`, forwarded to the partner with `from`. */
  Candidate: "candidate",
  /** Application data `{data}`, forwarded to the partner with `from`. */
  Relay: "relay",
  /** Client → server: end the pairing. */
  Unpair: "unpair",
  /** Server → partner `{peer, reason}`: the partner is gone. */
  PeerLeft: "peer_left",
  /**
   * Server → a client that asked for resumability `{resume_token, grace_s}`:
   * sent right after `your_id`, and again after each resume with a new token.
   */
  Session: "session",
  /** Server → partner `{peer}`: the partner lost its connection and may resume. */
  PeerReconnecting: "peer_reconnecting",
  /** Server → partner `{peer}`: the partner resumed its session. */
  PeerBack: "peer_back",
});

/** Error codes carried by an `error` message. */
export const ErrorCode = /** @type {const} */ ({
  /** The text frame is not JSON. */
  InvalidJson: "invalid_json",
  /** The JSON is not an object with a string `type`, or a field is wrong. */
  InvalidMessage: "invalid_message",
  /** The `type` is not one the server knows. */
  UnknownType: "unknown_type",
  /** A binary frame; the protocol is text only. */
  BinaryNotSupported: "binary_not_supported",
  /** The server is at its client limit; the connection is closed next. */
  ServerFull: "server_full",
  /** No connected client has that id. */
  UnknownPeer: "unknown_peer",
  /** A client asked to pair with itself. */
  SelfPair: "self_pair",
  /** The client already has a partner. */
  AlreadyPaired: "already_paired",
  /** The other client already has a partner. */
  PeerBusy: "peer_busy",
  /** The client has no partner to send to or leave. */
  NotPaired: "not_paired",
  /** No live pairing request from that id. */
  NoPendingRequest: "no_pending_request",
  /** The resume token was unknown, used or expired; the client has a new id. */
  ResumeFailed: "resume_failed",
  /** That client lost its connection and may resume; it cannot pair meanwhile. */
  PeerUnavailable: "peer_unavailable",
  /** The client's API key has as many clients as it may; the connection is closed next. */
  KeyLimit: "key_limit",
});

/** WebSocket close codes the server uses (RFC 6455, section 7.4.1). */
export const CloseCode = /** @type {const} */ ({
  /** Normal closure. */
  Normal: 1000,
  /** The server is shutting down, or the peer stopped answering pings. */
  GoingAway: 1001,
  /** The client broke a policy: it sent messages faster than allowed, or its key was revoked. */
  PolicyViolation: 1008,
  /** The client sent a message larger than the server accepts. */
  MessageTooBig: 1009,
  /** The server, or the client's API key, is full; try again later. */
  TryAgainLater: 1013,
  /** Another connection resumed this client's session. */
  Superseded: 4000,
});

/**
 * Query parameters of the WebSocket URL: `resumable=1` asks for a resumable
 * session, `resume=<token>` resumes one.
 */
export const ResumeParam = /** @type {const} */ ({
  /** `?resumable=1`: send a `session` message after `your_id`. */
  Resumable: "resumable",
  /** `?resume=<token>`: resume the session the token belongs to. */
  Resume: "resume",
});

/** The label of the data channel peers chat on. */
export const CHAT_CHANNEL = "chat";
