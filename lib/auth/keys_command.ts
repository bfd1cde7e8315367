/**
 * `server.ts keys`: makes, lists and revokes API keys in a keys file. A new
 * key is printed once, alone on one line of stdout, so it can be piped into
 * a secret store; everything else goes to stderr.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { usageError } from "../runtime/args.ts";
import { MissingPermission } from "../runtime/permissions.ts";
import { errorText } from "../runtime/safe_text.ts";
import { generateKey, hashKey, KeyFileError, type KeyRecord, LABEL_PATTERN } from "./key_file.ts";
import { readKeyFileOrNone, requirePaths, tempPath, writeKeyFile } from "./key_file_io.ts";

/** The keys file when `--keys-file` is not given. */
export const DEFAULT_KEYS_FILE = "switchboard-keys.json";

/** `server.ts keys --help`. */
export const KEYS_USAGE = `Usage: deno task keys [--keys-file FILE] COMMAND

  new --label NAME [--max-clients N] [--rate-limit N]
                        make a key; it is printed once, alone on stdout
  list                  labels, limits and creation times (never a key)
  revoke LABEL          remove a key; a server reloads the file on SIGHUP

  --keys-file FILE      the keys file (default ${DEFAULT_KEYS_FILE})
  --max-clients N       clients the key may have connected at once (default no limit)
  --rate-limit N        messages per second per client of the key (default the server's)
  -h, --help            show this help

A file elsewhere needs its own permissions, for example:
  deno run --allow-read=/etc/switchboard/keys.json,/etc/switchboard/keys.json.tmp \\
    --allow-write=/etc/switchboard/keys.json,/etc/switchboard/keys.json.tmp \\
    server.ts keys --keys-file /etc/switchboard/keys.json list
`;

/** Where the command writes. */
export interface KeysIo {
  /** One line of stdout: the new key, or the list. */
  stdout(line: string): void;
  /** One line of stderr: everything else. */
  stderr(line: string): void;
  /** The clock, for `createdAt`; now by default. */
  now?: () => Date;
  /**
   * Whether stdout is a terminal, where the user reads the key; when it is
   * redirected, the key goes to the file or pipe unseen. Asks the process by
   * default.
   */
  stdoutIsTerminal?: boolean;
}

/**
 * Runs `keys` with its arguments.
 *
 * @returns The exit code: 0 done, 1 failed, 2 a usage error.
 */
export async function runKeysCommand(args: readonly string[], io: KeysIo): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        "keys-file": { type: "string", default: DEFAULT_KEYS_FILE },
        label: { type: "string" },
        "max-clients": { type: "string" },
        "rate-limit": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    return usage(io, errorText(error));
  }
  if (values.help) {
    io.stdout(KEYS_USAGE.trimEnd());
    return 0;
  }
  const [command, ...rest] = positionals;
  const path = values["keys-file"];
  const writing = command === "new" || command === "revoke";
  if (command !== "new" && (values.label ?? values["max-clients"] ?? values["rate-limit"])) {
    return usage(io, "--label, --max-clients and --rate-limit go with new");
  }
  try {
    switch (command) {
      case "new": {
        if (rest.length > 0) return usage(io, `new takes no arguments, got "${rest.join(" ")}"`);
        const label = values.label;
        if (label === undefined) return usage(io, "new needs --label NAME");
        if (!LABEL_PATTERN.test(label)) {
          return usage(io, `--label takes letters, digits, ".", "_" and "-" (at most 64)`);
        }
        const maxClients = positive("--max-clients", values["max-clients"], true);
        const rateLimit = positive("--rate-limit", values["rate-limit"], false);
        if (typeof maxClients === "string") return usage(io, maxClients);
        if (typeof rateLimit === "string") return usage(io, rateLimit);
        await requirePaths([path, tempPath(path)], ["read", "write"], `writing ${path}`);
        const records = await readKeyFileOrNone(path);
        if (records.some((r) => r.label === label)) {
          io.stderr(`A key labelled "${label}" exists in ${path}; revoke it first`);
          return 1;
        }
        const key = generateKey();
        const record: KeyRecord = {
          label,
          sha256: hashKey(key),
          ...(maxClients === undefined ? {} : { maxClients }),
          ...(rateLimit === undefined ? {} : { rateLimit }),
          createdAt: (io.now?.() ?? new Date()).toISOString(),
        };
        await writeKeyFile(path, [...records, record]);
        const shown = io.stdoutIsTerminal ?? Deno.stdout.isTerminal();
        io.stderr(
          `Added key "${label}" to ${path}. ${
            shown
              ? "It is shown once, below; store it now."
              : "It went to stdout, its only copy; the keys file keeps its hash alone."
          } A running server takes it on SIGHUP.`,
        );
        io.stdout(key);
        return 0;
      }
      case "list": {
        if (rest.length > 0) return usage(io, `list takes no arguments, got "${rest.join(" ")}"`);
        await requirePaths([path], ["read"], `reading ${path}`);
        const records = await readKeyFileOrNone(path);
        if (records.length === 0) {
          io.stderr(`No keys in ${path}`);
          return 0;
        }
        for (const line of listLines(records)) io.stdout(line);
        return 0;
      }
      case "revoke": {
        if (rest.length !== 1) return usage(io, "revoke takes one LABEL");
        const label = rest[0]!;
        await requirePaths([path, tempPath(path)], ["read", "write"], `writing ${path}`);
        const records = await readKeyFileOrNone(path);
        const kept = records.filter((r) => r.label !== label);
        if (kept.length === records.length) {
          io.stderr(`No key labelled "${label}" in ${path}`);
          return 1;
        }
        await writeKeyFile(path, kept);
        io.stderr(
          `Revoked key "${label}" in ${path}. A running server drops its clients on SIGHUP.`,
        );
        return 0;
      }
      case undefined:
        return usage(io, "name a command: new, list or revoke");
      default:
        return usage(io, `unknown command "${command}"; use new, list or revoke`);
    }
  } catch (error) {
    if (error instanceof MissingPermission || error instanceof KeyFileError) {
      io.stderr(`Cannot ${writing ? "change" : "read"} the keys: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/**
 * The lines `list` prints: a header and one line per key, never a key or
 * its hash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listLines } from "./keys_command.ts";
 * const lines = listLines([{
 *   label: "acme",
 *   sha256: "c".repeat(64),
 *   maxClients: 10,
 *   createdAt: "2026-01-01T00:00:00.000Z",
 * }]);
 * assert.equal(lines.length, 2);
 * assert.match(lines[1]!, /^acme +10 +- +2026-01-01T00:00:00.000Z$/);
 * assert.ok(!lines.join("").includes("ccc"));
 * ```
 */
export function listLines(records: readonly KeyRecord[]): string[] {
  const rows = [
    ["LABEL", "MAX-CLIENTS", "RATE-LIMIT", "CREATED"],
    ...records.map((r) => [
      r.label,
      r.maxClients === undefined ? "-" : String(r.maxClients),
      r.rateLimit === undefined ? "-" : String(r.rateLimit),
      r.createdAt,
    ]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd());
}

function positive(
  flag: string,
  raw: string | undefined,
  whole: boolean,
): number | undefined | string {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const ok = whole ? /^\d+$/.test(raw) && value >= 1 : raw.trim() !== "" && value > 0;
  if (!ok || !Number.isFinite(value)) {
    return `${flag} takes a positive ${whole ? "whole number" : "number"}, got "${raw}"`;
  }
  return value;
}

function usage(io: KeysIo, message: string): number {
  io.stderr(usageError(KEYS_USAGE, message));
  return 2;
}
