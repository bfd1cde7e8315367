/**
 * Log set-up for the server and the client: one line per event on stderr,
 * `<ISO timestamp> <LEVEL>: <message>` by default or JSON lines on request.
 *
 * @module
 */

import {
  configureSync,
  type LogLevel,
  type LogRecord,
  resetSync,
  type Sink,
  type TextFormatter,
} from "./deps.ts";
import { printable } from "./safe_text.ts";

/** The log line formats an operator can choose. */
export type LogFormat = "text" | "json";

/** Every log format, for flag validation. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** The root category of every Switchboard logger. */
export const LOG_CATEGORY = "switchboard";

/**
 * Renders a record's message with its values written bare: strings as they
 * are, anything else as JSON, so ids and addresses read naturally. Control
 * characters in values are escaped: a value may come from a client, and must
 * not forge a line or reach the operator's terminal.
 */
export function renderMessage(record: LogRecord): string {
  let text = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    text += i % 2 === 0 ? String(part) : renderValue(part);
  }
  return text;
}

function renderValue(value: unknown): string {
  return typeof value === "string" ? printable(value) : JSON.stringify(value);
}

/** The text format: `2026-11-26T03:41:22.123Z INFO: Server starting...`. */
export const textFormatter: TextFormatter = (record) =>
  `${isoTimestamp(record.timestamp)} ${record.level.toUpperCase()}: ${renderFast(record)}\n`;

/**
 * JSON lines: `{"timestamp":"...","level":"INFO","logger":"switchboard.server",
 * "message":"...", ...fields}`, the event's fields (client id, address, close
 * code) flattened beside the rendered message.
 */
export const jsonFormatter: TextFormatter = (record) =>
  JSON.stringify({
    timestamp: isoTimestamp(record.timestamp),
    level: record.level.toUpperCase(),
    logger: record.category.join("."),
    message: renderFast(record),
    ...record.properties,
  }).replace(UNESCAPED_BY_JSON, escapeUnicode) + "\n";

// JSON.stringify escapes C0 controls but writes DEL, the C1 controls (one of
// which, U+009B, starts a terminal escape sequence), U+2028/U+2029 and the
// characters that reorder text (U+061C, U+200E/F, U+202A-E, U+2066-F, which
// make a log line read differently in a terminal) as they are. Outside
// strings JSON has no such characters, so escaping them is safe.
const UNESCAPED_BY_JSON =
  /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u206f]/g;

function escapeUnicode(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

// Every connection logs twice, so formatting is on the hot path. The lines
// stay byte-for-byte those of `toISOString()` and `renderMessage()`; only the
// work of getting there is shared between records.

let cachedSecond = NaN;
let cachedPrefix = "";

/** `new Date(ms).toISOString()`, building the date part once a second. */
function isoTimestamp(ms: number): string {
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    // Years past 9999 change the width; leave those to the runtime.
    if (iso.length !== 24) return new Date(ms).toISOString();
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  const millis = ms - second * 1000;
  return `${cachedPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

/** A template split into text and property names: text, name, text, … text. */
type Template = readonly string[] | null;

const templates = new Map<string, Template>();
const PLACEHOLDER = /\{([A-Za-z_$][\w$]*)\}/;

/**
 * Splits a template whose placeholders are all plain names, the only kind
 * Switchboard writes; `null` for anything else (escapes, paths, `*`), which
 * goes through LogTape's own parser.
 */
function compile(rawMessage: string): Template {
  const parts = rawMessage.split(PLACEHOLDER);
  for (let i = 0; i < parts.length; i += 2) {
    if (parts[i]!.includes("{") || parts[i]!.includes("}")) return null;
  }
  return parts;
}

/**
 * {@linkcode renderMessage} straight from the template and the properties,
 * skipping LogTape's per-record parse of a template that never changes.
 */
function renderFast(record: LogRecord): string {
  const raw = record.rawMessage;
  if (typeof raw !== "string") return renderMessage(record);
  let template = templates.get(raw);
  if (template === undefined) {
    template = compile(raw);
    // Templates are string literals in the source, but cap the cache anyway.
    if (templates.size < 1000) templates.set(raw, template);
  }
  if (template === null) return renderMessage(record);
  const properties = record.properties;
  let text = template[0]!;
  for (let i = 1; i < template.length; i += 2) {
    const value = properties[template[i]!];
    text += renderValue(value) + template[i + 1]!;
  }
  return text;
}

/**
 * A sink that writes each record to `writer` synchronously, so nothing is
 * lost when the process exits right after a log call.
 *
 * @param formatter Turns a record into a line ending in a newline.
 * @param writer Where the bytes go; stderr by default.
 */
export function getWriterSink(
  formatter: TextFormatter,
  writer: { writeSync(bytes: Uint8Array): number } = Deno.stderr,
): Sink {
  const encoder = new TextEncoder();
  let buffer = new Uint8Array(4096);
  const sink: Sink = (record: LogRecord): void => {
    const text = formatter(record);
    // One buffer reused for every line: no allocation per record.
    if (text.length * 3 > buffer.length) buffer = new Uint8Array(text.length * 3);
    let bytes = buffer.subarray(0, encoder.encodeInto(text, buffer).written);
    while (bytes.length > 0) bytes = bytes.subarray(writer.writeSync(bytes));
  };
  return markImmediate(sink);
}

/** Sinks holding lines not yet written, for the exit hooks to flush. */
const unflushed = new Set<() => void>();
let exitHooked = false;

function flushAll(): void {
  for (const flush of unflushed) flush();
}

/**
 * Like {@linkcode getWriterSink}, but the lines logged in one turn of the
 * event loop go out in one blocking write at the end of that turn (a
 * microtask), which halves the cost of logging a connection. Nothing is
 * dropped: pending lines are also written on exit (`Deno.exit`, the end of
 * the program) and on an uncaught error, before the runtime reports it.
 * Log lines keep their order among themselves; anything else written to
 * stderr directly in the same turn (`console.error`) may come before them.
 *
 * @param formatter Turns a record into a line ending in a newline.
 * @param writer Where the bytes go; stderr by default.
 */
export function getBatchingWriterSink(
  formatter: TextFormatter,
  writer: { writeSync(bytes: Uint8Array): number } = Deno.stderr,
): Sink {
  const encoder = new TextEncoder();
  let pending = "";
  const flush = (): void => {
    unflushed.delete(flush);
    if (pending === "") return;
    let bytes = encoder.encode(pending);
    pending = "";
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writer.writeSync(bytes));
    } catch {
      // As with a direct write, whose error LogTape swallows: a closed
      // stderr must not take the server down with it.
    }
  };
  const sink: Sink = (record: LogRecord): void => {
    if (pending === "") {
      unflushed.add(flush);
      queueMicrotask(flush);
    }
    pending += formatter(record);
    // Bounds the memory of a turn that logs a great deal (a mass disconnect).
    if (pending.length > 65_536) flush();
  };
  if (!exitHooked) {
    exitHooked = true;
    for (const type of ["unload", "error", "unhandledrejection"]) {
      globalThis.addEventListener(type, flushAll);
    }
  }
  return markImmediate(sink);
}

/**
 * Tells LogTape the sink is done with a record when it returns, so LogTape
 * need not copy the record's properties first in case the sink keeps it.
 */
function markImmediate(sink: Sink): Sink {
  Object.defineProperty(sink, Symbol.for("LogTape.sinkSnapshotPolicy.immediate"), {
    value: true,
  });
  return sink;
}

/** Options for {@linkcode setupLogging}. */
export interface LoggingOptions {
  /** The line format; `"text"` by default. */
  format?: LogFormat;
  /** The lowest level written; `"info"` by default. */
  level?: LogLevel;
  /**
   * Where records go; stderr by default, written once per event-loop turn
   * ({@linkcode getBatchingWriterSink}). Tests pass a capturing sink.
   */
  sink?: Sink;
}

/**
 * Configures LogTape for Switchboard's loggers, replacing any earlier set-up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "./deps.ts";
 * import { renderMessage, setupLogging } from "./logging.ts";
 * const lines: string[] = [];
 * setupLogging({ sink: (record) => lines.push(renderMessage(record)) });
 * getLogger(["switchboard", "example"]).debug("not at the default level");
 * getLogger(["switchboard", "example"]).info("Hello {name}", { name: "operator\n" });
 * assert.deepEqual(lines, ["Hello operator\\n"]);
 * ```
 */
export function setupLogging(options: LoggingOptions = {}): void {
  const formatter = options.format === "json" ? jsonFormatter : textFormatter;
  resetSync();
  configureSync({
    sinks: { main: options.sink ?? getBatchingWriterSink(formatter) },
    loggers: [
      {
        category: [LOG_CATEGORY],
        lowestLevel: options.level ?? "info",
        sinks: ["main"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}
