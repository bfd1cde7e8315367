/**
 * The API key form, and the tab's key: asked for once, kept in
 * `sessionStorage` (this tab only), forgotten when the server refuses it.
 *
 * @module
 */

import { ui } from "./elements.js";
import { setState } from "./status.js";

/** Where the tab keeps its API key. */
const KEY_STORAGE = "switchboard.apiKey";

/**
 * The key this tab holds, or `null`.
 *
 * @returns {string | null}
 */
export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** Forgets the tab's key: the server refused or revoked it. */
export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

/**
 * Shows the key form.
 *
 * @param {string} words Why it is shown.
 */
export function askForKey(words) {
  ui.keySection.hidden = false;
  setState("key", words);
  ui.apiKey.focus();
}

/**
 * Keeps the key the user enters and hides the form, then calls `onKey`.
 *
 * @param {() => void} onKey Connects with the key.
 */
export function onKeyEntered(onKey) {
  ui.keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = ui.apiKey.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    ui.apiKey.value = "";
    ui.keySection.hidden = true;
    onKey();
  });
}
