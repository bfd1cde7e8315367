import assert from "node:assert/strict";
import { parseFlags } from "../../lib/runtime/args.ts";
import {
  iceFlagsRule,
  iceServerFlag,
  iceUsernameFlag,
  logFormatFlag,
} from "../../lib/runtime/common_flags.ts";

const iceFlags = { iceUrls: iceServerFlag(""), iceUsername: iceUsernameFlag("") };

Deno.test("logFormatFlag reads text or json, text by default", () => {
  const flags = { logFormat: logFormatFlag };
  assert.deepEqual(parseFlags([], flags), { logFormat: "text" });
  assert.deepEqual(parseFlags(["--log-format", "json"], flags), { logFormat: "json" });
  assert.throws(() => parseFlags(["--log-format", "xml"], flags), {
    name: "UsageError",
    message: '--log-format takes text or json, got "xml"',
  });
});

Deno.test("iceServerFlag() takes STUN and TURN URLs, TURN ones with a username", () => {
  assert.deepEqual(
    parseFlags(
      ["--ice-server", "stun:s.example", "--ice-server", "turns:t.example", "--ice-username", "u"],
      iceFlags,
    ),
    { iceUrls: ["stun:s.example", "turns:t.example"], iceUsername: "u" },
  );
  for (
    const [args, message] of [
      [["--ice-server", "http://x"], '--ice-server takes a stun: or turn: URL, got "http://x"'],
      [["--ice-server", "stun: x"], '--ice-server takes a stun: or turn: URL, got "stun: x"'],
      [
        ["--ice-server", "turn:t.example"],
        "--ice-server turn:t.example needs --ice-username (a TURN server asks for one)",
      ],
      [["--ice-username", "u"], "--ice-username goes with a turn: URL in --ice-server"],
      [
        ["--ice-server", "stun:s.example", "--ice-username", "u"],
        "--ice-username goes with a turn: URL in --ice-server",
      ],
    ] as const
  ) {
    assert.throws(
      () => parseFlags(args, iceFlags),
      { name: "UsageError", message },
      args.join(" "),
    );
  }
});

Deno.test("iceFlagsRule checks the ICE flags before any other value", () => {
  assert.throws(() => parseFlags(["--ice-server", "turn:t.example"], iceFlags, [iceFlagsRule]), {
    name: "UsageError",
    message: "--ice-server turn:t.example needs --ice-username (a TURN server asks for one)",
  });
  assert.deepEqual(
    parseFlags(["--ice-server", "turn:t.example", "--ice-username", "u"], iceFlags, [
      iceFlagsRule,
    ]),
    { iceUrls: ["turn:t.example"], iceUsername: "u" },
  );
});
