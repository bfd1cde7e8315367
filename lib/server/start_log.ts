/**
 * The lines a server logs as it starts: where it listens (and where a
 * browser finds the page and Prometheus finds `/metrics`), then who may
 * connect.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import type { ServerOptions } from "./config.ts";
import { formatAddr } from "./listeners.ts";

const logger = getLogger(["switchboard", "server"]);

/**
 * The start line: every address listened on, where a browser finds the page
 * (`localhost` for a wildcard host, which a browser cannot open), and where
 * Prometheus finds `/metrics` when it has a listener of its own.
 */
export function logListening(
  config: ServerOptions,
  addrs: readonly Deno.NetAddr[],
  metricsAddrs: readonly Deno.NetAddr[] | undefined,
): void {
  const secure = config.tls === undefined ? "" : "s";
  const urls = addrs.map((addr) => `ws${secure}://${formatAddr(addr)}`).join(" and ");
  const port = addrs[0]!.port;
  const host = /^(0\.0\.0\.0|\[?::\]?)$/.test(config.host)
    ? "localhost"
    : config.host.includes(":") && !config.host.startsWith("[")
    ? `[${config.host}]`
    : config.host;
  const page = `http${secure}://${host}:${port}/`;
  const metrics = metricsAddrs?.map((addr) => `http://${formatAddr(addr)}/metrics`).join(" and ");
  const template = "Server listening on {url}" + (config.web ? "; the page is at {page}" : "") +
    (metrics === undefined ? "" : "; /metrics is at {metrics}");
  logger.info(template, {
    url: urls,
    ...(config.web ? { page } : {}),
    ...(metrics ? { metrics } : {}),
  });
}

/**
 * Says who may connect, after the listening line: anyone, or holders of a
 * key; and warns when keys would cross a network in the clear.
 */
export function logAccess(config: ServerOptions): void {
  const keys = config.apiKeys !== undefined;
  const tokens = config.tokens !== undefined;
  if (!keys && !tokens) {
    logger.info("Open to any client that can reach it: no --api-keys, no --token-key");
    return;
  }
  if (keys && tokens) {
    logger.info("Clients need an API key (keys loaded: {keys}) or an access token", {
      keys: config.apiKeys?.length,
    });
  } else if (keys) {
    logger.info("Clients need an API key (keys loaded: {keys})", { keys: config.apiKeys?.length });
  } else {
    logger.info("Clients need an access token");
  }
  if (config.tls === undefined && !isLoopback(config.host)) {
    logger.warn(
      "{credentials} without TLS on {host}: anyone on the network path can read them; add --tls-cert and --tls-key, or listen on loopback behind a TLS proxy",
      { host: config.host, credentials: keys ? "API keys" : "Access tokens" },
    );
  }
}

/**
 * Whether `host` is a loopback name or address, where plain `ws://` never
 * leaves the machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./start_log.ts";
 * assert.ok(isLoopback("localhost") && isLoopback("127.0.0.2") && isLoopback("::1"));
 * assert.ok(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.5"));
 * ```
 */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
