/**
 * The command-line client's flags, each declared once (name, usage text,
 * parser, default), and the `--help` text made from them.
 *
 * @module
 */

import {
  DAY,
  type Flag,
  type FlagContext,
  type FlagRule,
  helpFlag,
  parseFlags,
  positiveNumber,
  switchFlag,
  UsageError,
  usageText,
  valueFlag,
  wholeNumber,
} from "../runtime/args.ts";
import { iceServerFlag, iceUsernameFlag, logFormatFlag } from "../runtime/common_flags.ts";
import type { LogFormat } from "../runtime/logging.ts";
import { ICE_CREDENTIAL_ENV } from "../protocol/ice_servers.ts";
import { TRANSFER_IDLE_MS } from "../shared/file_protocol.js";
import { API_KEY_ENV } from "./api_key.ts";
import { KEEP_PARTIALS_HOURS, MAX_PARTIALS } from "./files/partials.ts";
import { parseCode } from "../shared/pairing_code.js";

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
  /** An id to ask to pair with on each connection, or a code to pair by. */
  pair: string | undefined;
  /** Get a code for someone to pair with, once connected (WebRTC mode). */
  code: boolean;
  /** A remembered device to meet once connected (WebRTC mode). */
  to: string | undefined;
  /** Where remembered devices are kept; `$XDG_CONFIG_HOME/switchboard` or `~/.config/switchboard`. */
  devicesDir: string | undefined;
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
  /** Keep an interrupted file's partial this many hours to resume it; 0 keeps none. */
  keepPartials: number;
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

/** The server URL a client connects to when given no `--url`, as the README documents. */
export const DEFAULT_SERVER_URL = "ws://localhost:8765";

/** The client's flags, in the order their values are checked. */
const CLIENT_FLAGS = {
  url: valueFlag({
    name: "url",
    value: "URL",
    help: "server to connect to",
    default: DEFAULT_SERVER_URL,
    parse: serverUrl,
  }),
  once: switchFlag({ name: "once", help: "exit right after printing the id" }),
  reconnect: switchFlag({
    name: "reconnect",
    help: "retry after a refused connection or a lost one",
  }),
  retryDelay: valueFlag({
    name: "retry-delay",
    value: "SECONDS",
    help: "wait before the first retry; doubles, to 30 s",
    default: 0.5,
    parse: positiveNumber(),
  }),
  maxRetries: valueFlag({
    name: "max-retries",
    value: "N",
    help: "retries in a row before giving up",
    default: 10,
    parse: wholeNumber(1),
  }),
  pair: valueFlag({
    name: "pair",
    value: "ID|CODE",
    help: "ask this client to pair as soon as connected, or pair by\n" +
      "its code (a code alone as the last argument does the same)",
  }),
  code: switchFlag({
    name: "code",
    help: "get a code for someone to pair with you (7-tidy-orbit),\n" +
      "with its link and a QR code (WebRTC mode)",
  }),
  to: valueFlag({
    name: "to",
    value: "NAME",
    help: "pair with a remembered device once both are connected",
  }),
  devicesDir: valueFlag({
    name: "devices-dir",
    value: "DIR",
    help: "where remembered devices are kept; needs --allow-read=DIR\n" +
      "--allow-write=DIR (deno task peer-devices)",
    showDefault: "~/.config/switchboard",
    parse: folder,
  }),
  accept: switchFlag({ name: "accept", help: "accept pairing requests automatically" }),
  answerTimeout: valueFlag({
    name: "answer-timeout",
    value: "SECONDS",
    help: "in piped commands, how long pair and accept wait for\n" +
      "their answer before the next command runs",
    default: DEFAULT_ANSWER_TIMEOUT,
    parse: positiveNumber(DAY),
  }),
  webrtc: switchFlag({
    name: "webrtc",
    help: "chat over a peer-to-peer data channel once paired",
  }),
  p2pTimeout: valueFlag({
    name: "p2p-timeout",
    value: "SECONDS",
    help: "fall back to the server relay after this",
    default: 15,
    parse: positiveNumber(DAY),
  }),
  iceUrls: iceServerFlag("a stun: or turn: URL, added to the server's; repeatable"),
  iceUsername: iceUsernameFlag(
    `username for turn: URLs; the password is read from\n${ICE_CREDENTIAL_ENV}`,
  ),
  relayOnly: switchFlag({
    name: "relay-only",
    help: "connect through TURN relays only (hides your address)",
  }),
  apiKeyFile: valueFlag({
    name: "api-key-file",
    value: "FILE",
    help: "send the API key in FILE (needs --allow-read=FILE); else\n" +
      `${API_KEY_ENV}, with --allow-env=${API_KEY_ENV}`,
  }),
  acceptFiles: switchFlag({ name: "accept-files", help: "accept file offers automatically" }),
  downloadDir: valueFlag({
    name: "download-dir",
    value: "DIR",
    help: "where received files go, made if missing (default: the\n" +
      "folder the command was started in)",
    default: ".",
    showDefault: false,
    parse: folder,
  }),
  maxFileBytes: valueFlag({
    name: "max-file-bytes",
    value: "N",
    help: "decline offers larger than N bytes",
    parse: wholeNumber(1),
  }),
  transferIdle: valueFlag({
    name: "transfer-idle",
    value: "SECONDS",
    help: "end a transfer that makes no progress this long",
    default: TRANSFER_IDLE_MS / 1000,
    parse: positiveNumber(DAY),
  }),
  keepPartials: valueFlag({
    name: "keep-partials",
    value: "HOURS",
    help: "keep what an interrupted file left in the download folder\n" +
      `this long to resume it (at most ${MAX_PARTIALS}); 0 keeps nothing`,
    default: KEEP_PARTIALS_HOURS,
    parse: wholeNumber(0),
  }),
  logFormat: logFormatFlag,
  help: helpFlag,
};

const F = CLIENT_FLAGS;

/** The flags of WebRTC mode, which make no sense without `--webrtc`. */
const WEBRTC_FLAGS: readonly Flag<unknown>[] = [
  F.code,
  F.to,
  F.devicesDir,
  F.p2pTimeout,
  F.iceUrls,
  F.iceUsername,
  F.relayOnly,
];

/** The flags for files, which go over the WebRTC data channel. */
const FILE_FLAGS: readonly Flag<unknown>[] = [
  F.acceptFiles,
  F.downloadDir,
  F.maxFileBytes,
  F.transferIdle,
  F.keepPartials,
];

/** `client.ts --help`. */
export const CLIENT_USAGE: string = usageText("Usage: deno run --allow-net client.ts [options]", [
  {
    entries: [
      F.url,
      F.once,
      F.reconnect,
      F.retryDelay,
      F.maxRetries,
      F.pair,
      F.accept,
      F.answerTimeout,
      F.apiKeyFile,
      F.logFormat,
    ],
  },
  {
    heading:
      "WebRTC mode (deno task peer; needs --allow-net --allow-env --allow-sys=networkInterfaces):",
    entries: [F.webrtc, ...WEBRTC_FLAGS],
  },
  {
    heading:
      "Files in WebRTC mode (deno task peer-files; sendfile <path>… needs --allow-read for each path,\n" +
      "receiving needs --allow-read=DIR --allow-write=DIR for the download folder):",
    entries: [...FILE_FLAGS, F.help],
  },
]);

/** The rules between the client's flags, checked before any value. */
const CLIENT_RULES: readonly FlagRule[] = [
  (given) => {
    if (given.webrtc === true) return;
    for (const flag of [...WEBRTC_FLAGS, ...FILE_FLAGS]) {
      if (given[flag.name] !== undefined) {
        throw new UsageError(`--${flag.name} works only with --webrtc`);
      }
    }
  },
];

/**
 * Parses the client's flags.
 *
 * @throws {UsageError} On an unknown flag or a bad value, such as a `--url`
 *   that is not a `ws:` or `wss:` URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClientFlags } from "./flags.ts";
 * import { UsageError } from "../runtime/args.ts";
 * assert.equal(parseClientFlags(["--url", "wss://example.com/ws"]).url, "wss://example.com/ws");
 * assert.throws(() => parseClientFlags(["--url", "http://example.com"]), UsageError);
 * ```
 */
export function parseClientFlags(args: readonly string[]): ClientFlags {
  return parseFlags(withCodeAsPair(args), CLIENT_FLAGS, CLIENT_RULES);
}

/**
 * `peer 7-tidy-orbit`: a code as the last argument (not a flag's value)
 * means `--pair 7-tidy-orbit`, as people type it after reading it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withCodeAsPair } from "./flags.ts";
 * assert.deepEqual(withCodeAsPair(["--webrtc", "7-tidy-orbit"]), [
 *   "--webrtc",
 *   "--pair",
 *   "7-tidy-orbit",
 * ]);
 * assert.deepEqual(withCodeAsPair(["--url", "7-tidy-orbit"]), ["--url", "7-tidy-orbit"]);
 * ```
 */
export function withCodeAsPair(args: readonly string[]): string[] {
  const last = args.at(-1);
  const before = args.at(-2);
  if (last === undefined || parseCode(last) === undefined) return [...args];
  const takesValue = before !== undefined && /^--[^=]+$/.test(before) &&
    Object.values(CLIENT_FLAGS).some((flag) =>
      flag.name === before.slice(2) && flag.value !== undefined
    );
  return takesValue ? [...args] : [...args.slice(0, -1), "--pair", last];
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

function folder(raw: string, { flag }: FlagContext): string {
  if (raw.trim() === "" || raw.includes("\0")) {
    throw new UsageError(`${flag} takes a folder, got "${raw}"`);
  }
  return raw;
}
