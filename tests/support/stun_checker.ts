/**
 * A strict ICE connectivity checker for tests: STUN Binding requests as
 * RFC 8445 sends them (USERNAME, PRIORITY, a role, MESSAGE-INTEGRITY and
 * FINGERPRINT, RFC 8489), and answers judged as a strict agent judges them —
 * where aioice drops an answer whose source is not the address the check was
 * sent to, this reports where it came from, so a test can say so.
 *
 * Written here, not taken from werift, so that werift is checked by an
 * independent implementation; its encoding is tested against RFC 5769.
 *
 * @module
 */

import { createSocket, type Socket } from "node:dgram";
import { within } from "./helpers.ts";

const MAGIC_COOKIE = 0x2112a442;
const FINGERPRINT_XOR = 0x5354554e;

/** STUN message types (method and class) used here. */
export const StunType = {
  BindingRequest: 0x0001,
  BindingSuccess: 0x0101,
  BindingError: 0x0111,
} as const;

/** STUN attribute types used here. */
export const Attr = {
  XorMappedAddress: 0x0020,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  Priority: 0x0024,
  Software: 0x8022,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
} as const;

/** One attribute: its type and its value, unpadded. */
export type Attribute = readonly [type: number, value: Uint8Array];

/** How {@linkcode encodeStun} finishes a message. */
export interface EncodeOptions {
  /** Adds MESSAGE-INTEGRITY keyed with this (the ICE password, UTF-8). */
  integrityKey?: Uint8Array;
  /** Adds FINGERPRINT. */
  fingerprint?: boolean;
  /** The byte that pads attributes to 4 bytes; 0 here, spaces in RFC 5769. */
  padding?: number;
}

/** A parsed STUN message. */
export interface StunMessage {
  type: number;
  transactionId: Uint8Array;
  attributes: Map<number, Uint8Array>;
  /** Where each attribute starts in the message, for integrity checks. */
  offsets: Map<number, number>;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (ISO 3309, as FINGERPRINT uses it). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

async function hmacSha1(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new Uint8Array(data)));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function header(type: number, length: number, transactionId: Uint8Array): Uint8Array {
  const out = new Uint8Array(20);
  const view = new DataView(out.buffer);
  view.setUint16(0, type);
  view.setUint16(2, length);
  view.setUint32(4, MAGIC_COOKIE);
  out.set(transactionId, 8);
  return out;
}

function attribute(type: number, value: Uint8Array, padding = 0): Uint8Array {
  const out = new Uint8Array(4 + Math.ceil(value.length / 4) * 4).fill(padding);
  const view = new DataView(out.buffer);
  view.setUint16(0, type);
  view.setUint16(2, value.length);
  out.set(value, 4);
  return out;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** Encodes a STUN message, with MESSAGE-INTEGRITY and FINGERPRINT as asked. */
export async function encodeStun(
  type: number,
  transactionId: Uint8Array,
  attributes: readonly Attribute[],
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  let body = concat(attributes.map(([t, v]) => attribute(t, v, options.padding)));
  if (options.integrityKey) {
    // The length covers MESSAGE-INTEGRITY itself, but not a FINGERPRINT after it.
    const signed = concat([header(type, body.length + 24, transactionId), body]);
    const mac = await hmacSha1(options.integrityKey, signed);
    body = concat([body, attribute(Attr.MessageIntegrity, mac)]);
  }
  if (options.fingerprint) {
    const covered = concat([header(type, body.length + 8, transactionId), body]);
    body = concat([body, attribute(Attr.Fingerprint, u32(crc32(covered) ^ FINGERPRINT_XOR))]);
  }
  return concat([header(type, body.length, transactionId), body]);
}

/** Parses a STUN message; `undefined` for anything else (DTLS, garbage). */
export function decodeStun(bytes: Uint8Array): StunMessage | undefined {
  if (bytes.length < 20 || (bytes[0]! & 0xc0) !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4) !== MAGIC_COOKIE || view.getUint16(2) !== bytes.length - 20) {
    return undefined;
  }
  const attributes = new Map<number, Uint8Array>();
  const offsets = new Map<number, number>();
  for (let at = 20; at + 4 <= bytes.length;) {
    const type = view.getUint16(at);
    const length = view.getUint16(at + 2);
    if (at + 4 + length > bytes.length) return undefined;
    if (!attributes.has(type)) {
      attributes.set(type, bytes.slice(at + 4, at + 4 + length));
      offsets.set(type, at);
    }
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return { type: view.getUint16(0), transactionId: bytes.slice(8, 20), attributes, offsets };
}

/**
 * Checks FINGERPRINT and MESSAGE-INTEGRITY of a received message.
 *
 * @returns What is wrong, or `undefined` when both are present and valid.
 */
export async function verifyStun(
  bytes: Uint8Array,
  message: StunMessage,
  integrityKey: Uint8Array,
): Promise<string | undefined> {
  const fpAt = message.offsets.get(Attr.Fingerprint);
  const fp = message.attributes.get(Attr.Fingerprint);
  if (fpAt === undefined || fp?.length !== 4) return "no FINGERPRINT";
  const covered = bytes.slice(0, fpAt);
  new DataView(covered.buffer).setUint16(2, fpAt + 8 - 20);
  const expected = (crc32(covered) ^ FINGERPRINT_XOR) >>> 0;
  if (new DataView(fp.buffer).getUint32(0) !== expected) return "a wrong FINGERPRINT";
  const miAt = message.offsets.get(Attr.MessageIntegrity);
  const mi = message.attributes.get(Attr.MessageIntegrity);
  if (miAt === undefined || mi?.length !== 20) return "no MESSAGE-INTEGRITY";
  const signed = bytes.slice(0, miAt);
  new DataView(signed.buffer).setUint16(2, miAt + 24 - 20);
  const mac = await hmacSha1(integrityKey, signed);
  if (!mac.every((b, i) => b === mi[i])) return "a wrong MESSAGE-INTEGRITY";
  return undefined;
}

/** A transport address. */
export interface Address {
  address: string;
  port: number;
}

/** Decodes XOR-MAPPED-ADDRESS (IPv4 or IPv6). */
export function xorMappedAddress(value: Uint8Array, transactionId: Uint8Array): Address {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const port = view.getUint16(2) ^ (MAGIC_COOKIE >>> 16);
  const mask = concat([u32(MAGIC_COOKIE), transactionId]);
  const raw = value.slice(4).map((b, i) => b ^ mask[i]!);
  if (view.getUint8(1) === 1) return { address: raw.join("."), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((raw[i]! << 8) | raw[i + 1]!).toString(16));
  return { address: compressIpv6(groups), port };
}

/** RFC 5952 text for eight hex groups, as Node and Deno print addresses. */
function compressIpv6(groups: readonly string[]): string {
  let best = { at: -1, length: 1 };
  for (let at = 0; at < 8; at++) {
    let length = 0;
    while (groups[at + length] === "0") length++;
    if (length > best.length) best = { at, length };
  }
  if (best.at < 0) return groups.join(":");
  const head = groups.slice(0, best.at).join(":");
  const tail = groups.slice(best.at + best.length).join(":");
  return `${head}::${tail}`;
}

/** The ICE credentials of both sides, as a check needs them. */
export interface CheckCredentials {
  /** The checked agent's ufrag and password (from its SDP). */
  remoteUfrag: string;
  remotePassword: string;
  /** The checker's own ufrag. */
  localUfrag: string;
  /** Whether the checker is the controlling agent. */
  controlling: boolean;
}

/** What came back for one check. */
export interface CheckResult {
  /** Where the answer came from; a strict agent requires the address checked. */
  from: Address;
  /** Binding success or error. */
  type: number;
  /** What the answer says the checker's address is. */
  mapped: Address | undefined;
  /** What is wrong with its integrity or fingerprint, if anything. */
  integrityProblem: string | undefined;
}

/**
 * A UDP socket that sends connectivity checks from one address and waits for
 * their answers from anywhere, so a misdirected answer is seen, not lost.
 */
export class StunChecker implements AsyncDisposable {
  readonly #socket: Socket;
  readonly #pending = new Map<string, (result: CheckResult) => void>();
  readonly #credentials: CheckCredentials;
  readonly #tieBreaker = crypto.getRandomValues(new Uint8Array(8));
  // Where the checked agent's own checks of this checker came from, in order.
  readonly #checkedFrom: Address[] = [];
  #onChecked: (() => void)[] = [];

  private constructor(socket: Socket, credentials: CheckCredentials) {
    this.#socket = socket;
    this.#credentials = credentials;
    socket.on("message", (data: Uint8Array, from: { address: string; port: number }) => {
      void this.#received(new Uint8Array(data), { address: from.address, port: from.port });
    });
  }

  /** Binds a checker to `address` on a free port. */
  static async bind(address: string, credentials: CheckCredentials): Promise<StunChecker> {
    const socket = createSocket(address.includes(":") ? "udp6" : "udp4");
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind({ address, port: 0 }, () => resolve());
      }),
      5000,
      `a UDP socket on ${address}`,
    );
    return new StunChecker(socket, credentials);
  }

  /** This checker's own transport address. */
  get address(): Address {
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  /**
   * Checks `target`: sends a Binding request every 100 ms (a lost datagram is
   * no failure) until an answer with its transaction id arrives.
   *
   * @throws {Error} When nothing answers within `ms`.
   */
  async check(target: Address, ms = 5000): Promise<CheckResult> {
    const { remoteUfrag, remotePassword, localUfrag, controlling } = this.#credentials;
    const transactionId = crypto.getRandomValues(new Uint8Array(12));
    const request = await encodeStun(StunType.BindingRequest, transactionId, [
      [Attr.Username, new TextEncoder().encode(`${remoteUfrag}:${localUfrag}`)],
      // A host candidate's priority (RFC 8445 §5.1.2.1, component 1).
      [Attr.Priority, u32(2130706431)],
      [controlling ? Attr.IceControlling : Attr.IceControlled, this.#tieBreaker],
    ], { integrityKey: new TextEncoder().encode(remotePassword), fingerprint: true });
    const key = hex(transactionId);
    const answered = new Promise<CheckResult>((resolve) => this.#pending.set(key, resolve));
    const send = () => this.#socket.send(request, target.port, target.address);
    send();
    const timer = setInterval(send, 100);
    try {
      return await within(answered, ms, `an answer to a check sent to ${format(target)}`);
    } finally {
      clearInterval(timer);
      this.#pending.delete(key);
    }
  }

  /**
   * Waits for the checked agent to check this checker from `source`: a
   * Binding request for this checker's ufrag. Requests are not answered.
   *
   * @throws {Error} When none comes from `source` within `ms`, naming where
   *   the agent's checks came from instead.
   */
  async checkedFrom(source: Address, ms = 5000): Promise<void> {
    const seen = () => this.#checkedFrom.some((from) => format(from) === format(source));
    let wake = () => {};
    const arrived = new Promise<void>((resolve) => {
      wake = () => {
        if (seen()) resolve();
      };
      this.#onChecked.push(wake);
    });
    wake();
    try {
      await within(
        arrived,
        ms,
        `a check from ${format(source)}; checks came from ${
          this.#checkedFrom.map(format).join(", ") || "nowhere"
        }`,
      );
    } finally {
      this.#onChecked = this.#onChecked.filter((w) => w !== wake);
    }
  }

  async #received(bytes: Uint8Array, from: Address): Promise<void> {
    const message = decodeStun(bytes);
    if (!message) return;
    if (message.type === StunType.BindingRequest) {
      const username = new TextDecoder().decode(message.attributes.get(Attr.Username));
      if (username.startsWith(`${this.#credentials.localUfrag}:`)) {
        this.#checkedFrom.push(from);
        for (const wake of this.#onChecked) wake();
      }
      return;
    }
    const resolve = this.#pending.get(hex(message.transactionId));
    if (!resolve) return;
    this.#pending.delete(hex(message.transactionId));
    const mapped = message.attributes.get(Attr.XorMappedAddress);
    resolve({
      from,
      type: message.type,
      mapped: mapped && xorMappedAddress(mapped, message.transactionId),
      integrityProblem: await verifyStun(
        bytes,
        message,
        new TextEncoder().encode(this.#credentials.remotePassword),
      ),
    });
  }

  /** Closes the socket. */
  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

/** `address:port`, with IPv6 in brackets. */
export function format({ address, port }: Address): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
