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

/** The log line formats an operator can choose. */
export type LogFormat = "text" | "json";

/** Every log format, for flag validation. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** The root category of every Switchboard logger. */
export const LOG_CATEGORY = "switchboard";

/**
 * Renders a record's message with its values written bare: strings as they
 * are, anything else as JSON, so ids and addresses read naturally.
 */
export function renderMessage(record: LogRecord): string {
  let text = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    text += i % 2 === 0 || typeof part === "string" ? String(part) : JSON.stringify(part);
  }
  return text;
}

/** The text format: `2026-11-26T03:41:22.123Z INFO: Server starting...`. */
export const textFormatter: TextFormatter = (record) =>
  `${new Date(record.timestamp).toISOString()} ${record.level.toUpperCase()}: ${
    renderMessage(record)
  }\n`;

/**
 * JSON lines: `{"timestamp":"...","level":"INFO","logger":"switchboard.server",
 * "message":"...", ...fields}`, the event's fields (client id, address, close
 * code) flattened beside the rendered message.
 */
export const jsonFormatter: TextFormatter = (record) =>
  JSON.stringify({
    timestamp: new Date(record.timestamp).toISOString(),
    level: record.level.toUpperCase(),
    logger: record.category.join("."),
    message: renderMessage(record),
    ...record.properties,
  }) + "\n";

/**
 * A sink that writes each record to `writer` synchronously, so nothing is
 * lost or reordered when the process exits right after a log call.
 *
 * @param formatter Turns a record into a line ending in a newline.
 * @param writer Where the bytes go; stderr by default.
 */
export function getWriterSink(
  formatter: TextFormatter,
  writer: { writeSync(bytes: Uint8Array): number } = Deno.stderr,
): Sink {
  const encoder = new TextEncoder();
  return (record: LogRecord): void => {
    let bytes = encoder.encode(formatter(record));
    while (bytes.length > 0) bytes = bytes.subarray(writer.writeSync(bytes));
  };
}

/** Options for {@linkcode setupLogging}. */
export interface LoggingOptions {
  /** The line format; `"text"` by default. */
  format?: LogFormat;
  /** The lowest level written; `"info"` by default. */
  level?: LogLevel;
  /** Where records go; stderr by default. Tests pass a capturing sink. */
  sink?: Sink;
}

/**
 * Configures LogTape for Switchboard's loggers, replacing any earlier set-up.
 *
 * @example
 * ```ts
 * import { setupLogging } from "./logging.ts";
 * setupLogging({ format: "json" });
 * ```
 */
export function setupLogging(options: LoggingOptions = {}): void {
  const formatter = options.format === "json" ? jsonFormatter : textFormatter;
  resetSync();
  configureSync({
    sinks: { main: options.sink ?? getWriterSink(formatter) },
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
