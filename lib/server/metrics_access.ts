/**
 * Who may read `/metrics` on the server's own port. It names every tenant's
 * label and live client count, so by default only a client on this machine
 * may: a direct loopback peer, or a loopback client named by a trusted proxy
 * on this machine. `--metrics-listen` gives it an address of its own instead.
 * Pure: addresses and headers in, a verdict out.
 *
 * @module
 */

import { type Cidr, clientIp, forwardedHops, inRange, parseIp } from "./client_address.ts";

/** Headers by which a proxy says whom it forwards. */
const FORWARDING = ["x-forwarded-for", "forwarded", "x-real-ip"];

/**
 * Whether a request for `/metrics` from `peer` may have it. A reverse proxy
 * on this machine is itself a loopback peer that forwards clients from
 * anywhere, so a request carrying a forwarding header is believed only from
 * a proxy in `trusted`, and only when every address its `X-Forwarded-For`
 * (or `Forwarded`) names can be read and the client among them
 * ({@linkcode clientIp}) is loopback too. A forged header can only lose
 * access, never gain it.
 *
 * @param peer The direct peer's IP address.
 * @param headers The request's headers.
 * @param trusted The proxies' ranges (`--trust-proxy`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricsReadable } from "./metrics_access.ts";
 * import { parseCidr } from "./client_address.ts";
 * assert.ok(metricsReadable("127.0.0.1", new Headers(), []));
 * assert.ok(!metricsReadable("192.0.2.7", new Headers(), []));
 * // nginx on this machine, forwarding a client from elsewhere:
 * const proxied = new Headers({ "x-forwarded-for": "127.0.0.1, 203.0.113.9" });
 * assert.ok(!metricsReadable("127.0.0.1", proxied, []));
 * assert.ok(!metricsReadable("127.0.0.1", proxied, [parseCidr("127.0.0.1")!]));
 * ```
 */
export function metricsReadable(peer: string, headers: Headers, trusted: readonly Cidr[]): boolean {
  if (!isLoopbackIp(peer)) return false;
  if (!FORWARDING.some((name) => headers.has(name))) return true;
  const ip = parseIp(peer)!;
  if (!trusted.some((range) => inRange(ip, range))) return false;
  const hops = forwardedHops(headers);
  if (hops.length === 0 || hops.some((hop) => parseIp(hop) === undefined)) return false;
  return isLoopbackIp(clientIp(peer, headers, trusted));
}

/**
 * Whether `address` is a loopback IP address: `127.0.0.0/8`, `::1`, or
 * `127.x` mapped into IPv6.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopbackIp } from "./metrics_access.ts";
 * assert.ok(isLoopbackIp("127.0.0.2") && isLoopbackIp("::1") && isLoopbackIp("::ffff:127.0.0.1"));
 * assert.ok(!isLoopbackIp("10.0.0.1") && !isLoopbackIp("::") && !isLoopbackIp("localhost"));
 * ```
 */
export function isLoopbackIp(address: string): boolean {
  const ip = parseIp(address);
  if (ip === undefined) return false;
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}
