/**
 * Who the client is behind a reverse proxy: IP addresses, CIDR ranges, and the
 * client address from `X-Forwarded-For` or `Forwarded`, believed only when the
 * direct peer is a trusted proxy. Pure: strings in, strings out.
 *
 * @module
 */

/** An IPv4 or IPv6 address as a number, IPv4-mapped IPv6 folded to IPv4. */
export interface Ip {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address's bits: 32 for IPv4, 128 for IPv6. */
  readonly value: bigint;
}

/** A range of addresses, such as `10.0.0.0/8` or `fd00::/8`. */
export interface Cidr extends Ip {
  /** How many leading bits are fixed. */
  readonly prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-f]{1,4}$/i;

/**
 * Parses an IP address: dotted IPv4, or IPv6 with `::` and an optional
 * dotted tail. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is IPv4, as a
 * dual-stack listener reports IPv4 peers that way.
 *
 * @returns The address, or `undefined` when `text` is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIp } from "./client_address.ts";
 * assert.deepEqual(parseIp("10.0.0.1"), { family: 4, value: 0x0a000001n });
 * assert.deepEqual(parseIp("::ffff:10.0.0.1"), { family: 4, value: 0x0a000001n });
 * assert.equal(parseIp("::1")?.family, 6);
 * assert.equal(parseIp("10.0.0.256"), undefined);
 * ```
 */
export function parseIp(text: string): Ip | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

function parseIpv4(text: string): bigint | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  let value = 0n;
  for (const part of match.slice(1)) {
    // A leading zero reads as octal to some parsers: refuse the ambiguity.
    if (part.length > 1 && part.startsWith("0")) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): bigint[] | undefined => {
    if (!half) return [];
    const out: bigint[] = [];
    const parts = half.split(":");
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (HEXTET.test(part)) {
        out.push(BigInt(`0x${part}`));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const group of [...head, ...Array<bigint>(missing).fill(0n), ...tail]) {
    value = (value << 16n) | group;
  }
  return value;
}

/**
 * Parses a CIDR range; a bare address is a range of one.
 *
 * @returns The range, or `undefined` when `text` is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCidr } from "./client_address.ts";
 * assert.equal(parseCidr("10.0.0.0/8")?.prefix, 8);
 * assert.equal(parseCidr("::1")?.prefix, 128);
 * assert.equal(parseCidr("10.0.0.0/33"), undefined);
 * ```
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const width = ip.family === 4 ? 32 : 128;
  if (slash === -1) return { ...ip, prefix: width };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  // A mapped range such as ::ffff:10.0.0.0/104 counts its prefix in IPv6 bits.
  const mapped = ip.family === 4 && text.includes(":");
  const prefix = Number(prefixText) - (mapped ? 96 : 0);
  if (prefix < 0 || prefix > width) return undefined;
  return { ...ip, prefix };
}

/**
 * The trusted proxies' ranges, from `--trust-proxy`.
 *
 * @throws {TypeError} When one is not an IP address or CIDR range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trustedRanges } from "./client_address.ts";
 * assert.equal(trustedRanges(["10.0.0.0/8", "::1"]).length, 2);
 * assert.throws(() => trustedRanges(["nginx"]), TypeError);
 * ```
 */
export function trustedRanges(ranges: readonly string[]): Cidr[] {
  return ranges.map((range) => {
    const cidr = parseCidr(range);
    if (!cidr) throw new TypeError(`Not an IP address or CIDR range: "${range}"`);
    return cidr;
  });
}

/**
 * Whether `ip` lies in `range`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inRange, parseCidr, parseIp } from "./client_address.ts";
 * assert.equal(inRange(parseIp("10.1.2.3")!, parseCidr("10.0.0.0/8")!), true);
 * assert.equal(inRange(parseIp("11.0.0.1")!, parseCidr("10.0.0.0/8")!), false);
 * ```
 */
export function inRange(ip: Ip, range: Cidr): boolean {
  if (ip.family !== range.family) return false;
  const shift = BigInt((ip.family === 4 ? 32 : 128) - range.prefix);
  return ip.value >> shift === range.value >> shift;
}

/**
 * The client's IP address for a request that reached the server from `peer`.
 * Only when `peer` is in a `trusted` range are the forwarding headers
 * believed: `X-Forwarded-For` when present, else the `for=` of `Forwarded`.
 * The list is read from the right, skipping trusted proxies; the first
 * address that is not one is the client, since each proxy appends the
 * address it saw and everything to the left of a stranger may be forged. An
 * entry that is not an address (`unknown`, an obfuscated name) stops the
 * walk, and the peer itself is the answer.
 *
 * @param peer The direct peer's IP address, without a port.
 * @param headers The request's headers.
 * @param trusted The proxies' ranges (`--trust-proxy`).
 * @returns The client's IP address, without a port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientIp, parseCidr } from "./client_address.ts";
 * const trusted = [parseCidr("127.0.0.1")!];
 * const headers = new Headers({ "x-forwarded-for": "6.6.6.6, 203.0.113.7" });
 * assert.equal(clientIp("127.0.0.1", headers, trusted), "203.0.113.7");
 * // From anyone else the header is ignored.
 * assert.equal(clientIp("198.51.100.1", headers, trusted), "198.51.100.1");
 * ```
 */
export function clientIp(peer: string, headers: Headers, trusted: readonly Cidr[]): string {
  if (!isTrusted(peer, trusted)) return peer;
  const hops = forwardedHops(headers);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    const ip = parseIp(hop);
    if (!ip) return peer;
    // Parsed, so safe to log; IPv4 in one spelling for the per-address keys.
    client = ip.family === 4 ? formatIpv4(ip.value) : hop.toLowerCase();
    if (!trusted.some((range) => inRange(ip, range))) break;
  }
  return client;
}

/** Who a request came from, for logs and for per-address limits. */
export interface ClientAddress {
  /** For logs: `ip:port` of the direct peer, or the forwarded IP alone. */
  readonly address: string;
  /** For per-address limits: see {@linkcode addressKey}. */
  readonly key: string;
}

/**
 * {@linkcode clientIp} for a direct peer's `hostname` and `port`, in the
 * forms the logs and the per-address limits use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientAddress, parseCidr } from "./client_address.ts";
 * const trusted = [parseCidr("127.0.0.0/8")!];
 * const headers = new Headers({ "x-forwarded-for": "203.0.113.7" });
 * assert.deepEqual(clientAddress({ hostname: "127.0.0.1", port: 5000 }, headers, trusted), {
 *   address: "203.0.113.7",
 *   key: "203.0.113.7",
 * });
 * assert.deepEqual(clientAddress({ hostname: "::1", port: 5000 }, headers, []), {
 *   address: "[::1]:5000",
 *   key: "0000000000000000/64",
 * });
 * ```
 */
export function clientAddress(
  peer: { readonly hostname: string; readonly port: number },
  headers: Headers,
  trusted: readonly Cidr[],
): ClientAddress {
  const forwarded = trusted.length > 0 && isTrusted(peer.hostname, trusted) &&
    (headers.has("x-forwarded-for") || headers.has("forwarded"));
  const ip = forwarded ? clientIp(peer.hostname, headers, trusted) : peer.hostname;
  const address = forwarded
    ? ip
    : peer.hostname.includes(":")
    ? `[${peer.hostname}]:${peer.port}`
    : `${peer.hostname}:${peer.port}`;
  return { address, key: addressKey(ip) };
}

function isTrusted(address: string, trusted: readonly Cidr[]): boolean {
  const ip = parseIp(address);
  return ip !== undefined && trusted.some((range) => inRange(ip, range));
}

/**
 * The addresses a request passed through, oldest first, from
 * `X-Forwarded-For` or else `Forwarded`, with ports and brackets removed.
 */
export function forwardedHops(headers: Headers): string[] {
  const xff = headers.get("x-forwarded-for");
  if (xff !== null) return splitList(xff).map(stripPort);
  const forwarded = headers.get("forwarded");
  if (forwarded === null) return [];
  const hops: string[] = [];
  for (const element of splitList(forwarded)) {
    for (const pair of splitOutsideQuotes(element, ";")) {
      const eq = pair.indexOf("=");
      if (pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      hops.push(stripPort(unquote(pair.slice(eq + 1).trim())));
    }
  }
  return hops;
}

function splitList(value: string): string[] {
  return splitOutsideQuotes(value, ",").map((part) => part.trim()).filter((part) => part !== "");
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\\" && quoted) i++;
    else if (c === separator && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replace(/\\(.)/g, "$1")
    : value;
}

/** `[::1]:80` → `::1`, `1.2.3.4:80` → `1.2.3.4`; anything else unchanged. */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return v4 ? v4[1]! : hop;
}

/**
 * The key that per-address limits count under: the IPv4 address, or an IPv6
 * address's /64, since one IPv6 host usually owns a whole /64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addressKey } from "./client_address.ts";
 * assert.equal(addressKey("203.0.113.7"), "203.0.113.7");
 * assert.equal(addressKey("2001:db8:1:2::5"), addressKey("2001:db8:1:2:ffff::9"));
 * ```
 */
export function addressKey(address: string): string {
  const ip = parseIp(address);
  if (!ip) return address;
  if (ip.family === 4) return formatIpv4(ip.value);
  return `${(ip.value >> 64n).toString(16).padStart(16, "0")}/64`;
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}
