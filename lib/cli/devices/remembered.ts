/**
 * Remembered devices in the terminal: `remember <name>` right after a
 * pairing by code, then `meet <name>` (or `--to <name>`) on both devices
 * pairs them again without a code, each proving the key it saved. What
 * proves them is `device_binding.js`, shared with the page; this module is
 * the commands, the folder and the words.
 *
 * @module
 */

import type { ClientMessage, ServerMessage } from "../../protocol/messages.ts";
import { MessageType } from "../../protocol/messages.ts";
import type { CodeSession } from "../../shared/code_session.js";
import { CodeFailure, failureMessage } from "../../shared/code_exchange.js";
import type { FingerprintBinding } from "../../shared/code_exchange.js";
import { deviceBinding, keyThumbprint, rendezvousOf } from "../../shared/device_binding.js";
import { errorText, printable } from "../../runtime/safe_text.ts";
import { fromHex, toHex } from "../../shared/hex.js";
import { badDeviceName, type DeviceKey, type DeviceStore, type RememberedDevice } from "./store.ts";

type Paired = Extract<ServerMessage, { type: typeof MessageType.Paired }>;

/** What {@linkcode RememberedDevices} needs from the client around it. */
export interface RememberedDevicesOptions {
  /** The folder of remembered devices. */
  store: DeviceStore;
  /** The pairing by code under way, whose proven key lets the partner be remembered. */
  codes: CodeSession;
  /** Prints one line on stdout. */
  print(line: string): void;
  /** Sends a message to the server; `false` when not connected. */
  send(message: ClientMessage): boolean;
  /** Ends the pairing, without a line of its own. */
  leave(): void;
  /** The devices proved nothing yet: connect, with descriptions signed by their keys. */
  connect(paired: Paired, binding: FingerprintBinding): void;
}

/** The commands and events of remembered devices, for one client. */
export class RememberedDevices {
  readonly #options: RememberedDevicesOptions;
  // The name `remember` was typed with, until the partner's key is here.
  #naming: { name: string; peer: string } | undefined;
  // The device `meet` asked for, with what proving it takes.
  #meeting: { name: string; device: RememberedDevice; key: DeviceKey } | undefined;
  // The device paired with now, by its name.
  #met: { name: string; peer: string } | undefined;

  /** @param options The folder, the code session and how to print and reach the server. */
  constructor(options: RememberedDevicesOptions) {
    this.#options = options;
  }

  /** Whether the current pairing is with a remembered device. */
  get pairedWithDevice(): boolean {
    return this.#met !== undefined;
  }

  /** `remember <name>`: right after a pairing by code, remembers the partner as `name`. */
  async remember(name: string, peer: string | undefined): Promise<void> {
    const bad = badDeviceName(name);
    if (bad !== undefined) return this.#print(`*** ${bad} ***`);
    if (peer === undefined) {
      return this.#print("*** remember works while paired by code: pair by code first ***");
    }
    const key = await this.#key();
    if (key === undefined) return;
    if (!this.#options.codes.sendIdentity(key.publicHex)) {
      return this.#print(
        "*** Only a partner paired by code can be remembered: its code proves who it is ***",
      );
    }
    this.#naming = { name, peer };
    if (!(await this.#store())) {
      this.#print(
        `*** Waiting for ${printable(peer)} to send its device key (it types remember too) ***`,
      );
    }
  }

  /** The partner sent its device key: remembered now if `remember` was typed. */
  async identity(peer: string): Promise<void> {
    if (this.#naming?.peer === peer) {
      await this.#store();
      return;
    }
    this.#print(
      `*** ${
        printable(peer)
      } wants to remember this device: type remember <name> to remember it too ***`,
    );
  }

  /** `forget <name>`. */
  async forget(name: string): Promise<void> {
    try {
      await this.#options.store.allowed();
      const forgotten = await this.#options.store.forget(name);
      this.#print(
        forgotten
          ? `*** Forgot ${printable(name)} ***`
          : `*** No remembered device is named ${printable(name)} ***`,
      );
    } catch (error) {
      this.#print(`*** ${errorText(error)} ***`);
    }
  }

  /** `devices`: the names remembered, each with its key's thumbprint. */
  async list(): Promise<void> {
    try {
      const devices = Object.entries(await this.#options.store.devices());
      if (devices.length === 0) return this.#print("*** No remembered devices ***");
      for (const [name, device] of devices) {
        this.#print(
          `*** ${printable(name)}: key ${keyThumbprint(device.key)}, since ${device.since} ***`,
        );
      }
    } catch (error) {
      this.#print(`*** ${errorText(error)} ***`);
    }
  }

  /** `meet <name>` (or `--to <name>`): pairs with that device once both are here. */
  async meet(name: string): Promise<boolean> {
    const key = await this.#key();
    if (key === undefined) return false;
    let devices: Record<string, RememberedDevice>;
    try {
      devices = await this.#options.store.devices();
    } catch (error) {
      this.#print(`*** ${errorText(error)} ***`);
      return false;
    }
    const device = Object.hasOwn(devices, name) ? devices[name] : undefined;
    if (device === undefined) {
      this.#print(
        `*** No remembered device is named ${printable(name)}; devices lists them ***`,
      );
      return false;
    }
    const rendezvous = rendezvousOf(fromHex(device.secret));
    if (!this.#options.send({ type: MessageType.Meet, rendezvous })) return false;
    this.#meeting = { name, device, key };
    return true;
  }

  /**
   * Takes the messages of meeting a device: `meet_waiting`, `meet_expired`,
   * and a `pake` refusal from a device paired with.
   *
   * @returns Whether the message was taken.
   */
  take(message: ServerMessage): boolean {
    switch (message.type) {
      case MessageType.MeetWaiting:
        this.#print(
          `*** Waiting for ${
            printable(this.#meeting?.name ?? "the device")
          } to come (meet on it too), for ${Math.round(message.expires_s / 60)} min ***`,
        );
        return true;
      case MessageType.MeetExpired:
        this.#print(`*** ${printable(this.#meeting?.name ?? "The device")} did not come ***`);
        this.#meeting = undefined;
        return true;
      case MessageType.Pake:
        if (this.#met === undefined || message.from !== this.#met.peer) return false;
        if (message.failure === undefined) return true;
        this.#print(
          `*** Refused by ${
            printable(this.#met.name)
          }: it did not accept this device's key. Nothing was connected ***`,
        );
        this.#met = undefined;
        this.#options.leave();
        return true;
      default:
        return false;
    }
  }

  /** A pairing began: by device, it is proven by the keys saved for it. */
  paired(message: Paired): void {
    this.#met = undefined;
    this.#naming = undefined;
    const meeting = this.#meeting;
    this.#meeting = undefined;
    if (message.by_device !== true) return;
    if (meeting === undefined) {
      this.#print("*** Paired as a remembered device this side did not ask to meet; leaving ***");
      this.#options.leave();
      return;
    }
    this.#met = { name: meeting.name, peer: message.peer };
    this.#print(
      `*** ${printable(meeting.name)} is here (${printable(message.peer)}); checking its key… ***`,
    );
    this.#options.connect(
      message,
      deviceBinding({
        privateKey: meeting.key.privateKey,
        publicHex: meeting.key.publicHex,
        partnerHex: meeting.device.key,
        partnerName: meeting.name,
        initiator: message.initiator,
      }),
    );
  }

  /** The link opened: the partner's key was the one saved. */
  opened(): void {
    if (this.#met === undefined) return;
    this.#print(`*** ${printable(this.#met.name)}'s key checked: the channel is end to end ***`);
  }

  /**
   * The link refused the partner's description (`reason`): a key not the one
   * saved, or details changed on the way. Says so, loudly, and leaves.
   */
  refused(reason: string): void {
    const met = this.#met;
    if (met === undefined) return;
    this.#met = undefined;
    this.#options.send(failureMessage(CodeFailure.Tampered));
    this.#print(
      `*** REFUSED: ${printable(reason)}. Someone may be pretending to be ${
        printable(met.name)
      }, or it was set up again; if you are sure it is yours, forget ${
        printable(met.name)
      } and pair by code again. Nothing was connected ***`,
    );
    this.#options.leave();
  }

  /** The pairing ended. */
  ended(): void {
    this.#met = undefined;
    this.#naming = undefined;
  }

  async #key(): Promise<DeviceKey | undefined> {
    try {
      return await this.#options.store.key();
    } catch (error) {
      this.#print(`*** ${errorText(error)} ***`);
      return undefined;
    }
  }

  /** Remembers the partner if its key is here and a name was typed; whether it did. */
  async #store(): Promise<boolean> {
    const naming = this.#naming;
    const keys = this.#options.codes.rememberable();
    if (naming === undefined || keys === undefined) return false;
    this.#naming = undefined;
    try {
      await this.#options.store.remember(naming.name, {
        key: keys.partnerKey,
        secret: toHex(keys.linkSecret),
        since: new Date().toISOString(),
      });
    } catch (error) {
      this.#print(`*** ${errorText(error)} ***`);
      return true;
    }
    this.#print(
      `*** Remembered ${printable(naming.peer)} as ${printable(naming.name)} (key ${
        keyThumbprint(keys.partnerKey)
      }); next time: meet ${printable(naming.name)} on both sides ***`,
    );
    return true;
  }

  #print(line: string): void {
    this.#options.print(line);
  }
}
