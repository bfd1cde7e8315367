/**
 * Where the terminal keeps remembered devices: a folder of its own (by
 * default `$XDG_CONFIG_HOME/switchboard`, else `~/.config/switchboard`),
 * holding this device's key pair (`device-key.json`, readable by its owner
 * only) and the devices it remembers (`devices.json`: each name with the
 * device's public key and the link secret their rendezvous comes from).
 *
 * Nothing here is read or made until a device is remembered or met, and
 * then only with `--allow-read` and `--allow-write` for that folder alone
 * (`deno task peer-devices`): a missing one is one line naming the flags.
 *
 * @module
 */

import { join } from "node:path";
import { missingFlags, MissingPermission, shellWord } from "../../runtime/permissions.ts";
import { newDeviceKeys, publicKeyHex } from "../../shared/device_binding.js";

export { badDeviceName, MAX_DEVICE_NAME } from "../../shared/device_binding.js";

/** One remembered device. */
export interface RememberedDevice {
  /** Its public key, hex (65 bytes). */
  key: string;
  /** The link secret both derived when they paired by code, hex. */
  secret: string;
  /** When it was remembered, ISO 8601. */
  since: string;
}

/** This device's own key pair, ready to sign. */
export interface DeviceKey {
  /** The private key, non-extractable once loaded. */
  privateKey: CryptoKey;
  /** The public key, hex. */
  publicHex: string;
}

/**
 * The folder remembered devices live in when `--devices-dir` is not given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultDevicesDir } from "./store.ts";
 * assert.equal(defaultDevicesDir({ HOME: "/home/ana" }), "/home/ana/.config/switchboard");
 * assert.equal(defaultDevicesDir({ XDG_CONFIG_HOME: "/cfg", HOME: "/h" }), "/cfg/switchboard");
 * ```
 */
export function defaultDevicesDir(env: Record<string, string | undefined>): string {
  const config = env.XDG_CONFIG_HOME || join(env.HOME ?? ".", ".config");
  return join(config, "switchboard");
}

/** The folder of remembered devices, read and written on demand. */
export class DeviceStore {
  readonly #dir: string;
  #key: Promise<DeviceKey> | undefined;
  // Changes to the list, one after another: two at once would each write what the other lost.
  #changes: Promise<unknown> = Promise.resolve();

  /** @param dir The folder (`--devices-dir`). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The folder. */
  get dir(): string {
    return this.#dir;
  }

  /**
   * Checks this process may read and write the folder.
   *
   * @throws {MissingPermission} Naming the flags to add.
   */
  async allowed(): Promise<void> {
    const missing = await missingFlags([
      {
        descriptor: { name: "read", path: this.#dir },
        flag: `--allow-read=${shellWord(this.#dir)}`,
      },
      {
        descriptor: { name: "write", path: this.#dir },
        flag: `--allow-write=${shellWord(this.#dir)}`,
      },
    ]);
    if (missing.length > 0) {
      throw new MissingPermission(
        `Remembering devices needs ${missing.join(" ")} (or run: deno task peer-devices)`,
      );
    }
  }

  /** This device's key pair: made, and saved for its owner only, the first time. */
  key(): Promise<DeviceKey> {
    this.#key ??= this.#loadKey();
    this.#key.catch(() => this.#key = undefined);
    return this.#key;
  }

  /** The devices remembered, by name. */
  async devices(): Promise<Record<string, RememberedDevice>> {
    await this.allowed();
    try {
      const text = await Deno.readTextFile(join(this.#dir, "devices.json"));
      const parsed = JSON.parse(text);
      return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? parsed : {};
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return {};
      throw error;
    }
  }

  /** Remembers (or remembers again) a device under `name`. */
  remember(name: string, device: RememberedDevice): Promise<void> {
    return this.#change(async () => {
      const devices = await this.devices();
      devices[name] = device;
      await this.#write("devices.json", JSON.stringify(devices, null, 2) + "\n");
    });
  }

  /** Forgets the device `name`; whether there was one. */
  forget(name: string): Promise<boolean> {
    return this.#change(async () => {
      const devices = await this.devices();
      if (!Object.hasOwn(devices, name)) return false;
      delete devices[name];
      await this.#write("devices.json", JSON.stringify(devices, null, 2) + "\n");
      return true;
    });
  }

  #change<T>(change: () => Promise<T>): Promise<T> {
    const done = this.#changes.then(change);
    this.#changes = done.catch(() => {});
    return done;
  }

  async #loadKey(): Promise<DeviceKey> {
    await this.allowed();
    const path = join(this.#dir, "device-key.json");
    let jwk: JsonWebKey;
    try {
      jwk = JSON.parse(await Deno.readTextFile(path));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      // Extractable only long enough to be written once, for this device's owner alone.
      const fresh = await newDeviceKeys(true);
      jwk = await crypto.subtle.exportKey("jwk", fresh.privateKey);
      await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
      try {
        // Made only if absent: another peer of this user that made one meanwhile keeps it.
        await Deno.writeTextFile(path, JSON.stringify(jwk) + "\n", {
          mode: 0o600,
          createNew: true,
        });
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        jwk = JSON.parse(await Deno.readTextFile(path));
      }
    }
    const privateKey = await crypto.subtle.importKey(
      "jwk",
      jwk,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign"],
    );
    const { d: _d, ...publicJwk } = jwk;
    const publicKey = await crypto.subtle.importKey(
      "jwk",
      { ...publicJwk, key_ops: ["verify"] },
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["verify"],
    );
    return { privateKey, publicHex: await publicKeyHex(publicKey) };
  }

  // Written whole and renamed into place: a crash never leaves half a file.
  async #write(name: string, text: string, mode = 0o600): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const path = join(this.#dir, name);
    const temporary = `${path}.tmp`;
    await Deno.writeTextFile(temporary, text, { mode });
    await Deno.rename(temporary, path);
  }
}
