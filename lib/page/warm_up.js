/**
 * The page's WebRTC stack, warmed while it waits for a partner: a
 * certificate made ahead for every connection of the page, and one
 * throw-away connection between two connections of this page (ICE, DTLS,
 * SCTP and a data channel, on this machine only). Chromium's first
 * connection in a page costs about 100 ms more than the next; a person
 * takes seconds to pair, so the page pays that before, not after.
 *
 * When it is done, `document.body.dataset.warm` is `"1"` (for tests and the
 * benchmark; `"0"` with `?warm=0`, which skips it); a failure only means no
 * warm-up.
 *
 * @module
 */

import { warmUp as wanted } from "./page_params.js";

/** How long the throw-away connection may take before the page gives up on it. */
const WARM_UP_TIMEOUT_MS = 3000;

/**
 * The page's certificate, made ahead; `undefined` where the browser cannot
 * make one (then each connection makes its own).
 *
 * @type {Promise<RTCCertificate | undefined>}
 */
export const certificate = wanted && typeof RTCPeerConnection === "function"
  ? RTCPeerConnection.generateCertificate(
    /** @type {AlgorithmIdentifier} */ ({ name: "ECDSA", namedCurve: "P-256" }),
  ).catch(() => undefined)
  : Promise.resolve(undefined);

/**
 * The configuration of a connection of this page: its certificate, when made.
 *
 * @param {RTCConfiguration} config
 * @returns {Promise<RTCConfiguration>}
 */
export async function withCertificate(config) {
  const made = await certificate;
  return made ? { ...config, certificates: [made] } : config;
}

/** Settles once the throw-away connection has opened and closed, or failed (or was not wanted). */
// A browser without WebRTC still chats through the server: nothing to warm there.
export const warmed =
  (wanted && typeof RTCPeerConnection === "function" ? warmUp() : Promise.resolve()).then(() => {
    document.body.dataset.warm = wanted ? "1" : "0";
  });

async function warmUp() {
  /** @type {RTCPeerConnection[]} */
  const connections = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  try {
    const config = await withCertificate({ iceServers: [] });
    const a = new RTCPeerConnection(config);
    const b = new RTCPeerConnection(config);
    connections.push(a, b);
    a.onicecandidate = (event) =>
      void b.addIceCandidate(event.candidate ?? undefined).catch(() => {});
    b.onicecandidate = (event) =>
      void a.addIceCandidate(event.candidate ?? undefined).catch(() => {});
    const channel = a.createDataChannel("warm-up");
    /** @type {Promise<unknown>} */
    const echoed = new Promise((resolve) => {
      b.ondatachannel = (event) => {
        event.channel.onmessage = () => event.channel.send("back");
      };
      channel.onopen = () => channel.send("there");
      channel.onmessage = resolve;
    });
    await a.setLocalDescription();
    await b.setRemoteDescription(/** @type {RTCSessionDescriptionInit} */ (a.localDescription));
    await b.setLocalDescription();
    await a.setRemoteDescription(/** @type {RTCSessionDescriptionInit} */ (b.localDescription));
    await Promise.race([
      echoed,
      new Promise((resolve) => timer = setTimeout(resolve, WARM_UP_TIMEOUT_MS)),
    ]);
  } catch (error) {
    console.debug(`No WebRTC warm-up: ${error}`);
  } finally {
    clearTimeout(timer);
    for (const connection of connections) connection.close();
  }
}
