/**
 * Where the page keeps remembered devices: IndexedDB (database
 * `switchboard-devices`), with this page's device key pair, whose private
 * key is a non-extractable Web Crypto key (the browser signs with it, and
 * neither the page nor anything it runs can read it out), and the devices
 * it remembers, each with its public key and the link secret.
 *
 * @module
 */

import { newDeviceKeys, publicKeyHex } from "../shared/device_binding.js";

const DATABASE = "switchboard-devices";
const KEYS = "keys";
const DEVICES = "devices";

/**
 * One remembered device.
 *
 * @typedef {object} RememberedDevice
 * @property {string} key Its public key, hex.
 * @property {string} secret The link secret, hex.
 * @property {string} since When it was remembered, ISO 8601.
 */

/** @type {Promise<IDBDatabase> | undefined} */
let opened;

/** @returns {Promise<IDBDatabase>} */
function database() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(KEYS);
      request.result.createObjectStore(DEVICES);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  opened.catch(() => opened = undefined);
  return opened;
}

/**
 * One request in a transaction of `store`, its result once the transaction is done.
 *
 * @template T
 * @param {string} store
 * @param {IDBTransactionMode} mode
 * @param {(objects: IDBObjectStore) => IDBRequest<T>} act
 * @returns {Promise<T>}
 */
async function request(store, mode, act) {
  const transaction = (await database()).transaction(store, mode);
  const asked = act(transaction.objectStore(store));
  return await new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve(asked.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** @type {Promise<{ privateKey: CryptoKey, publicHex: string }> | undefined} */
let deviceKey;

/**
 * This page's device key pair: made (non-extractable) and saved the first time.
 *
 * @returns {Promise<{ privateKey: CryptoKey, publicHex: string }>}
 */
export function pageDeviceKey() {
  deviceKey ??= (async () => {
    /** @type {{ privateKey: CryptoKey, publicKey: CryptoKey } | undefined} */
    const saved = await request(KEYS, "readonly", (keys) => keys.get("device"));
    if (saved !== undefined) {
      return { privateKey: saved.privateKey, publicHex: await publicKeyHex(saved.publicKey) };
    }
    const fresh = await newDeviceKeys(false);
    try {
      // `add`, not `put`: another tab that made its key meanwhile keeps it, and this one reads it.
      await request(KEYS, "readwrite", (keys) => keys.add(fresh, "device"));
    } catch {
      /** @type {{ privateKey: CryptoKey, publicKey: CryptoKey } | undefined} */
      const theirs = await request(KEYS, "readonly", (keys) => keys.get("device"));
      if (theirs === undefined) throw new Error("the device key could not be saved");
      return { privateKey: theirs.privateKey, publicHex: await publicKeyHex(theirs.publicKey) };
    }
    return { privateKey: fresh.privateKey, publicHex: await publicKeyHex(fresh.publicKey) };
  })();
  deviceKey.catch(() => deviceKey = undefined);
  return deviceKey;
}

/**
 * The remembered devices, by name.
 *
 * @returns {Promise<Map<string, RememberedDevice>>}
 */
export async function rememberedDevices() {
  const transaction = (await database()).transaction(DEVICES, "readonly");
  const objects = transaction.objectStore(DEVICES);
  const names = objects.getAllKeys();
  const devices = objects.getAll();
  return await new Promise((resolve, reject) => {
    transaction.oncomplete = () => {
      resolve(new Map(names.result.map((name, i) => [String(name), devices.result[i]])));
    };
    transaction.onerror = () => reject(transaction.error);
  });
}

/**
 * Remembers (or remembers again) a device under `name`.
 *
 * @param {string} name
 * @param {RememberedDevice} device
 */
export async function rememberDevice(name, device) {
  await request(DEVICES, "readwrite", (objects) => objects.put(device, name));
}

/**
 * Forgets the device `name`.
 *
 * @param {string} name
 */
export async function forgetDevice(name) {
  await request(DEVICES, "readwrite", (objects) => objects.delete(name));
}
