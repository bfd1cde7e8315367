import assert from "node:assert/strict";
import { COMMANDS_HELP, parseCommand } from "../lib/commands.ts";

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
  assert.deepEqual(parseCommand("pair"), { kind: "invalid", reason: "usage: pair <id>" });
  assert.deepEqual(parseCommand("pair a b"), { kind: "invalid", reason: "usage: pair <id>" });
  assert.deepEqual(parseCommand("send"), { kind: "invalid", reason: "usage: send <text>" });
  assert.deepEqual(parseCommand("quit now"), { kind: "invalid", reason: "usage: quit" });
  assert.deepEqual(parseCommand("dance"), {
    kind: "invalid",
    reason: 'unknown command "dance"; type help',
  });
});

Deno.test("COMMANDS_HELP names every command", () => {
  for (const word of ["pair", "accept", "reject", "send", "leave", "quit", "help"]) {
    assert.match(COMMANDS_HELP, new RegExp(`^  ${word}\\b`, "m"));
  }
});
