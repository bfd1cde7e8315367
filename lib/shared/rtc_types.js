// This module is browser compatible.
// @ts-check
/**
 * The shapes of the WebRTC objects Switchboard uses, declared once: the part
 * of `RTCPeerConnection`, `RTCDataChannel` and their events that the shared
 * negotiation (`peer_link.js`) and file engine (`file_transfer.js` and its
 * sender and receiver) touch.
 * The browser's objects and werift's both fit, so the same code runs on the
 * page and in the command-line peer. Types only: this module exports no value.
 *
 * A data channel is seen two ways: the chat sets its `on…` handlers
 * ({@link DataChannelLike}); a file transfer listens with
 * `addEventListener` and sends bytes ({@link FileChannelLike}). Every real
 * channel is both.
 *
 * @module
 */

/**
 * @typedef {object} CandidateInit An ICE candidate as it travels in a
 *   `candidate` message.
 * @property {string} candidate The candidate line; empty for end of candidates.
 * @property {string | null} [sdpMid] The media section's id.
 * @property {number | null} [sdpMLineIndex] The media section's index.
 */

/**
 * @typedef {object} DataChannelLike The part of `RTCDataChannel` the chat uses.
 * @property {string} label
 * @property {string} readyState
 * @property {number} [bufferedAmount] Bytes sent but not yet handed to the network.
 * @property {(data: string) => void} send
 * @property {() => void} close
 * @property {((event: unknown) => void) | null | undefined} [onopen]
 * @property {((event: { data: unknown }) => void) | null | undefined} [onmessage]
 * @property {((event: unknown) => void) | null | undefined} [onclose]
 */

/**
 * @typedef {object} IceCandidateErrorLike The part of
 *   `RTCPeerConnectionIceErrorEvent` used here.
 * @property {number} errorCode The STUN error code (401: the TURN server
 *   refused the credentials), or 701 when a server could not be reached.
 * @property {string} [errorText] The server's reason phrase.
 * @property {string | null} [url] The STUN or TURN server's URL.
 */

/**
 * @typedef {object} StatsReportLike The part of `RTCStatsReport` that tells the path.
 * @property {(callback: (stat: Record<string, unknown>) => void) => void} forEach
 */

/**
 * @typedef {object} SessionDescriptionLike
 * @property {string} type
 * @property {string} [sdp]
 */

/**
 * @typedef {object} PeerConnectionLike The part of `RTCPeerConnection` used
 *   here; the browser's and werift's both fit.
 * @property {(label: string, init?: { ordered?: boolean }) => DataChannelLike} createDataChannel
 * @property {() => Promise<SessionDescriptionLike>} createOffer
 * @property {() => Promise<SessionDescriptionLike>} createAnswer
 * @property {(description: SessionDescriptionLike) => Promise<unknown>} setLocalDescription
 * @property {(description: { type: "offer" | "answer", sdp: string }) => Promise<unknown>} setRemoteDescription
 * @property {(candidate: CandidateInit) => Promise<unknown>} addIceCandidate
 * @property {SessionDescriptionLike | null | undefined} localDescription
 * @property {SessionDescriptionLike | null | undefined} [remoteDescription]
 * @property {string} connectionState
 * @property {((event: { candidate?: Partial<CandidateInit> | null }) => void) | null | undefined} [onicecandidate]
 * @property {((event: { channel: DataChannelLike }) => void) | null | undefined} [ondatachannel]
 * @property {(() => void) | null | undefined} [onconnectionstatechange]
 * @property {((event: IceCandidateErrorLike) => void) | null | undefined} [onicecandidateerror]
 * @property {() => Promise<StatsReportLike>} [getStats]
 * @property {() => unknown} close
 */

/**
 * @typedef {object} FileChannelLike The part of `RTCDataChannel` a file transfer
 *   uses; the browser's and werift's both fit.
 * @property {string} label
 * @property {string} readyState
 * @property {number} bufferedAmount
 * @property {number} bufferedAmountLowThreshold
 * @property {string} [binaryType]
 * @property {(data: string | Uint8Array) => void} send
 * @property {() => void} close
 * @property {(type: string, listener: (event: any) => void) => void} addEventListener
 * @property {(type: string, listener: (event: any) => void) => void} removeEventListener
 */

export {};
