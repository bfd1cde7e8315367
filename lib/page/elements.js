/**
 * The page's elements, found once by id: a missing one is a broken page and
 * says so at load rather than on first use.
 *
 * @module
 */

/**
 * The element with `id`.
 *
 * @param {string} id
 * @returns {HTMLElement}
 * @throws {Error} When the page has no such element.
 */
export function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found;
}

/** The elements the session, the pairing and the chat show themselves in. */
export const ui = {
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
  getCode: /** @type {HTMLButtonElement} */ (element("get-code")),
  codeBox: element("code-box"),
  codeText: element("code-text"),
  codeLink: /** @type {HTMLInputElement} */ (element("code-link")),
  copyCodeLink: /** @type {HTMLButtonElement} */ (element("copy-code-link")),
  codeQr: /** @type {HTMLImageElement} */ (element("code-qr")),
  rememberForm: /** @type {HTMLFormElement} */ (element("remember-form")),
  rememberName: /** @type {HTMLInputElement} */ (element("remember-name")),
  devicesBox: element("devices-box"),
  devices: element("devices"),
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
