/**
 * Test helpers: real servers on port 0, real sockets, real subprocesses, and
 * bounded waits on events (never a fixed sleep).
 *
 * @module
 */

import type { LogRecord, Sink } from "../../lib/runtime/deps.ts";
import { renderMessage, setupLogging } from "../../lib/runtime/logging.ts";
import { type RunningServer, type ServerOptions, startServer } from "../../lib/server/start.ts";

/** The project root, where `server.ts` and `client.ts` live. */
export const ROOT: string = new URL("../..", import.meta.url).pathname;

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs a command to its end and returns its output, within `ms`: a command
 * still running by then is killed and the wait fails, naming `what` and
 * showing what it wrote to stderr.
 */
export async function outputWithin(
  command: string | URL,
  options: Omit<Deno.CommandOptions, "signal">,
  ms: number,
  what: string,
): Promise<Deno.CommandOutput> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), ms);
  try {
    const output = await new Deno.Command(command, { ...options, signal: timeout.signal })
      .output();
    if (timeout.signal.aborted) {
      const stderr = new TextDecoder().decode(output.stderr);
      throw new Error(`Timed out after ${ms} ms: ${what}; stderr:\n${stderr}`);
    }
    return output;
  } finally {
    clearTimeout(timer);
  }
}

/** Captures log lines in memory and lets a test wait for one. */
export class LogCapture {
  /** Every rendered message, in order, as `LEVEL: message`. */
  readonly lines: string[] = [];
  #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  /** The sink to hand to `setupLogging`. */
  readonly sink: Sink = (record: LogRecord) => {
    const line = `${record.level.toUpperCase()}: ${renderMessage(record)}`;
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.test(line)) return true;
      waiter.resolve(line);
      return false;
    });
  };

  /** Lines matching `pattern`. */
  matching(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }

  /** Waits until `count` lines in all match `pattern`. */
  waitFor(pattern: RegExp, count = 1, ms = 5000): Promise<void> {
    if (this.matching(pattern).length >= count) return Promise.resolve();
    const waiter = {
      test: (line: string) => pattern.test(line) && this.matching(pattern).length >= count,
      resolve: (_line: string) => {},
    };
    const found = new Promise<void>((resolve) => {
      waiter.resolve = () => resolve();
      this.#waiters.push(waiter);
    });
    return within(
      found,
      ms,
      `${count} log line(s) matching ${pattern}; saw:\n${this.lines.slice(-10).join("\n")}`,
    ).finally(() => {
      // A waiter that timed out must not linger and be tested against every later line.
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
    });
  }

  /** How many waiters are pending; for the helpers' own tests. */
  get pendingWaiters(): number {
    return this.#waiters.length;
  }
}

/** A server started for one test, with its log captured. */
export interface TestServer extends AsyncDisposable {
  /** The running server. */
  server: RunningServer;
  /** Its log lines. */
  logs: LogCapture;
  /** `ws://127.0.0.1:PORT`. */
  url: string;
  /** The port it listens on. */
  port: number;
}

/** Starts a server on 127.0.0.1 and a free port, logging into memory. */
export function testServer(options: Partial<ServerOptions> = {}): TestServer {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink, level: "debug" });
  const server = startServer({ host: "127.0.0.1", port: 0, ...options });
  return {
    server,
    logs,
    url: server.url,
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * Messages in arrival order, for a test to await one by one: a message that
 * arrives while nobody waits is kept for the next call.
 */
export class MessageQueue<T = unknown> {
  #queue: T[] = [];
  // Callers of next() still waiting, oldest first; one that times out leaves.
  #waiting: ((message: T) => void)[] = [];

  /** Hands `message` to the oldest waiting call, or keeps it. */
  push(message: T): void {
    const resolve = this.#waiting.shift();
    if (resolve) resolve(message);
    else this.#queue.push(message);
  }

  /** The next message, within `ms`. */
  next(ms = 5000): Promise<T> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift()!);
    let waiter: (message: T) => void = () => {};
    const arrived = new Promise<T>((resolve) => {
      waiter = resolve;
      this.#waiting.push(waiter);
    });
    return within(arrived, ms, "the next message").catch((error) => {
      // A message arriving after the timeout goes to the queue, not to this
      // abandoned call, so the next call still sees it.
      this.#waiting = this.#waiting.filter((w) => w !== waiter);
      throw error;
    });
  }
}

/** A WebSocket client whose messages a test can await one by one. */
export class TestClient implements AsyncDisposable {
  readonly socket: WebSocket;
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  /** Resolves when open; rejects if the connection fails first. */
  readonly opened: Promise<void>;
  readonly #messages = new MessageQueue();

  /**
   * @param url The server's WebSocket URL.
   * @param options Subprotocols, or headers (an `Authorization` for an API key).
   */
  constructor(url: string, options?: ConstructorParameters<typeof WebSocket>[1]) {
    this.socket = new WebSocket(url, options);
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener("open", () => resolve(), { once: true });
      this.socket.addEventListener("close", () => reject(new Error("closed before open")), {
        once: true,
      });
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.socket.addEventListener("close", (event) => resolve(event), { once: true });
    });
    this.socket.addEventListener("message", (event: MessageEvent) => {
      this.#messages.push(typeof event.data === "string" ? JSON.parse(event.data) : event.data);
    });
  }

  /** Connects and returns the client with its first message (`your_id`) read. */
  static async connect(
    url: string,
    options?: ConstructorParameters<typeof WebSocket>[1],
  ): Promise<{ client: TestClient; id: string }> {
    const client = new TestClient(url, options);
    // A refused connection fails here at once, not after waiting out next().
    await client.openedWithin();
    const first = await client.next() as { type: string; id: string };
    if (first.type !== "your_id") throw new Error(`first message was ${JSON.stringify(first)}`);
    return { client, id: first.id };
  }

  /** The next message, parsed. */
  next(ms = 5000): Promise<unknown> {
    return this.#messages.next(ms);
  }

  /**
   * The close event, within `ms`: a connection still open by then fails the
   * wait, naming `what` (by default the socket's address).
   */
  closedWithin(ms = 5000, what?: string): Promise<CloseEvent> {
    return within(this.closed, ms, what ?? `the WebSocket to ${this.#where()} to close`);
  }

  /**
   * Resolves once open and rejects when the connection fails first, as
   * {@linkcode TestClient.opened} does; neither within `ms` fails the wait,
   * naming `what`.
   */
  openedWithin(ms = 5000, what?: string): Promise<void> {
    return within(this.opened, ms, what ?? `the WebSocket to ${this.#where()} to open or fail`);
  }

  // The address without its query, which may carry a resume token.
  #where(): string {
    const url = new URL(this.socket.url);
    return `${url.origin}${url.pathname}`;
  }

  /** Sends `message` as JSON, or a string or bytes as they are. */
  send(message: unknown): void {
    this.socket.send(
      typeof message === "string" || message instanceof Uint8Array
        ? message
        : JSON.stringify(message),
    );
  }

  /** Closes cleanly and waits for the close to finish. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close(1000);
    await within(this.closed, 5000, "the client to close");
  }
}

/** A connected client and the id the server gave it. */
export interface Connected {
  /** The client. */
  client: TestClient;
  /** Its id, from `your_id`. */
  id: string;
}

/** Clients of one test that close as one group. */
export interface ClientGroup extends AsyncDisposable {
  /** The clients, in the order they connected. */
  clients: Connected[];
}

/**
 * Closes every client in `clients`, all of them even when one fails to
 * close; the first failure is thrown once all are closed.
 */
async function closeAll(clients: readonly Connected[]): Promise<void> {
  const results = await Promise.allSettled(
    clients.map(({ client }) => client[Symbol.asyncDispose]()),
  );
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Connects `count` clients to `url`, one after another, as one disposable
 * group; a connection that fails closes those already open.
 */
export async function connectedClients(
  url: string,
  count: number,
  options?: ConstructorParameters<typeof WebSocket>[1],
): Promise<ClientGroup> {
  const clients: Connected[] = [];
  try {
    for (let i = 0; i < count; i++) clients.push(await TestClient.connect(url, options));
  } catch (error) {
    await closeAll(clients).catch(() => {});
    throw error;
  }
  return { clients, [Symbol.asyncDispose]: () => closeAll(clients) };
}

/** A paired client: its id and the `paired` message it heard. */
export interface PairedClient extends Connected {
  /** The `paired` message, with `peer`, `initiator` and any `iceServers`. */
  paired: Record<string, unknown>;
}

/** Two clients paired with each other, closed as one group. */
export interface PairedClients extends AsyncDisposable {
  /** The client that asked, the initiator. */
  a: PairedClient;
  /** The client that accepted. */
  b: PairedClient;
}

/**
 * Connects `a` to `urlA` and `b` to `urlB` (the same server by default) and
 * pairs them: `a` asks, `b` accepts, and both hear `paired`. Throws naming
 * the message that was not the one expected; the clients are closed when
 * pairing fails, and with the group otherwise.
 */
export async function pairedClients(urlA: string, urlB = urlA): Promise<PairedClients> {
  const clients: Connected[] = [];
  const expect = async (client: TestClient, type: string, fields: Record<string, unknown>) => {
    const message = await client.next() as Record<string, unknown>;
    const wanted = { type, ...fields };
    if (Object.entries(wanted).some(([key, value]) => message[key] !== value)) {
      throw new Error(`expected ${JSON.stringify(wanted)}, got ${JSON.stringify(message)}`);
    }
    return message;
  };
  try {
    const a = await TestClient.connect(urlA);
    clients.push(a);
    const b = await TestClient.connect(urlB);
    clients.push(b);
    a.client.send({ type: "pair_request", target: b.id });
    await expect(b.client, "pair_request", { from: a.id });
    b.client.send({ type: "pair_accept", from: a.id });
    const pairedA = await expect(a.client, "paired", { peer: b.id, initiator: true });
    const pairedB = await expect(b.client, "paired", { peer: a.id, initiator: false });
    return {
      a: { ...a, paired: pairedA },
      b: { ...b, paired: pairedB },
      [Symbol.asyncDispose]: () => closeAll(clients),
    };
  } catch (error) {
    await closeAll(clients).catch(() => {});
    throw error;
  }
}

/** A well-formed handshake, for raw requests to modify. */
export const HANDSHAKE_HEADERS: Readonly<Record<string, string>> = {
  host: "127.0.0.1",
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

/**
 * Sends a raw HTTP request over TCP (so any header can be set or left out,
 * and any HTTP version named) and returns the status code, the head, and the
 * open connection.
 */
export async function rawRequest(
  port: number,
  headers: Record<string, string | undefined>,
  path = "/",
  version = "1.1",
): Promise<{ status: number; head: string; conn: Deno.TcpConn }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = Object.entries(headers).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`).join("");
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/${version}\r\n${lines}\r\n`));
  let head = "";
  const buffer = new Uint8Array(4096);
  while (!head.includes("\r\n\r\n")) {
    const n = await within(conn.read(buffer), 5000, "an HTTP response");
    if (n === null) break;
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  const status = Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0);
  return { status, head, conn };
}

/** A subprocess whose stdout and stderr lines a test can wait on. */
export class Child implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  #waiters: (() => void)[] = [];
  readonly #drained: Promise<void>;
  readonly #piped: boolean;

  /**
   * Spawns `deno` (or `command`) with `args`, in the project root unless
   * `cwd` is given; with `stdin` true, {@linkcode Child.type} writes lines to it.
   */
  constructor(
    args: string[],
    cwd = ROOT,
    stdin = false,
    command = Deno.execPath(),
    env: Record<string, string> = {},
  ) {
    this.#piped = stdin;
    this.process = new Deno.Command(command, {
      args,
      cwd,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      // As from a shell started in `cwd`: `deno task` keeps an INIT_CWD it
      // inherits (this test run's own, under `deno task test`) and would
      // otherwise take the checkout for the folder the user started in.
      env: { NO_COLOR: "1", INIT_CWD: cwd, ...env },
    }).spawn();
    this.#drained = Promise.all([
      this.#collect(this.process.stdout, this.stdout),
      this.#collect(this.process.stderr, this.stderr),
    ]).then(() => {});
  }

  async #collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      into.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    }
    if (rest) into.push(rest);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /**
   * Waits for the `nth` line in `stream` matching `pattern` (the first by
   * default) and returns its match.
   */
  async waitForLine(
    pattern: RegExp,
    stream: "stdout" | "stderr" = "stderr",
    ms = 10_000,
    nth = 1,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    let seen = 0;
    let found = 0;
    while (true) {
      const lines = this[stream];
      for (; seen < lines.length; seen++) {
        const match = lines[seen]?.match(pattern);
        if (match && ++found === nth) return match;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `No ${stream} line matching ${pattern}; stderr:\n${this.stderr.join("\n")}`,
        );
      }
      await within(new Promise<void>((wake) => this.#waiters.push(wake)), left, `${pattern}`)
        .catch(() => {});
    }
  }

  /** Types one line on the process's stdin. */
  async type(line: string): Promise<void> {
    const writer = this.process.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(`${line}\n`));
    } finally {
      writer.releaseLock();
    }
  }

  /** Waits for the process to exit and its output to be read. */
  async exit(ms = 10_000): Promise<Deno.CommandStatus> {
    const status = await within(this.process.status, ms, "the process to exit");
    await within(this.#drained, ms, "the output to close after the process ended");
    return status;
  }

  /** Kills the process if it still runs and reaps it. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#piped) await this.process.stdin.close().catch(() => {});
    try {
      this.process.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.process.status;
    // A process it started (as `deno task` starts `deno run`) may outlive it
    // and keep its output open: fail saying so rather than hang the run.
    await within(this.#drained, 5_000, "the output to close after the process ended");
  }
}

/**
 * Spawns `server.ts` on 127.0.0.1 (a free port by default) and waits until it
 * listens; `permissions` are granted besides `--allow-net`, `env` is added.
 */
export async function spawnServer(
  args: string[] = [],
  port = 0,
  permissions: string[] = [],
  env: Record<string, string> = {},
): Promise<{ child: Child; port: number; url: string }> {
  const child = new Child(
    [
      "run",
      "--allow-net",
      ...permissions,
      "--no-prompt",
      "server.ts",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      ...args,
    ],
    ROOT,
    false,
    Deno.execPath(),
    env,
  );
  const match = await child.waitForLine(/Server listening on ws:\/\/([\d.]+):(\d+)/);
  const bound = Number(match[2]);
  return { child, port: bound, url: `ws://127.0.0.1:${bound}` };
}

/** Where a WebRTC peer runs and what it may do besides WebRTC itself. */
export interface PeerOptions {
  /** The working folder; the project root by default. */
  cwd?: string;
  /** Extra permission flags, e.g. `--allow-read=DIR` for files. */
  permissions?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Spawns `client.ts --webrtc` as `deno task peer` does, with exactly the
 * permissions WebRTC needs (plus `options.permissions`), stdin piped.
 */
export function spawnPeerWith(options: PeerOptions, ...args: string[]): Child {
  return new Child(
    [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-sys=networkInterfaces",
      ...(options.permissions ?? []),
      "--no-prompt",
      `${ROOT}client.ts`,
      "--webrtc",
      ...args,
    ],
    options.cwd ?? ROOT,
    true,
    Deno.execPath(),
    options.env ?? {},
  );
}

/** {@linkcode spawnPeerWith} with no extras: `deno task peer ...args`. */
export function spawnPeer(...args: string[]): Child {
  return spawnPeerWith({}, ...args);
}
