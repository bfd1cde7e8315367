/**
 * Remembered devices on the page: right after a pairing by code, "Remember
 * this partner as…" saves it (with the page's own device key, a
 * non-extractable key in IndexedDB, `device_store.js`); later, Pair next to
 * its name meets it again without a code, each side proving the key it
 * saved (`device_binding.js`, shared with the terminal), and a key that is
 * not the saved one is refused, loudly.
 *
 * For tests, `document.body.dataset.deviceRefused` is set when this page
 * refused, or was refused by, a remembered device.
 *
 * @module
 */

import { CodeFailure, failureMessage } from "../shared/code_exchange.js";
import {
  badDeviceName,
  deviceBinding,
  keyThumbprint,
  rendezvousOf,
} from "../shared/device_binding.js";
import { MessageType, toIceServers } from "../shared/protocol.js";
import { ui } from "./elements.js";
import { sendToServer, session } from "./session.js";
import { setState } from "./status.js";
import { addLine, button, short } from "./chat_view.js";
import { leaveQuietly, startLink } from "./pairing.js";
import { codeEvents, codes } from "./codes.js";
import { fromHex, toHex } from "../shared/hex.js";
import { forgetDevice, pageDeviceKey, rememberDevice, rememberedDevices } from "./device_store.js";

/** @typedef {import("./device_store.js").RememberedDevice} RememberedDevice */

/** @type {{ name: string, peer: string } | undefined} The name typed, until the partner's key is here. */
let naming;
/** @type {{ name: string, device: RememberedDevice, key: { privateKey: CryptoKey, publicHex: string } } | undefined} */
let meeting;
/** @type {{ name: string, peer: string } | undefined} The device paired with now. */
let met;

codeEvents.addEventListener("matched", () => {
  ui.rememberForm.hidden = false;
});

codeEvents.addEventListener("identity", (event) => {
  const peer = String(/** @type {CustomEvent} */ (event).detail);
  if (naming?.peer === peer) {
    store().catch(failed("remember the partner"));
    return;
  }
  ui.rememberForm.hidden = false;
  addLine("system", `${peer} wants to remember this page: name it and press Remember`);
});

ui.rememberForm.addEventListener("submit", (event) => {
  event.preventDefault();
  remember(ui.rememberName.value.trim()).catch(failed("remember the partner"));
});

/**
 * What a failed step of remembering or meeting says (a browser without
 * IndexedDB, a storage error): one line, never an unhandled rejection.
 *
 * @param {string} what
 * @returns {(error: unknown) => void}
 */
function failed(what) {
  return (error) => addLine("system", `Could not ${what}: ${error}`);
}

/**
 * Remembers the partner paired by code as `name`, once its key is here too.
 *
 * @param {string} name
 */
async function remember(name) {
  const bad = badDeviceName(name);
  const peer = session.partner;
  if (bad !== undefined || peer === undefined) {
    addLine("system", bad ?? "Remember works while paired by code");
    return;
  }
  const key = await pageDeviceKey();
  if (!codes.sendIdentity(key.publicHex)) {
    addLine("system", "Only a partner paired by code can be remembered: its code proves who it is");
    return;
  }
  naming = { name, peer };
  if (!(await store())) addLine("system", `Waiting for ${peer} to send its device key`);
}

/** Saves the partner if a name was typed and its key is here; whether it did. */
async function store() {
  const keys = codes.rememberable();
  const named = naming;
  if (named === undefined || keys === undefined) return false;
  naming = undefined;
  await rememberDevice(named.name, {
    key: keys.partnerKey,
    secret: toHex(keys.linkSecret),
    since: new Date().toISOString(),
  });
  ui.rememberForm.hidden = true;
  ui.rememberName.value = "";
  addLine(
    "system",
    `Remembered ${named.peer} as ${named.name} (key ${keyThumbprint(keys.partnerKey)})`,
  );
  await showDevices();
  return true;
}

/** Lists the remembered devices, each with Pair and Forget. */
export async function showDevices() {
  /** @type {Map<string, RememberedDevice>} */
  let devices;
  try {
    devices = await rememberedDevices();
  } catch (error) {
    console.debug(`No remembered devices: ${error}`);
    return;
  }
  ui.devices.replaceChildren(
    ...[...devices].map(([name, device]) => {
      const item = document.createElement("li");
      item.dataset.name = name;
      const label = document.createElement("span");
      label.textContent = `${name} `;
      const thumbprint = document.createElement("code");
      thumbprint.textContent = keyThumbprint(device.key).slice(0, 8);
      thumbprint.title = `Its key's thumbprint: ${keyThumbprint(device.key)}`;
      item.append(
        label,
        thumbprint,
        button("Pair", () => meet(name, device).catch(failed(`meet ${name}`))),
        button("Forget", () => {
          forgetDevice(name).then(() => {
            addLine("system", `Forgot ${name}`);
            return showDevices();
          }).catch(failed(`forget ${name}`));
        }, "secondary"),
      );
      return item;
    }),
  );
  ui.devicesBox.hidden = devices.size === 0;
}

/**
 * Pairs with a remembered device once both are here.
 *
 * @param {string} name
 * @param {RememberedDevice} device
 */
async function meet(name, device) {
  if (session.partner !== undefined) {
    addLine("system", "Leave your partner before meeting a remembered device");
    return;
  }
  const key = await pageDeviceKey();
  const rendezvous = rendezvousOf(fromHex(device.secret));
  if (!sendToServer({ type: MessageType.Meet, rendezvous })) {
    addLine("system", "Not connected to the server");
    return;
  }
  delete document.body.dataset.deviceRefused;
  meeting = { name, device, key };
}

/**
 * Takes the server's messages of meeting a device.
 *
 * @param {{ type: string, [field: string]: unknown }} message
 * @returns {boolean} Whether it was one of those.
 */
export function takeDeviceMessage(message) {
  switch (message.type) {
    case MessageType.MeetWaiting:
      setState("pairing", `Waiting for ${meeting?.name ?? "the device"} (press Pair on it too)…`);
      return true;
    case MessageType.MeetExpired:
      setState("ready", `${meeting?.name ?? "The device"} did not come`);
      meeting = undefined;
      return true;
    case MessageType.Pake:
      if (met === undefined || message.from !== met.peer) return false;
      if (message.failure !== undefined) {
        const words =
          `Refused by ${met.name}: it did not accept this page's key. Nothing was connected.`;
        met = undefined;
        document.body.dataset.deviceRefused = "1";
        leaveQuietly();
        addLine("system", words);
        setState("ready", words);
      }
      return true;
    default:
      return false;
  }
}

/**
 * A pairing began: as remembered devices, the link is bound to their keys.
 *
 * @param {{ peer: string, initiator: boolean, by_device?: boolean, iceServers?: unknown }} paired
 */
export function devicePaired(paired) {
  met = undefined;
  const asked = meeting;
  meeting = undefined;
  if (paired.by_device !== true) return;
  if (asked === undefined) {
    addLine("system", "Paired as a remembered device this page did not ask to meet; leaving");
    leaveQuietly();
    return;
  }
  met = { name: asked.name, peer: paired.peer };
  setState("negotiating", `${asked.name} is here (${short(paired.peer)}); checking its key…`);
  startLink(paired.peer, paired.initiator, toIceServers(paired.iceServers), {
    binding: deviceBinding({
      privateKey: asked.key.privateKey,
      publicHex: asked.key.publicHex,
      partnerHex: asked.device.key,
      partnerName: asked.name,
      initiator: paired.initiator,
    }),
    tampered: (reason) => refuse(reason),
  });
}

/** @param {string} reason */
function refuse(reason) {
  const device = met;
  if (device === undefined) return;
  met = undefined;
  sendToServer(failureMessage(CodeFailure.Tampered));
  const words = `REFUSED: ${reason}. Someone may be pretending to be ${device.name}, or it was ` +
    `set up again; if you are sure it is yours, forget ${device.name} and pair by code again.`;
  document.body.dataset.deviceRefused = "1";
  leaveQuietly();
  addLine("system", words);
  setState("ready", words);
}

/** The pairing ended. */
export function deviceEnded() {
  met = undefined;
  naming = undefined;
  ui.rememberForm.hidden = true;
}
