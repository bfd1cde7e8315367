/**
 * Command-line flags for the server and the client. Configuration comes from
 * flags alone, so neither needs a permission beyond `--allow-net`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LOG_FORMATS, type LogFormat } from "../runtime/logging.ts";
import { DEFAULT_SERVER_OPTIONS, type ListenAddress, type ServerOptions } from "./config.ts";
import { parseCidr } from "./client_address.ts";
import { parseRedisUrl } from "../signaling/redis/url.ts";
import { DEFAULT_TURN_TTL } from "./turn/credentials.ts";
import { TRANSFER_IDLE_MS } from "../shared/file_protocol.js";
import { errorText } from "../runtime/safe_text.ts";

/** A bad command line; the message says what to fix. */
export class UsageError extends Error {
  /** @param message What is wrong, for the user. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * What a program prints for a bad command line: the usage, then what is
 * wrong as the last line, where the eye lands (just above the prompt).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageError } from "./flags.ts";
 * assert.equal(usageError("Usage: x [options]\n", "Unknown option '--y'"), "Usage: x [options]\n\nUnknown option '--y'");
 * ```
 */
export function usageError(usage: string, message: string): string {
  return `${usage.trimEnd()}\n\n${message}`;
}

/** Everything `server.ts` takes from its command line. */
export interface ServerFlags
  extends Omit<ServerOptions, "iceServers" | "turn" | "apiKeys" | "tls"> {
  /** The keys file to load API keys from; none for an open server. */
  apiKeysFile: string | undefined;
  /** The PEM certificate chain file for TLS. */
  tlsCert: string | undefined;
  /** The PEM private key file for TLS. */
  tlsKey: string | undefined;
  /** STUN and TURN URLs for `paired`, checked but without credentials. */
  iceUrls: string[];
  /** The username for `turn:` URLs; the password comes from the environment. */
  iceUsername: string | undefined;
  /** Redis to share clients with other instances through; in memory when absent. */
  redis: string | undefined;
  /** TURN URLs each client gets fresh credentials for, in `paired`. */
  turnUrls: string[];
  /** The file holding the secret shared with the TURN server, if not the environment. */
  turnSecretFile: string | undefined;
  /** How long issued TURN credentials stay valid, in seconds. */
  turnTtl: number;
  /** The log line format. */
  logFormat: LogFormat;
  /** Whether `--help` was given. */
  help: boolean;
}

/** `server.ts --help`. */
export const SERVER_USAGE = `Usage: deno run --allow-net server.ts [options]

  --host HOST                 interface to listen on; localhost is 127.0.0.1 and ::1
                              (default localhost)
  --port PORT                 TCP port, 0 for any free one (default 8765)
  --idle-timeout SECONDS      drop a client that stops answering pings (default 30)
  --max-message-bytes BYTES   close with 1009 above this size (default 65536)
  --rate-limit N              messages per second per client (default 20)
  --rate-burst N              messages per client in one burst (default 50)
  --max-clients N             refuse clients past this with 1013 (default 10000)
  --allowed-origin ORIGIN     accept only this Origin; repeatable (default any)
  --pair-timeout SECONDS      a pairing request expires after this (default 30)
  --max-buffered-bytes BYTES  close a client that leaves this much unread (default 1048576)
  --ice-server URL            a stun: or turn: URL sent to both partners in "paired"; repeatable
  --ice-username NAME         username for turn: URLs; the password is read from
                              SWITCHBOARD_ICE_CREDENTIAL (needs --allow-env=SWITCHBOARD_ICE_CREDENTIAL)
  --turn-url URL              a turn: or turns: URL each client gets short-lived
                              credentials for in "paired"; repeatable (werift uses the first)
  --turn-secret-file FILE     the secret shared with the TURN server (coturn's
                              static-auth-secret); needs --allow-read=FILE. Without it the
                              secret is read from SWITCHBOARD_TURN_SECRET
                              (needs --allow-env=SWITCHBOARD_TURN_SECRET)
  --turn-ttl SECONDS          how long issued TURN credentials stay valid (default 3600)
  --no-web                    do not serve the browser page on GET /
  --trust-proxy CIDR          take the client address from X-Forwarded-For or
                              Forwarded when the peer is in this range; repeatable
  --max-clients-per-ip N      WebSockets one address may hold, 0 for no limit (default 0)
  --shutdown-timeout SECONDS  drop what is left this long after a signal (default 10)
  --handshake-timeout SECONDS count an upgrade that has not opened after this as stuck (default 5)
  --close-timeout SECONDS     count a closed client that has not answered after this as stuck (default 5)
  --resume-grace SECONDS      keep a resumable client's id and pairing this long after
                              its connection is lost; 0 turns resume off (default 15)
  --resume-queue N            messages kept for a client meanwhile; more end its session (default 64)
  --redis URL                 share clients with other instances through Redis:
                              redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://; the password
                              may come from SWITCHBOARD_REDIS_PASSWORD instead
                              (needs --allow-env=SWITCHBOARD_REDIS_PASSWORD)
  --api-keys FILE             accept only clients with a key from FILE (needs
                              --allow-read=FILE, or deno task server:keys); SIGHUP reloads it
  --tls-cert FILE             serve wss:// and https:// with this PEM certificate
  --tls-key FILE              and this PEM private key (needs --allow-read=CERT,KEY)
  --metrics-listen HOST:PORT  serve /metrics (and /healthz) there, in plain HTTP, and not on
                              the main port; without it /metrics answers loopback clients only
  --log-format text|json      log line format (default text)
  -h, --help                  show this help

  keys ...                    manage API keys: deno task keys --help
`;

/**
 * Parses the server's flags.
 *
 * @throws {UsageError} On an unknown flag or a bad value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServerFlags } from "./flags.ts";
 * assert.equal(parseServerFlags(["--port", "0"]).port, 0);
 * ```
 */
export function parseServerFlags(args: readonly string[]): ServerFlags {
  const { values } = parse(args, {
    host: { type: "string" },
    port: { type: "string" },
    "idle-timeout": { type: "string" },
    "max-message-bytes": { type: "string" },
    "rate-limit": { type: "string" },
    "rate-burst": { type: "string" },
    "max-clients": { type: "string" },
    "allowed-origin": { type: "string", multiple: true },
    "pair-timeout": { type: "string" },
    "max-buffered-bytes": { type: "string" },
    "ice-server": { type: "string", multiple: true },
    "ice-username": { type: "string" },
    "turn-url": { type: "string", multiple: true },
    "turn-secret-file": { type: "string" },
    "turn-ttl": { type: "string" },
    "no-web": { type: "boolean" },
    "trust-proxy": { type: "string", multiple: true },
    "max-clients-per-ip": { type: "string" },
    "shutdown-timeout": { type: "string" },
    "handshake-timeout": { type: "string" },
    "close-timeout": { type: "string" },
    "resume-grace": { type: "string" },
    "resume-queue": { type: "string" },
    redis: { type: "string" },
    "api-keys": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "metrics-listen": { type: "string" },
    "log-format": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  const d = DEFAULT_SERVER_OPTIONS;
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const iceUrls = iceServerUrls(values["ice-server"], values["ice-username"]);
  if (values.redis !== undefined && values["turn-url"] !== undefined) {
    // Credentials are made per client as `paired` goes out, which the shared
    // store's signaling does not do yet.
    throw new UsageError("--turn-url cannot be combined with --redis yet");
  }
  if (values.redis !== undefined && values["api-keys"] !== undefined) {
    // Which key a client came with is kept in this instance's memory, so
    // tenants could not be kept apart across instances.
    throw new UsageError("--api-keys cannot be combined with --redis yet");
  }
  return {
    host: values.host ?? d.host,
    port: integer("--port", values.port, d.port, 0, 65535),
    idleTimeout: integer("--idle-timeout", values["idle-timeout"], d.idleTimeout, 1, DAY),
    maxMessageBytes: integer(
      "--max-message-bytes",
      values["max-message-bytes"],
      d.maxMessageBytes,
      64,
    ),
    rateLimit: number("--rate-limit", values["rate-limit"], d.rateLimit),
    rateBurst: integer("--rate-burst", values["rate-burst"], d.rateBurst, 1),
    maxClients: integer("--max-clients", values["max-clients"], d.maxClients, 1),
    allowedOrigins: values["allowed-origin"] ?? d.allowedOrigins,
    pairTimeout: number("--pair-timeout", values["pair-timeout"], d.pairTimeout, DAY),
    maxBufferedBytes: integer(
      "--max-buffered-bytes",
      values["max-buffered-bytes"],
      d.maxBufferedBytes,
      1024,
    ),
    iceUrls,
    iceUsername: values["ice-username"],
    ...turnFlags(values["turn-url"], values["turn-secret-file"], values["turn-ttl"]),
    web: !(values["no-web"] ?? false),
    trustProxy: trustProxy(values["trust-proxy"] ?? d.trustProxy),
    maxClientsPerIp: integer(
      "--max-clients-per-ip",
      values["max-clients-per-ip"],
      d.maxClientsPerIp,
      0,
    ),
    shutdownTimeout: number(
      "--shutdown-timeout",
      values["shutdown-timeout"],
      d.shutdownTimeout,
      DAY,
    ),
    handshakeTimeout: number(
      "--handshake-timeout",
      values["handshake-timeout"],
      d.handshakeTimeout,
      DAY,
    ),
    closeTimeout: number("--close-timeout", values["close-timeout"], d.closeTimeout, DAY),
    resumeGrace: values["resume-grace"]?.trim() === "0"
      ? 0
      : number("--resume-grace", values["resume-grace"], d.resumeGrace, HOUR),
    resumeQueue: integer("--resume-queue", values["resume-queue"], d.resumeQueue, 1, 100_000),
    redis: redisUrl(values.redis),
    apiKeysFile: values["api-keys"],
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
    metricsListen: listenAddress("--metrics-listen", values["metrics-listen"]),
    logFormat: logFormat(values["log-format"]),
    help: values.help ?? false,
  };
}

/** Checks the TURN flags: TURN URLs only, and the other two only with one. */
function turnFlags(
  urls: string[] | undefined,
  secretFile: string | undefined,
  ttl: string | undefined,
): Pick<ServerFlags, "turnUrls" | "turnSecretFile" | "turnTtl"> {
  for (const url of urls ?? []) {
    if (!/^turns?:[^\s]+$/.test(url)) {
      throw new UsageError(`--turn-url takes a turn: or turns: URL, got "${url}"`);
    }
  }
  if (urls === undefined) {
    if (secretFile !== undefined) throw new UsageError("--turn-secret-file goes with --turn-url");
    if (ttl !== undefined) throw new UsageError("--turn-ttl goes with --turn-url");
  }
  if (secretFile === "") throw new UsageError("--turn-secret-file takes a file name");
  return {
    turnUrls: urls ?? [],
    turnSecretFile: secretFile,
    turnTtl: integer("--turn-ttl", ttl, DEFAULT_TURN_TTL, 1, 7 * DAY),
  };
}

function trustProxy(ranges: readonly string[]): readonly string[] {
  for (const range of ranges) {
    if (!parseCidr(range)) {
      throw new UsageError(
        `--trust-proxy takes an IPv4 or IPv6 address or CIDR range, got "${range}"`,
      );
    }
  }
  return ranges;
}

/** `HOST:PORT`, with an IPv6 address in brackets (`[::1]:9100`). */
function listenAddress(flag: string, raw: string | undefined): ListenAddress | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    throw new UsageError(
      `${flag} takes HOST:PORT, such as 127.0.0.1:9100 or [::1]:9100, got "${raw}"`,
    );
  }
  return { host: match[1]!, port };
}

function redisUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    parseRedisUrl(raw);
  } catch (error) {
    throw new UsageError(`--redis: ${errorText(error)}`);
  }
  return raw;
}

/** Everything `client.ts` takes from its command line. */
export interface ClientFlags {
  /** The server's WebSocket URL. */
  url: string;
  /** Exit right after printing the id. */
  once: boolean;
  /** Retry after a refused connection or an unexpected close. */
  reconnect: boolean;
  /** The least wait before the first retry, in seconds; it doubles each retry. */
  retryDelay: number;
  /** Retries in a row, after the attempt that failed first, before giving up. */
  maxRetries: number;
  /** An id to ask to pair with on each connection. */
  pair: string | undefined;
  /** Accept every pairing request at once. */
  accept: boolean;
  /** In piped input, how long `pair` and `accept` wait for their answer, in seconds. */
  answerTimeout: number;
  /** Open a WebRTC data channel to the partner and chat over it. */
  webrtc: boolean;
  /** Seconds to wait for the data channel before falling back to the server relay. */
  p2pTimeout: number;
  /** The peer's own STUN and TURN URLs, added to the server's. */
  iceUrls: string[];
  /** The username for `turn:` URLs; the password comes from the environment. */
  iceUsername: string | undefined;
  /** Use TURN relays only, so the partner never learns this peer's address. */
  relayOnly: boolean;
  /** A file holding the API key; else it comes from the environment, if anywhere. */
  apiKeyFile: string | undefined;
  /** Accept every file offer at once. */
  acceptFiles: boolean;
  /** Where received files go. */
  downloadDir: string;
  /** Refuse file offers larger than this many bytes. */
  maxFileBytes: number | undefined;
  /** End a file transfer that makes no progress for this many seconds. */
  transferIdle: number;
  /** The log line format. */
  logFormat: LogFormat;
  /** Whether `--help` was given. */
  help: boolean;
}

/**
 * How long a piped `pair` or `accept` waits for its answer by default, in
 * seconds: longer than the server's default pair timeout (30 s), which
 * answers first.
 */
export const DEFAULT_ANSWER_TIMEOUT = 60;

/** The spec's `SERVER_URL`. */
export const DEFAULT_SERVER_URL = "ws://localhost:8765";

/** `client.ts --help`. */
export const CLIENT_USAGE = `Usage: deno run --allow-net client.ts [options]

  --url URL                   server to connect to (default ${DEFAULT_SERVER_URL})
  --once                      exit right after printing the id
  --reconnect                 retry after a refused connection or a lost one
  --retry-delay SECONDS       wait before the first retry; doubles, to 30 s (default 0.5)
  --max-retries N             retries in a row before giving up (default 10)
  --pair ID                   ask this client to pair as soon as connected
  --accept                    accept pairing requests automatically
  --answer-timeout SECONDS    in piped commands, how long pair and accept wait for
                              their answer before the next command runs (default ${DEFAULT_ANSWER_TIMEOUT})
  --api-key-file FILE         send the API key in FILE (needs --allow-read=FILE); else
                              SWITCHBOARD_API_KEY, with --allow-env=SWITCHBOARD_API_KEY
  --log-format text|json      log line format (default text)

WebRTC mode (deno task peer; needs --allow-net --allow-env --allow-sys=networkInterfaces):
  --webrtc                    chat over a peer-to-peer data channel once paired
  --p2p-timeout SECONDS       fall back to the server relay after this (default 15)
  --ice-server URL            a stun: or turn: URL, added to the server's; repeatable
  --ice-username NAME         username for turn: URLs; the password is read from
                              SWITCHBOARD_ICE_CREDENTIAL
  --relay-only                connect through TURN relays only (hides your address)

Files in WebRTC mode (deno task peer-files; sendfile <path> needs --allow-read for the file,
receiving needs --allow-read=DIR --allow-write=DIR for the download folder):
  --accept-files              accept file offers automatically
  --download-dir DIR          where received files go, made if missing (default: the
                              folder the command was started in)
  --max-file-bytes N          decline offers larger than N bytes
  --transfer-idle SECONDS     end a transfer that makes no progress this long (default ${
  TRANSFER_IDLE_MS / 1000
})
  -h, --help                  show this help
`;

/**
 * Parses the client's flags.
 *
 * @throws {UsageError} On an unknown flag or a bad value, such as a `--url`
 *   that is not a `ws:` or `wss:` URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClientFlags, UsageError } from "./flags.ts";
 * assert.equal(parseClientFlags(["--url", "wss://example.com/ws"]).url, "wss://example.com/ws");
 * assert.throws(() => parseClientFlags(["--url", "http://example.com"]), UsageError);
 * ```
 */
export function parseClientFlags(args: readonly string[]): ClientFlags {
  const { values } = parse(args, {
    url: { type: "string" },
    once: { type: "boolean" },
    reconnect: { type: "boolean" },
    "retry-delay": { type: "string" },
    "max-retries": { type: "string" },
    pair: { type: "string" },
    accept: { type: "boolean" },
    "answer-timeout": { type: "string" },
    webrtc: { type: "boolean" },
    "p2p-timeout": { type: "string" },
    "ice-server": { type: "string", multiple: true },
    "ice-username": { type: "string" },
    "relay-only": { type: "boolean" },
    "api-key-file": { type: "string" },
    "accept-files": { type: "boolean" },
    "download-dir": { type: "string" },
    "max-file-bytes": { type: "string" },
    "transfer-idle": { type: "string" },
    "log-format": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  const webrtc = values.webrtc ?? false;
  const webrtcOnly = [
    "p2p-timeout",
    "ice-server",
    "ice-username",
    "relay-only",
    "accept-files",
    "download-dir",
    "max-file-bytes",
    "transfer-idle",
  ] as const;
  for (const flag of webrtcOnly) {
    if (!webrtc && values[flag] !== undefined) {
      throw new UsageError(`--${flag} works only with --webrtc`);
    }
  }
  return {
    url: serverUrl(values.url ?? DEFAULT_SERVER_URL),
    once: values.once ?? false,
    reconnect: values.reconnect ?? false,
    retryDelay: number("--retry-delay", values["retry-delay"], 0.5),
    maxRetries: integer("--max-retries", values["max-retries"], 10, 1),
    pair: values.pair,
    accept: values.accept ?? false,
    answerTimeout: number(
      "--answer-timeout",
      values["answer-timeout"],
      DEFAULT_ANSWER_TIMEOUT,
      DAY,
    ),
    webrtc,
    p2pTimeout: number("--p2p-timeout", values["p2p-timeout"], 15, DAY),
    iceUrls: iceServerUrls(values["ice-server"], values["ice-username"]),
    iceUsername: values["ice-username"],
    relayOnly: values["relay-only"] ?? false,
    apiKeyFile: values["api-key-file"],
    acceptFiles: values["accept-files"] ?? false,
    downloadDir: downloadDir(values["download-dir"]),
    maxFileBytes: values["max-file-bytes"] === undefined
      ? undefined
      : integer("--max-file-bytes", values["max-file-bytes"], 0, 1),
    transferIdle: number("--transfer-idle", values["transfer-idle"], TRANSFER_IDLE_MS / 1000, DAY),
    logFormat: logFormat(values["log-format"]),
    help: values.help ?? false,
  };
}

type Spec = Record<
  string,
  { type: "string" | "boolean"; multiple?: boolean; short?: string }
>;

function parse<T extends Spec>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, strict: true });
  } catch (error) {
    throw new UsageError(errorText(error));
  }
}

// Longer timeouts are mistakes, and overflow the runtime's timers.
const DAY = 86_400;

// A session held longer than this is a connection nobody will come back to.
const HOUR = 3_600;

function number(
  flag: string,
  raw: string | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`${flag} takes a positive number up to ${max}, got "${raw}"`);
  }
  return value;
}

function integer(
  flag: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new UsageError(
      `${flag} takes a whole number from ${min} to ${max}, got "${raw}"`,
    );
  }
  return value;
}

/** Checks `--ice-server` URLs: STUN or TURN only, and TURN only with a username. */
function iceServerUrls(urls: string[] | undefined, username: string | undefined): string[] {
  for (const url of urls ?? []) {
    if (!/^(stuns?|turns?):[^\s]+$/.test(url)) {
      throw new UsageError(`--ice-server takes a stun: or turn: URL, got "${url}"`);
    }
    if (/^turns?:/.test(url) && username === undefined) {
      throw new UsageError(`--ice-server ${url} needs --ice-username (a TURN server asks for one)`);
    }
  }
  if (username !== undefined && !(urls ?? []).some((url) => /^turns?:/.test(url))) {
    throw new UsageError("--ice-username goes with a turn: URL in --ice-server");
  }
  return urls ?? [];
}

/** A WebSocket URL the client can connect to, as given; a usage error otherwise. */
function serverUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url takes a ws:// or wss:// URL, got "${raw}"`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new UsageError(
      `--url takes a ws:// or wss:// URL, got "${raw}" (scheme ${url.protocol})`,
    );
  }
  if (url.hash !== "") {
    throw new UsageError(`--url cannot have a #fragment, got "${raw}"`);
  }
  return raw;
}

function downloadDir(raw: string | undefined): string {
  if (raw === undefined) return ".";
  if (raw.trim() === "" || raw.includes("\0")) {
    throw new UsageError(`--download-dir takes a folder, got "${raw}"`);
  }
  return raw;
}

function logFormat(raw: string | undefined): LogFormat {
  if (raw === undefined) return "text";
  const format = LOG_FORMATS.find((f) => f === raw);
  if (!format) {
    throw new UsageError(`--log-format takes text or json, got "${raw}"`);
  }
  return format;
}
