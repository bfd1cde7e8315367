import assert from "node:assert/strict";
import { COMMANDS_HELP, parseCommand } from "../../lib/cli/commands.ts";

Deno.test("parseCommand() reads every command", () => {
  assert.deepEqual(parseCommand("pair abc-123"), { kind: "pair", target: "abc-123" });
  assert.deepEqual(parseCommand("accept"), { kind: "accept", from: undefined });
  assert.deepEqual(parseCommand("accept abc"), { kind: "accept", from: "abc" });
  assert.deepEqual(parseCommand("reject"), { kind: "reject", from: undefined });
  assert.deepEqual(parseCommand("reject abc"), { kind: "reject", from: "abc" });
  assert.deepEqual(parseCommand("leave"), { kind: "leave" });
  assert.deepEqual(parseCommand("quit"), { kind: "quit" });
  assert.deepEqual(parseCommand("help"), { kind: "help" });
});

Deno.test("parseCommand() keeps the text of send as typed, inner spaces and all", () => {
  assert.deepEqual(parseCommand("send  hello,   world "), { kind: "send", text: "hello,   world" });
});

Deno.test("parseCommand() ignores case of the command word and surrounding space", () => {
  assert.deepEqual(parseCommand("  PAIR abc  "), { kind: "pair", target: "abc" });
  assert.deepEqual(parseCommand("Quit"), { kind: "quit" });
});

Deno.test("parseCommand() treats a blank line as empty", () => {
  assert.deepEqual(parseCommand("   "), { kind: "empty" });
});

Deno.test("parseCommand() explains a wrong form or an unknown word", () => {
  assert.deepEqual(parseCommand("pair"), { kind: "invalid", reason: "usage: pair <id or code>" });
  assert.deepEqual(parseCommand("pair a b"), {
    kind: "invalid",
    reason: "usage: pair <id or code>",
  });
  assert.deepEqual(parseCommand("code 7"), { kind: "invalid", reason: "usage: code" });
  assert.deepEqual(parseCommand("send"), { kind: "invalid", reason: "usage: send <text>" });
  assert.deepEqual(parseCommand("quit now"), { kind: "invalid", reason: "usage: quit" });
  assert.deepEqual(parseCommand("dance"), {
    kind: "invalid",
    reason: 'unknown command "dance"; type help',
  });
});

Deno.test("COMMANDS_HELP names every command", () => {
  const words = ["pair", "accept", "reject", "send", "leave", "quit", "help"];
  for (
    const word of [
      ...words,
      ...["sendfile", "accept-file", "reject-file", "cancel", "verify", "code"],
      ...["remember", "meet", "devices", "forget"],
    ]
  ) {
    assert.match(COMMANDS_HELP, new RegExp(`^  ${word}\\b`, "m"));
  }
});

Deno.test("parseCommand() reads the file commands, with or without a number", () => {
  assert.deepEqual(parseCommand('sendfile "my report.pdf" photos'), {
    kind: "sendfile",
    paths: ["my report.pdf", "photos"],
    raw: '"my report.pdf" photos',
  });
  assert.deepEqual(parseCommand("sendfile my report.pdf"), {
    kind: "sendfile",
    paths: ["my", "report.pdf"],
    raw: "my report.pdf",
  });
  assert.deepEqual(parseCommand("sendfile John's report.pdf"), {
    kind: "sendfile",
    paths: ["John's report.pdf"],
    raw: "John's report.pdf",
  });
  assert.deepEqual(parseCommand("sendfile"), {
    kind: "invalid",
    reason: "usage: sendfile <path>…",
  });
  assert.deepEqual(parseCommand("accept-file"), { kind: "accept-file", file: undefined });
  assert.deepEqual(parseCommand("reject-file 3"), { kind: "reject-file", file: 3 });
  assert.deepEqual(parseCommand("cancel 2"), { kind: "cancel", file: 2 });
  assert.deepEqual(parseCommand("cancel two"), { kind: "invalid", reason: "usage: cancel [<n>]" });
  assert.deepEqual(parseCommand("verify"), { kind: "verify" });
});

Deno.test("code asks for a code, and pair takes a code as typed, spaces and all", () => {
  assert.deepEqual(parseCommand("code"), { kind: "code" });
  assert.deepEqual(parseCommand("pair 7-tidy-orbit"), { kind: "pair", target: "7-tidy-orbit" });
  assert.deepEqual(parseCommand("pair 7 tidy orbit"), { kind: "pair", target: "7 tidy orbit" });
});

Deno.test("remember, meet and forget take a name with spaces; devices takes nothing", () => {
  assert.deepEqual(parseCommand("remember Ana's phone"), { kind: "remember", name: "Ana's phone" });
  assert.deepEqual(parseCommand("meet desk"), { kind: "meet", name: "desk" });
  assert.deepEqual(parseCommand("forget desk"), { kind: "forget", name: "desk" });
  assert.deepEqual(parseCommand("devices"), { kind: "devices" });
  assert.deepEqual(parseCommand("remember"), { kind: "invalid", reason: "usage: remember <name>" });
  assert.deepEqual(parseCommand("devices x"), { kind: "invalid", reason: "usage: devices" });
});
