import assert from "node:assert/strict";
import {
  type FlagContext,
  helpFlag,
  listFlag,
  oneOf,
  parseFlags,
  positiveNumber,
  switchFlag,
  UsageError,
  usageError,
  usageText,
  valueFlag,
  wholeNumber,
} from "../../lib/runtime/args.ts";

const context = (flag: string): FlagContext => ({ flag, given: {} });

Deno.test("valueFlag() reads the value, or the default when absent", () => {
  const flags = {
    port: valueFlag({
      name: "port",
      value: "PORT",
      help: "",
      default: 8765,
      parse: wholeNumber(0, 65535),
    }),
    pair: valueFlag({ name: "pair", value: "ID", help: "" }),
  };
  assert.deepEqual(parseFlags([], flags), { port: 8765, pair: undefined });
  assert.deepEqual(parseFlags(["--port=80", "--pair", "abc"], flags), { port: 80, pair: "abc" });
  assert.deepEqual(parseFlags(["--pair="], flags), { port: 8765, pair: "" });
});

Deno.test("listFlag() keeps every value in command-line order, each parsed", () => {
  const flags = {
    sizes: listFlag({ name: "size", value: "N", help: "", parse: wholeNumber(1) }),
    names: listFlag({ name: "name", value: "NAME", help: "", default: ["x"] }),
  };
  assert.deepEqual(parseFlags([], flags), { sizes: [], names: ["x"] });
  assert.deepEqual(parseFlags(["--size", "2", "--name", "a", "--size", "1"], flags), {
    sizes: [2, 1],
    names: ["a"],
  });
  assert.throws(() => parseFlags(["--size", "2", "--size", "0"], flags), {
    name: "UsageError",
    message: '--size takes a whole number from 1 to 9007199254740991, got "0"',
  });
});

Deno.test("switchFlag() is true only when given, and takes its short alias", () => {
  const flags = { once: switchFlag({ name: "once", help: "" }), help: helpFlag };
  assert.deepEqual(parseFlags([], flags), { once: false, help: false });
  assert.deepEqual(parseFlags(["--once", "-h"], flags), { once: true, help: true });
  assert.throws(() => parseFlags(["--once=yes"], flags), UsageError);
});

Deno.test("parseFlags() turns every parseArgs refusal into a UsageError with its message", () => {
  const flags = { port: valueFlag({ name: "port", value: "PORT", help: "" }) };
  for (
    const [args, message] of [
      [["--bogus"], /^Unknown option '--bogus'/],
      [["stray"], /^Unexpected argument 'stray'/],
      [["--port"], /^Option '--port <value>' argument missing$/],
    ] as const
  ) {
    assert.throws(() => parseFlags(args, flags), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("parseFlags() checks the rules first, then each value in declaration order", () => {
  const order: string[] = [];
  const flags = {
    a: valueFlag({ name: "a", value: "X", help: "", parse: (raw) => order.push(`a=${raw}`) }),
    b: valueFlag({ name: "b", value: "X", help: "", parse: (raw) => order.push(`b=${raw}`) }),
  };
  parseFlags(["--b", "2", "--a", "1"], flags, [(given) => order.push(`rule ${given.b}`)]);
  assert.deepEqual(order, ["rule 2", "a=1", "b=2"]);
  assert.throws(
    () =>
      parseFlags(["--a", "1"], flags, [() => {
        throw new UsageError("broken rule");
      }]),
    { name: "UsageError", message: "broken rule" },
  );
});

Deno.test("parseFlags() tells a parser its flag and the whole command line", () => {
  const seen: FlagContext[] = [];
  const flags = {
    a: valueFlag({
      name: "a",
      value: "X",
      help: "",
      parse: (raw, context) => {
        seen.push(context);
        return raw;
      },
    }),
    b: switchFlag({ name: "b", help: "" }),
  };
  parseFlags(["--a", "1", "--b"], flags);
  assert.equal(seen[0]?.flag, "--a");
  assert.deepEqual({ ...seen[0]?.given }, { a: "1", b: true });
});

Deno.test("usageText() lines up usage text in one column, continued lines under it", () => {
  const flags = [
    valueFlag({
      name: "port",
      value: "PORT",
      help: "TCP port",
      default: 8765,
      parse: wholeNumber(0, 65535),
    }),
    valueFlag({ name: "host", value: "HOST", help: "where to listen\n", default: "localhost" }),
    valueFlag({
      name: "dir",
      value: "DIR",
      help: "where files go (default: here)",
      default: ".",
      showDefault: false,
    }),
    listFlag({ name: "origin", value: "ORIGIN", help: "allowed; repeatable", showDefault: "any" }),
    switchFlag({ name: "handshake-timeouts", help: "a long\nterm" }),
    helpFlag,
  ];
  assert.equal(
    usageText("Usage: x [options]", [
      { entries: flags },
      { heading: "More:", entries: [{ term: "keys ...", help: "manage keys" }] },
    ]),
    [
      "Usage: x [options]",
      "",
      "  --port PORT                 TCP port (default 8765)",
      "  --host HOST                 where to listen",
      "                              (default localhost)",
      "  --dir DIR                   where files go (default: here)",
      "  --origin ORIGIN             allowed; repeatable (default any)",
      "  --handshake-timeouts        a long",
      "                              term",
      "  -h, --help                  show this help",
      "",
      "More:",
      "  keys ...                    manage keys",
      "",
    ].join("\n"),
  );
  assert.equal(
    usageText("U", [{ entries: [switchFlag({ name: "handshake-timeout-seconds", help: "h" })] }]),
    "U\n\n  --handshake-timeout-seconds h\n",
  );
});

Deno.test("usageError() puts what is wrong last, after the usage", () => {
  assert.equal(usageError("Usage: x\n\n  -h  help\n", "bad"), "Usage: x\n\n  -h  help\n\nbad");
});

Deno.test("positiveNumber() takes a number above 0 up to its maximum", () => {
  const parse = positiveNumber(60);
  assert.equal(parse("0.5", context("--wait")), 0.5);
  assert.equal(parse("60", context("--wait")), 60);
  for (const raw of ["0", "-1", "61", "", " ", "abc", "Infinity", "NaN"]) {
    assert.throws(() => parse(raw, context("--wait")), {
      name: "UsageError",
      message: `--wait takes a positive number up to 60, got "${raw}"`,
    });
  }
});

Deno.test("wholeNumber() takes digits only, from its minimum to its maximum", () => {
  const parse = wholeNumber(1, 10);
  assert.equal(parse("1", context("--n")), 1);
  assert.equal(parse("010", context("--n")), 10);
  for (const raw of ["0", "11", "1.5", "-1", "1e1", " 1", ""]) {
    assert.throws(() => parse(raw, context("--n")), {
      name: "UsageError",
      message: `--n takes a whole number from 1 to 10, got "${raw}"`,
    });
  }
});

Deno.test("oneOf() takes one of its words exactly", () => {
  const parse = oneOf(["text", "json"] as const);
  assert.equal(parse("json", context("--log-format")), "json");
  assert.throws(() => parse("JSON", context("--log-format")), {
    name: "UsageError",
    message: '--log-format takes text or json, got "JSON"',
  });
});
