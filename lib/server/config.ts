/**
 * The server's settings and their defaults, apart from the server itself so
 * that parsing flags loads nothing else.
 *
 * @module
 */

import type { KeyRecord } from "../auth/key_file.ts";
import type { IceServer } from "../protocol/messages.ts";
import type { TurnCredentials } from "./turn/credentials.ts";
import type { TokenVerifier } from "../auth/tokens.ts";
import type { Webhooks } from "./webhooks/webhooks.ts";

/** A certificate chain and its private key, in PEM, for `wss://` and `https://`. */
export interface TlsFiles {
  /** The certificate chain, server certificate first. */
  cert: string;
  /** The private key. */
  key: string;
}

/** How the server listens and what it tolerates. */
export interface ServerOptions {
  /** The interface to listen on. */
  host: string;
  /** The TCP port; 0 picks a free one. */
  port: number;
  /** Seconds without a pong before a client is dropped (Deno pings). */
  idleTimeout: number;
  /** The largest message accepted, in bytes; larger closes with 1009. */
  maxMessageBytes: number;
  /** Messages per second a client may send in the long run. */
  rateLimit: number;
  /** Messages a client may send in one burst. */
  rateBurst: number;
  /** The most clients registered at once; more are refused with 1013. */
  maxClients: number;
  /** Origins allowed to connect; empty allows any. */
  allowedOrigins: readonly string[];
  /**
   * Origins of the apps that may embed the page in a frame and hand it
   * access tokens with `postMessage`; none by default (no framing).
   */
  embedOrigins: readonly string[];
  /** Seconds a pairing request stays pending before it times out. */
  pairTimeout: number;
  /** Seconds a pairing code's nameplate lives unused. */
  codeTtl: number;
  /** Codes claimed or tried a minute per address, after a burst of twice as many; a key's clients, twelve times that. */
  codeRate: number;
  /** Bytes a client may leave unread before it is closed with 1008. */
  maxBufferedBytes: number;
  /** STUN and TURN servers sent to both partners in `paired`. */
  iceServers: readonly IceServer[];
  /** Whether `GET /` serves the browser page. */
  web: boolean;
  /**
   * Proxies (CIDR ranges or addresses) whose `X-Forwarded-For` or
   * `Forwarded` names the client; from anyone else those headers are ignored.
   */
  trustProxy: readonly string[];
  /** WebSockets one client address may hold at once; 0 for no limit. */
  maxClientsPerIp: number;
  /** Seconds a graceful shutdown may take before what is left is dropped. */
  shutdownTimeout: number;
  /** Seconds an upgraded connection has to open before it counts as stuck. */
  handshakeTimeout: number;
  /** Seconds a client closed for a limit has to answer the close before it counts as stuck. */
  closeTimeout: number;
  /** Seconds a resumable client's session waits after an abrupt loss; 0 turns resume off. */
  resumeGrace: number;
  /** The most messages held for a client within its grace window. */
  resumeQueue: number;
  /** Issues each client its own TURN credentials for `paired`; none by default. */
  turn?: TurnCredentials | undefined;
  /**
   * The accepted API keys, from the keys file; `undefined` for an open
   * server that takes anyone who can reach it.
   */
  apiKeys: readonly KeyRecord[] | undefined;
  /**
   * Verifies the access tokens an app's backend mints (`--token-key`,
   * `--token-secret-file`); `undefined` takes no tokens.
   */
  tokens?: TokenVerifier | undefined;
  /** Where events go (`--webhook`); none by default. */
  webhooks?: Webhooks | undefined;
  /** The certificate and key to serve TLS with; plain TCP when `undefined`. */
  tls: TlsFiles | undefined;
  /**
   * Where to serve `/metrics` (and `/healthz`) on a listener of their own,
   * in plain HTTP; the main port then has no `/metrics`. When `undefined`,
   * `/metrics` is on the main port for loopback clients only.
   */
  metricsListen: ListenAddress | undefined;
}

/** A host (name or address) and a port to listen on. */
export interface ListenAddress {
  /** The host; `localhost` means both `127.0.0.1` and `::1`. */
  host: string;
  /** The TCP port; 0 picks a free one. */
  port: number;
}

/** The defaults: `localhost:8765`, as the README documents, and limits no real client hits. */
export const DEFAULT_SERVER_OPTIONS: Readonly<ServerOptions> = {
  host: "localhost",
  port: 8765,
  idleTimeout: 30,
  maxMessageBytes: 64 * 1024,
  rateLimit: 20,
  rateBurst: 50,
  maxClients: 10_000,
  allowedOrigins: [],
  embedOrigins: [],
  pairTimeout: 30,
  codeTtl: 300,
  codeRate: 10,
  maxBufferedBytes: 1024 * 1024,
  iceServers: [],
  web: true,
  trustProxy: [],
  maxClientsPerIp: 0,
  shutdownTimeout: 10,
  handshakeTimeout: 5,
  closeTimeout: 5,
  resumeGrace: 15,
  resumeQueue: 64,
  apiKeys: undefined,
  tls: undefined,
  metricsListen: undefined,
};
