/**
 * The flags both programs take, declared once: `--log-format`, and the
 * `--ice-server` / `--ice-username` pair (whose usage text each program
 * words for itself).
 *
 * @module
 */

import {
  type Flag,
  type FlagContext,
  type FlagRule,
  type GivenFlags,
  listFlag,
  oneOf,
  UsageError,
  valueFlag,
} from "./args.ts";
import { LOG_FORMATS, type LogFormat } from "./logging.ts";

/** `--log-format text|json`. */
export const logFormatFlag: Flag<LogFormat> = valueFlag({
  name: "log-format",
  value: LOG_FORMATS.join("|"),
  help: "log line format",
  default: "text",
  parse: oneOf(LOG_FORMATS),
});

const TURN_URL = /^turns?:/;

/**
 * `--ice-server URL`, repeatable: a STUN or TURN URL, and a TURN one only
 * with `--ice-username` (a TURN server asks for one).
 *
 * @param help What the program does with the URLs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./args.ts";
 * import { iceServerFlag, iceUsernameFlag } from "./common_flags.ts";
 * const flags = { iceUrls: iceServerFlag("a URL"), iceUsername: iceUsernameFlag("a name") };
 * assert.deepEqual(parseFlags(["--ice-server", "stun:stun.example"], flags), {
 *   iceUrls: ["stun:stun.example"],
 *   iceUsername: undefined,
 * });
 * assert.throws(() => parseFlags(["--ice-server", "turn:turn.example"], flags), /needs --ice-username/);
 * ```
 */
export function iceServerFlag(help: string): Flag<string[]> {
  return listFlag({ name: "ice-server", value: "URL", help, parse: iceServerUrl });
}

/**
 * `--ice-username NAME`, for the TURN URLs in `--ice-server`; it makes no
 * sense without one.
 *
 * @param help Where the password comes from.
 */
export function iceUsernameFlag(help: string): Flag<string | undefined> {
  return valueFlag({ name: "ice-username", value: "NAME", help, parse: iceUsername });
}

/**
 * Checks `--ice-server` and `--ice-username` together, as a rule, for a
 * program that checks them before its other flags.
 */
export const iceFlagsRule: FlagRule = (given) => {
  const context = { flag: "--ice-server", given };
  for (const url of iceUrls(given)) iceServerUrl(url, context);
  if (typeof given["ice-username"] === "string") {
    iceUsername(given["ice-username"], { flag: "--ice-username", given });
  }
};

function iceUrls(given: GivenFlags): readonly string[] {
  const urls = given["ice-server"];
  return Array.isArray(urls) ? urls : [];
}

function iceServerUrl(url: string, { given }: FlagContext): string {
  if (!/^(stuns?|turns?):[^\s]+$/.test(url)) {
    throw new UsageError(`--ice-server takes a stun: or turn: URL, got "${url}"`);
  }
  if (TURN_URL.test(url) && given["ice-username"] === undefined) {
    throw new UsageError(`--ice-server ${url} needs --ice-username (a TURN server asks for one)`);
  }
  return url;
}

function iceUsername(name: string, { given }: FlagContext): string {
  if (!iceUrls(given).some((url) => TURN_URL.test(url))) {
    throw new UsageError("--ice-username goes with a turn: URL in --ice-server");
  }
  return name;
}
