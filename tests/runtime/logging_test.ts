import assert from "node:assert/strict";
import { getLogger, type LogRecord } from "../../lib/runtime/deps.ts";
import {
  getWriterSink,
  jsonFormatter,
  renderMessage,
  setupLogging,
  textFormatter,
} from "../../lib/runtime/logging.ts";

const record: LogRecord = {
  category: ["switchboard", "server"],
  level: "info",
  message: ["Client ", "abc", " connected from ", "127.0.0.1:5000", " code ", 1000, ""],
  rawMessage: "Client {clientId} connected from {remoteAddr} code {code}",
  properties: { clientId: "abc", remoteAddr: "127.0.0.1:5000", code: 1000 },
  timestamp: Date.UTC(2026, 10, 26, 3, 41, 22, 123),
};

Deno.test("renderMessage() writes strings bare and other values as JSON", () => {
  assert.equal(renderMessage(record), "Client abc connected from 127.0.0.1:5000 code 1000");
});

Deno.test("textFormatter writes '<ISO timestamp> <LEVEL>: <message>'", () => {
  assert.equal(
    textFormatter(record),
    "2026-11-26T03:41:22.123Z INFO: Client abc connected from 127.0.0.1:5000 code 1000\n",
  );
  assert.match(textFormatter({ ...record, level: "warning" }), / WARNING: /);
});

Deno.test("jsonFormatter writes one JSON object per line with the fields", () => {
  const line = jsonFormatter(record);
  assert.ok(line.endsWith("\n"));
  assert.equal(line.trimEnd().includes("\n"), false);
  assert.deepEqual(JSON.parse(line), {
    timestamp: "2026-11-26T03:41:22.123Z",
    level: "INFO",
    logger: "switchboard.server",
    message: "Client abc connected from 127.0.0.1:5000 code 1000",
    clientId: "abc",
    remoteAddr: "127.0.0.1:5000",
    code: 1000,
  });
});

Deno.test("getWriterSink() writes every byte even when the writer takes a few at a time", () => {
  const chunks: number[] = [];
  const writer = {
    writeSync(bytes: Uint8Array): number {
      const n = Math.min(3, bytes.length);
      chunks.push(...bytes.subarray(0, n));
      return n;
    },
  };
  getWriterSink(textFormatter, writer)(record);
  assert.equal(new TextDecoder().decode(new Uint8Array(chunks)), textFormatter(record));
});

Deno.test("setupLogging() routes switchboard loggers to the sink at the level asked", () => {
  const seen: string[] = [];
  setupLogging({ sink: (r) => seen.push(`${r.level} ${renderMessage(r)}`), level: "info" });
  getLogger(["switchboard", "test"]).debug("hidden");
  getLogger(["switchboard", "test"]).info("shown {n}", { n: 1 });
  getLogger(["other"]).info("not ours");
  assert.deepEqual(seen, ["info shown 1"]);
});

Deno.test("textFormatter escapes control characters in values, so a client cannot forge a line", () => {
  const hostile: LogRecord = {
    ...record,
    message: ["Bad message: ", "oops\n2026-01-01T00:00:00.000Z INFO: forged\u001b[2J", ""],
    rawMessage: "Bad message: {reason}",
    properties: { reason: "oops\n2026-01-01T00:00:00.000Z INFO: forged\u001b[2J" },
  };
  const line = textFormatter(hostile);
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.ok(line.endsWith("Bad message: oops\\n2026-01-01T00:00:00.000Z INFO: forged\\u001b[2J\n"));
  assert.equal(JSON.parse(jsonFormatter(hostile)).message, line.slice(31, -1));
});

Deno.test("jsonFormatter escapes DEL, C1 controls and line separators in fields", () => {
  const reason = "a\u009b2Jb\u0085c\u007fd\u2028e";
  const hostile: LogRecord = {
    ...record,
    message: ["Bad message: ", reason, ""],
    rawMessage: "Bad message: {reason}",
    properties: { reason },
  };
  const line = jsonFormatter(hostile);
  assert.doesNotMatch(line, /[\u007f-\u009f\u2028\u2029]/);
  assert.match(line, /"reason":"a\\u009b2Jb\\u0085c\\u007fd\\u2028e"/);
  assert.equal(JSON.parse(line).reason, reason);
});

Deno.test("jsonFormatter escapes the characters that reorder text, so a line reads as written", () => {
  const name = "\u202egnp.exe \u2066x\u2069 \u200f\u061c";
  const hostile: LogRecord = {
    ...record,
    message: ["Offer of ", name, ""],
    rawMessage: "Offer of {name}",
    properties: { name },
  };
  const line = jsonFormatter(hostile);
  assert.doesNotMatch(line, /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u206f]/);
  assert.match(line, /"name":"\\u202egnp\.exe \\u2066x\\u2069 \\u200f\\u061c"/);
  assert.equal(JSON.parse(line).name, name);
});
