/**
 * The interactive client's commands: one line of input in, one command out.
 * Pure, so every spelling is testable without a terminal.
 *
 * @module
 */

import { parseCode } from "../shared/pairing_code.js";

/** A command the user typed. */
export type Command =
  | { kind: "pair"; target: string }
  | { kind: "accept"; from: string | undefined }
  | { kind: "reject"; from: string | undefined }
  | { kind: "send"; text: string }
  | { kind: "leave" }
  | { kind: "sendfile"; paths: string[]; raw: string }
  | { kind: "accept-file" | "reject-file" | "cancel"; file: number | undefined }
  | { kind: "verify" }
  | { kind: "code" }
  | { kind: "remember" | "forget" | "meet"; name: string }
  | { kind: "devices" }
  | { kind: "quit" }
  | { kind: "help" }
  | { kind: "empty" }
  | { kind: "invalid"; reason: string };

/** What `help` prints. */
export const COMMANDS_HELP = `Commands:
  code                get a code for someone to pair with you (7-tidy-orbit)
  remember <name>     after pairing by code, remember the partner as <name>
  meet <name>         pair with a remembered device, without a code (both sides)
  devices             list the remembered devices
  forget <name>       forget a remembered device
  pair <id or code>   ask a client to pair with you, or pair by its code
  accept [<id>]       accept a pair request (the latest one without an id)
  reject [<id>]       reject a pair request (the latest one without an id)
  send <text>         send a line to your partner
  leave               end the pairing
  sendfile <path>…    offer files or folders to your partner as one set (WebRTC mode;
                      quote a name with spaces: sendfile "my report.pdf")
  accept-file [<n>]   accept a file offer (the latest one without a number)
  reject-file [<n>]   decline a file offer (the latest one without a number)
  cancel [<n>]        stop a file transfer (the only one without a number)
  verify              show the verification code of the data channel again
  quit                disconnect and exit
  help                show this list`;

/**
 * Parses one line of input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommand } from "./commands.ts";
 * assert.deepEqual(parseCommand("send hello there"), { kind: "send", text: "hello there" });
 * assert.deepEqual(parseCommand("pair"), { kind: "invalid", reason: "usage: pair <id or code>" });
 * ```
 */
export function parseCommand(line: string): Command {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  const [word = "", ...rest] = trimmed.split(/\s+/);
  const argument = trimmed.slice(word.length).trim();
  switch (word.toLowerCase()) {
    case "pair":
      return rest.length === 1 || parseCode(argument)
        ? { kind: "pair", target: argument }
        : usage("pair <id or code>");
    case "accept":
    case "reject":
      return rest.length <= 1
        ? { kind: word.toLowerCase() as "accept" | "reject", from: argument || undefined }
        : usage(`${word.toLowerCase()} [<id>]`);
    case "send":
      return argument ? { kind: "send", text: argument } : usage("send <text>");
    case "sendfile": {
      if (!argument) return usage("sendfile <path>…");
      // A quote left open is a name's own (John's report.pdf): the whole text is one path.
      const paths = splitWords(argument) ?? [argument];
      return { kind: "sendfile", paths, raw: argument };
    }
    case "accept-file":
    case "reject-file":
    case "cancel": {
      const kind = word.toLowerCase() as "accept-file" | "reject-file" | "cancel";
      if (argument === "") return { kind, file: undefined };
      return /^\d{1,9}$/.test(argument) ? { kind, file: Number(argument) } : usage(`${kind} [<n>]`);
    }
    case "code":
      return rest.length === 0 ? { kind: "code" } : usage("code");
    case "devices":
      return rest.length === 0 ? { kind: "devices" } : usage("devices");
    case "remember":
    case "forget":
    case "meet": {
      const kind = word.toLowerCase() as "remember" | "forget" | "meet";
      return argument ? { kind, name: argument } : usage(`${kind} <name>`);
    }
    case "verify":
    case "leave":
    case "quit":
    case "help":
      return rest.length === 0
        ? { kind: word.toLowerCase() as "leave" | "quit" | "help" | "verify" }
        : usage(
          word.toLowerCase(),
        );
    default:
      return { kind: "invalid", reason: `unknown command "${word}"; type help` };
  }
}

/**
 * Words as a shell splits them: at spaces, except inside `"…"` or `'…'`, and
 * a backslash before a space, a quote or a backslash keeps that character
 * (any other backslash is kept, for Windows paths). `undefined` when a quote
 * is not closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitWords } from "./commands.ts";
 * assert.deepEqual(splitWords(`a.txt "my file.pdf" it\\'s C:\\x`), [
 *   "a.txt",
 *   "my file.pdf",
 *   "it's",
 *   "C:\\x",
 * ]);
 * assert.equal(splitWords(`"open`), undefined);
 * ```
 */
export function splitWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= "";
    } else if (c === "\\" && /[\s"'\\]/.test(text[i + 1] ?? "")) {
      word = (word ?? "") + text[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote !== undefined) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

function usage(form: string): Command {
  return { kind: "invalid", reason: `usage: ${form}` };
}
