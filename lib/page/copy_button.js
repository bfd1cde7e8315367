/**
 * A "Copy link" button for a read-only field: it copies the field's text and
 * says what it did for a moment, then reads as before.
 *
 * @module
 */

/** How long the button says what it did before it reads as before. */
export const COPIED_MS = 2000;

/**
 * Makes `button` copy the text of `field`.
 *
 * @param {HTMLButtonElement} button
 * @param {HTMLInputElement} field
 */
export function copyButton(button, field) {
  const label = button.textContent ?? "";
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = "Copied";
    } catch {
      // No clipboard on a plain-http LAN address: the text is selected to copy by hand.
      button.textContent = "Selected: press Ctrl+C";
    }
    clearTimeout(timer);
    timer = setTimeout(() => button.textContent = label, COPIED_MS);
  });
}
