/**
 * The server's command-line flags, each declared once (name, usage text,
 * parser, default), and the `--help` text made from them. Configuration
 * comes from flags alone, so the server needs no permission beyond
 * `--allow-net` unless a flag names a file or a secret.
 *
 * @module
 */

import {
  DAY,
  type FlagContext,
  type FlagParser,
  type FlagRule,
  helpFlag,
  listFlag,
  parseFlags,
  positiveNumber,
  switchFlag,
  UsageError,
  usageText,
  valueFlag,
  wholeNumber,
} from "../runtime/args.ts";
import {
  iceFlagsRule,
  iceServerFlag,
  iceUsernameFlag,
  logFormatFlag,
} from "../runtime/common_flags.ts";
import { errorText } from "../runtime/safe_text.ts";
import type { LogFormat } from "../runtime/logging.ts";
import { ICE_CREDENTIAL_ENV } from "../protocol/ice_servers.ts";
import { parseRedisUrl, REDIS_PASSWORD_ENV } from "../signaling/redis/url.ts";
import { DEFAULT_SERVER_OPTIONS, type ListenAddress, type ServerOptions } from "./config.ts";
import { parseCidr } from "./client_address.ts";
import { DEFAULT_TURN_TTL } from "./turn/credentials.ts";
import { TURN_SECRET_ENV } from "./turn/secret.ts";
import { WEBHOOK_SECRET_ENV } from "./webhooks/secret.ts";
import { DEFAULT_RETRY_FOR_S } from "./webhooks/webhooks.ts";

/** Everything `server.ts` takes from its command line. */
export interface ServerFlags
  extends Omit<ServerOptions, "iceServers" | "turn" | "apiKeys" | "tls" | "tokens" | "webhooks"> {
  /** The keys file to load API keys from; none for an open server. */
  apiKeysFile: string | undefined;
  /** The public keys (JWKS, JWK or PEM) access tokens are verified with. */
  tokenKey: string | undefined;
  /** The file holding the HS256 secret access tokens are verified with. */
  tokenSecretFile: string | undefined;
  /** The `iss` every access token must carry, if any. */
  tokenIssuer: string | undefined;
  /** The `aud` every access token must carry, if any. */
  tokenAudience: string | undefined;
  /** The URLs events are POSTed to. */
  webhookUrls: string[];
  /** The file holding the secret webhooks are signed with, if not the environment. */
  webhookSecretFile: string | undefined;
  /** How long each event is retried, in seconds. */
  webhookRetryFor: number;
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

// A session held longer than this is a connection nobody will come back to.
const HOUR = 3_600;

const d = DEFAULT_SERVER_OPTIONS;

/** The server's flags, in the order `--help` lists them and their values are checked. */
const SERVER_FLAGS = {
  host: valueFlag({
    name: "host",
    value: "HOST",
    help: "interface to listen on; localhost is 127.0.0.1 and ::1\n",
    default: d.host,
  }),
  port: valueFlag({
    name: "port",
    value: "PORT",
    help: "TCP port, 0 for any free one",
    default: d.port,
    parse: wholeNumber(0, 65535),
  }),
  idleTimeout: valueFlag({
    name: "idle-timeout",
    value: "SECONDS",
    help: "drop a client that stops answering pings",
    default: d.idleTimeout,
    parse: wholeNumber(1, DAY),
  }),
  maxMessageBytes: valueFlag({
    name: "max-message-bytes",
    value: "BYTES",
    help: "close with 1009 above this size",
    default: d.maxMessageBytes,
    parse: wholeNumber(64),
  }),
  rateLimit: valueFlag({
    name: "rate-limit",
    value: "N",
    help: "messages per second per client",
    default: d.rateLimit,
    parse: positiveNumber(),
  }),
  rateBurst: valueFlag({
    name: "rate-burst",
    value: "N",
    help: "messages per client in one burst",
    default: d.rateBurst,
    parse: wholeNumber(1),
  }),
  maxClients: valueFlag({
    name: "max-clients",
    value: "N",
    help: "refuse clients past this with 1013",
    default: d.maxClients,
    parse: wholeNumber(1),
  }),
  allowedOrigins: listFlag({
    name: "allowed-origin",
    value: "ORIGIN",
    help: "accept only this Origin; repeatable",
    default: d.allowedOrigins,
    showDefault: "any",
  }),
  embedOrigins: listFlag({
    name: "embed-origin",
    value: "ORIGIN",
    help: "let the app at ORIGIN frame the page and hand it access\n" +
      "tokens with postMessage; repeatable",
    default: d.embedOrigins,
    showDefault: "none",
    parse: origin,
  }),
  pairTimeout: valueFlag({
    name: "pair-timeout",
    value: "SECONDS",
    help: "a pairing request expires after this",
    default: d.pairTimeout,
    parse: positiveNumber(DAY),
  }),
  codeTtl: valueFlag({
    name: "code-ttl",
    value: "SECONDS",
    help: "a pairing code's number (nameplate) expires unused after this",
    default: d.codeTtl,
    parse: positiveNumber(DAY),
  }),
  codeRate: valueFlag({
    name: "code-rate",
    value: "N",
    help: "codes claimed or tried a minute per address (twice that at once;\n" +
      "twelve times that per API key)",
    default: d.codeRate,
    parse: positiveNumber(1_000_000),
  }),
  maxBufferedBytes: valueFlag({
    name: "max-buffered-bytes",
    value: "BYTES",
    help: "close a client that leaves this much unread",
    default: d.maxBufferedBytes,
    parse: wholeNumber(1024),
  }),
  iceUrls: iceServerFlag(`a stun: or turn: URL sent to both partners in "paired"; repeatable`),
  iceUsername: iceUsernameFlag(
    "username for turn: URLs; the password is read from\n" +
      `${ICE_CREDENTIAL_ENV} (needs --allow-env=${ICE_CREDENTIAL_ENV})`,
  ),
  turnUrls: listFlag({
    name: "turn-url",
    value: "URL",
    help: "a turn: or turns: URL each client gets short-lived\n" +
      `credentials for in "paired"; repeatable (werift uses the first)`,
    parse: turnUrl,
  }),
  turnSecretFile: valueFlag({
    name: "turn-secret-file",
    value: "FILE",
    help: "the secret shared with the TURN server (coturn's\n" +
      "static-auth-secret); needs --allow-read=FILE. Without it the\n" +
      `secret is read from ${TURN_SECRET_ENV}\n` +
      `(needs --allow-env=${TURN_SECRET_ENV})`,
    parse: withTurnUrl(fileName),
  }),
  turnTtl: valueFlag({
    name: "turn-ttl",
    value: "SECONDS",
    help: "how long issued TURN credentials stay valid",
    default: DEFAULT_TURN_TTL,
    parse: withTurnUrl(wholeNumber(1, 7 * DAY)),
  }),
  noWeb: switchFlag({ name: "no-web", help: "do not serve the browser page on GET /" }),
  trustProxy: listFlag({
    name: "trust-proxy",
    value: "CIDR",
    help: "take the client address from X-Forwarded-For or\n" +
      "Forwarded when the peer is in this range; repeatable",
    default: d.trustProxy,
    parse: proxyRange,
  }),
  maxClientsPerIp: valueFlag({
    name: "max-clients-per-ip",
    value: "N",
    help: "WebSockets one address may hold, 0 for no limit",
    default: d.maxClientsPerIp,
    parse: wholeNumber(0),
  }),
  shutdownTimeout: valueFlag({
    name: "shutdown-timeout",
    value: "SECONDS",
    help: "drop what is left this long after a signal",
    default: d.shutdownTimeout,
    parse: positiveNumber(DAY),
  }),
  handshakeTimeout: valueFlag({
    name: "handshake-timeout",
    value: "SECONDS",
    help: "count an upgrade that has not opened after this as stuck",
    default: d.handshakeTimeout,
    parse: positiveNumber(DAY),
  }),
  closeTimeout: valueFlag({
    name: "close-timeout",
    value: "SECONDS",
    help: "count a closed client that has not answered after this as stuck",
    default: d.closeTimeout,
    parse: positiveNumber(DAY),
  }),
  resumeGrace: valueFlag({
    name: "resume-grace",
    value: "SECONDS",
    help: "keep a resumable client's id and pairing this long after\n" +
      "its connection is lost; 0 turns resume off",
    default: d.resumeGrace,
    parse: (raw, context) => raw.trim() === "0" ? 0 : positiveNumber(HOUR)(raw, context),
  }),
  resumeQueue: valueFlag({
    name: "resume-queue",
    value: "N",
    help: "messages kept for a client meanwhile; more end its session",
    default: d.resumeQueue,
    parse: wholeNumber(1, 100_000),
  }),
  redis: valueFlag({
    name: "redis",
    value: "URL",
    help: "share clients with other instances through Redis:\n" +
      "redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://; the password\n" +
      `may come from ${REDIS_PASSWORD_ENV} instead\n` +
      `(needs --allow-env=${REDIS_PASSWORD_ENV})`,
    parse: redisUrl,
  }),
  apiKeysFile: valueFlag({
    name: "api-keys",
    value: "FILE",
    help: "accept only clients with a key from FILE (needs\n" +
      "--allow-read=FILE, or deno task server:keys); SIGHUP reloads it",
  }),
  tokenKey: valueFlag({
    name: "token-key",
    value: "FILE",
    help: "accept access tokens (JWTs) signed by the public keys in FILE:\n" +
      "a JWKS, a JWK or PEM (needs --allow-read=FILE)",
    parse: fileName,
  }),
  tokenSecretFile: valueFlag({
    name: "token-secret-file",
    value: "FILE",
    help: "or HS256 tokens, with the secret in FILE (needs --allow-read=FILE)",
    parse: fileName,
  }),
  tokenIssuer: valueFlag({
    name: "token-issuer",
    value: "ISS",
    help: "refuse access tokens whose iss is not ISS",
    parse: withTokens,
  }),
  tokenAudience: valueFlag({
    name: "token-audience",
    value: "AUD",
    help: "refuse access tokens whose aud does not name AUD",
    parse: withTokens,
  }),
  webhookUrls: listFlag({
    name: "webhook",
    value: "URL",
    help: "POST events (clients, pairs, revoked keys, refused tokens) to\n" +
      "this http(s) URL, signed the Standard Webhooks way; repeatable",
    parse: webhookUrl,
  }),
  webhookSecretFile: valueFlag({
    name: "webhook-secret-file",
    value: "FILE",
    help: "the signing secret (whsec_...) is in FILE (needs\n" +
      `--allow-read=FILE); without it, ${WEBHOOK_SECRET_ENV}\n` +
      `(needs --allow-env=${WEBHOOK_SECRET_ENV})`,
    parse: withWebhook(fileName),
  }),
  webhookRetryFor: valueFlag({
    name: "webhook-retry-for",
    value: "SECONDS",
    help: "retry each event this long, then drop and count it",
    default: DEFAULT_RETRY_FOR_S,
    parse: withWebhook(positiveNumber(7 * DAY)),
  }),
  tlsCert: valueFlag({
    name: "tls-cert",
    value: "FILE",
    help: "serve wss:// and https:// with this PEM certificate",
  }),
  tlsKey: valueFlag({
    name: "tls-key",
    value: "FILE",
    help: "and this PEM private key (needs --allow-read=CERT,KEY)",
  }),
  metricsListen: valueFlag({
    name: "metrics-listen",
    value: "HOST:PORT",
    help: "serve /metrics (and /healthz) there, in plain HTTP, and not on\n" +
      "the main port; without it /metrics answers loopback clients only",
    parse: listenAddress,
  }),
  logFormat: logFormatFlag,
  help: helpFlag,
};

/** `server.ts --help`. */
export const SERVER_USAGE: string = usageText(
  "Usage: deno run --allow-net server.ts [options]",
  [
    { entries: Object.values(SERVER_FLAGS) },
    { entries: [{ term: "keys ...", help: "manage API keys: deno task keys --help" }] },
  ],
);

/** The rules between the server's flags, checked before any value. */
const SERVER_RULES: readonly FlagRule[] = [
  (given) => {
    if ((given["tls-cert"] === undefined) !== (given["tls-key"] === undefined)) {
      throw new UsageError("--tls-cert and --tls-key go together");
    }
  },
  iceFlagsRule,
  (given) => {
    if (given["token-key"] !== undefined && given["token-secret-file"] !== undefined) {
      throw new UsageError("give --token-key or --token-secret-file, not both");
    }
  },
];

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
  const { noWeb, ...values } = parseFlags(args, SERVER_FLAGS, SERVER_RULES);
  return { ...values, web: !noWeb };
}

function turnUrl(url: string): string {
  if (!/^turns?:[^\s]+$/.test(url)) {
    throw new UsageError(`--turn-url takes a turn: or turns: URL, got "${url}"`);
  }
  return url;
}

/** A TURN flag's parser, refusing the flag without a `--turn-url` to go with. */
function withTurnUrl<T>(parse: FlagParser<T>): FlagParser<T> {
  return (raw, context) => {
    if (context.given["turn-url"] === undefined) {
      throw new UsageError(`${context.flag} goes with --turn-url`);
    }
    return parse(raw, context);
  };
}

function webhookUrl(raw: string, { flag }: FlagContext): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol)) {
    throw new UsageError(`${flag} takes an http:// or https:// URL`);
  }
  return raw;
}

/** A webhook flag's parser, refusing the flag without a `--webhook` to go with. */
function withWebhook<T>(parse: FlagParser<T>): FlagParser<T> {
  return (raw, context) => {
    if (context.given["webhook"] === undefined) {
      throw new UsageError(`${context.flag} goes with --webhook`);
    }
    return parse(raw, context);
  };
}

/** A token flag's parser, refusing the flag without a token key or secret to go with. */
function withTokens(raw: string, { flag, given }: FlagContext): string {
  if (given["token-key"] === undefined && given["token-secret-file"] === undefined) {
    throw new UsageError(`${flag} goes with --token-key or --token-secret-file`);
  }
  if (raw === "") throw new UsageError(`${flag} takes a value`);
  return raw;
}

/** An origin as browsers send it: a scheme, a host and maybe a port, nothing else. */
function origin(raw: string, { flag }: FlagContext): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== raw) {
    throw new UsageError(
      `${flag} takes an origin such as https://app.example or http://localhost:3000, got "${raw}"`,
    );
  }
  return raw;
}

function fileName(raw: string, { flag }: FlagContext): string {
  if (raw === "") throw new UsageError(`${flag} takes a file name`);
  return raw;
}

function proxyRange(range: string): string {
  if (!parseCidr(range)) {
    throw new UsageError(
      `--trust-proxy takes an IPv4 or IPv6 address or CIDR range, got "${range}"`,
    );
  }
  return range;
}

/** `HOST:PORT`, with an IPv6 address in brackets (`[::1]:9100`). */
function listenAddress(raw: string, { flag }: FlagContext): ListenAddress {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    throw new UsageError(
      `${flag} takes HOST:PORT, such as 127.0.0.1:9100 or [::1]:9100, got "${raw}"`,
    );
  }
  return { host: match[1]!, port };
}

function redisUrl(raw: string): string {
  try {
    parseRedisUrl(raw);
  } catch (error) {
    throw new UsageError(`--redis: ${errorText(error)}`);
  }
  return raw;
}
