/**
 * The connections to Redis: one for commands and scripts, one subscribed to
 * this instance's channel. Every call has a timeout; reconnection backs off;
 * the owner hears when the link is lost and when it is ready again. Counters
 * for `/metrics` are kept here.
 *
 * @module
 */

import { loadRedis, type RedisModule } from "../../runtime/deps.ts";
import { errorText } from "../../runtime/safe_text.ts";
import { type BATCHABLE, channelOf, type ScriptName, SCRIPTS } from "./scripts.ts";

/** A script that may run with others of its kind in one call. */
export type BatchableName = typeof BATCHABLE[number];

interface Pending {
  name: BatchableName;
  args: readonly string[];
  resolve: (reply: unknown[]) => void;
  reject: (error: unknown) => void;
}
import type { RedisTarget } from "./url.ts";

/** How a link behaves. */
export interface LinkOptions {
  /** Where Redis is. */
  target: RedisTarget;
  /** The password when the URL has none (from the environment). */
  password?: string | undefined;
  /** This instance's id, whose channel the link subscribes to. */
  instance: string;
  /** The longest any call may take, in ms. */
  timeoutMs: number;
  /** The longest connecting at start may take, in ms. */
  connectTimeoutMs: number;
  /** Receives each event published to this instance's channel. */
  onEvent: (payload: string) => void;
  /** Told when a connection drops after it was ready, with why. */
  onLost: (reason: string) => void;
}

/** Redis round trips and cross-instance traffic, for `/metrics`. */
export class LinkMetrics {
  /** Script calls that answered. */
  calls = 0;
  /** Their round trips in seconds, summed. */
  seconds = 0;
  /** Calls that failed, by kind: `timeout` or `error`. */
  readonly failures: Map<string, number> = new Map([["timeout", 0], ["error", 0]]);
  /** Relayed messages published for a partner on another instance. */
  crossSent = 0;
  /** Relayed messages received for a client here from another instance. */
  crossReceived = 0;
  /** Pairing events received from the channel. */
  events = 0;
  /** Times the link was lost. */
  losses = 0;
  /** Instances found dead and removed by this one. */
  instancesRemoved = 0;
  /** 1 while Redis is reachable, 0 while not. */
  up = 0;

  /** The Prometheus text for these counters. */
  render(): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    family("switchboard_redis_up", "gauge", "1 while Redis is reachable.", [["", this.up]]);
    lines.push(
      "# HELP switchboard_redis_round_trip_seconds Round trips of Redis calls that answered.",
      "# TYPE switchboard_redis_round_trip_seconds summary",
      `switchboard_redis_round_trip_seconds_sum ${this.seconds}`,
      `switchboard_redis_round_trip_seconds_count ${this.calls}`,
    );
    family(
      "switchboard_redis_failures_total",
      "counter",
      "Redis calls that failed, by kind.",
      [...this.failures].map(([kind, n]) => [`{kind="${kind}"}`, n]),
    );
    family(
      "switchboard_cross_instance_messages_total",
      "counter",
      "Relayed messages between clients on different instances, by direction.",
      [[`{direction="sent"}`, this.crossSent], [`{direction="received"}`, this.crossReceived]],
    );
    family(
      "switchboard_cross_instance_events_total",
      "counter",
      "Pairing events received through Redis.",
      [["", this.events]],
    );
    family("switchboard_redis_losses_total", "counter", "Times Redis was lost.", [[
      "",
      this.losses,
    ]]);
    family(
      "switchboard_instances_removed_total",
      "counter",
      "Instances whose heartbeat expired, removed with their clients by this one.",
      [["", this.instancesRemoved]],
    );
    return lines.join("\n") + "\n";
  }
}

/** A call that did not answer in time. */
export class RedisTimeout extends Error {
  /** @param what The call. */
  constructor(what: string, ms: number) {
    super(`Redis did not answer ${what} within ${ms} ms`);
    this.name = "RedisTimeout";
  }
}

type CreateClient = RedisModule["createClient"];
type Client = Awaited<ReturnType<typeof connectClient>>;

/** Connected, subscribed, and counting. */
export class RedisLink {
  /** The counters. */
  readonly metrics: LinkMetrics = new LinkMetrics();
  readonly #options: LinkOptions;
  readonly #shas = new Map<ScriptName, string>();
  #commands: Client | undefined;
  #subscriber: Client | undefined;
  #ready = false;
  #closed = false;
  // Calls waiting for the end of this turn, to go in one batch.
  #pending: Pending[] = [];

  private constructor(options: LinkOptions) {
    this.#options = options;
  }

  /**
   * Connects both connections and subscribes, within `timeoutMs`.
   *
   * @throws {Error} When Redis cannot be reached or refuses; the message
   * names the URL without its password.
   */
  static async connect(options: LinkOptions): Promise<RedisLink> {
    const link = new RedisLink(options);
    for (const [name, { source }] of Object.entries(SCRIPTS)) {
      link.#shas.set(name as ScriptName, await sha1(source));
    }
    try {
      await link.#open();
    } catch (error) {
      await link.close();
      throw error;
    }
    return link;
  }

  /** Whether both connections are ready. */
  get ready(): boolean {
    return this.#ready && this.#commands?.isReady === true && this.#subscriber?.isReady === true;
  }

  async #open(): Promise<void> {
    const { target, connectTimeoutMs: timeoutMs } = this.#options;
    const password = target.password ?? this.#options.password;
    // Loading the library takes a while the first time; the deadline is for Redis alone.
    const { createClient } = await loadRedis();
    const deadline = AbortSignal.timeout(timeoutMs);
    const onLost = (cause: unknown) => this.#lost(cause);
    this.#commands = await bounded(
      connectClient(createClient, target.url, password, timeoutMs, onLost),
      deadline,
      `connecting to ${target.display}`,
    );
    this.#subscriber = await bounded(
      connectClient(createClient, target.url, password, timeoutMs, onLost),
      deadline,
      `connecting to ${target.display}`,
    );
    await bounded(
      this.#subscriber.subscribe(channelOf(this.#options.instance), (message: string) => {
        this.#options.onEvent(message);
      }),
      deadline,
      "subscribing",
    );
    this.#ready = true;
    this.metrics.up = 1;
  }

  #lost(cause: unknown): void {
    if (this.#closed) return;
    if (this.metrics.up === 1) {
      this.metrics.up = 0;
      this.metrics.losses++;
      this.#options.onLost(errorText(cause));
    }
  }

  /** Marks the link up again once both connections are ready; for the owner's recovery. */
  markUp(): void {
    this.metrics.up = 1;
  }

  /**
   * Runs a script and returns its reply, within the timeout.
   *
   * @throws {RedisTimeout} When it takes too long.
   * @throws {Error} When the link is down or Redis answers with an error.
   */
  async call(name: ScriptName, args: readonly string[]): Promise<unknown[]> {
    const commands = this.#commands;
    if (!commands?.isReady) throw new Error("Redis is not connected");
    const { timeoutMs } = this.#options;
    const started = performance.now();
    try {
      let reply: unknown;
      try {
        reply = await answered(
          commands.sendCommand(["EVALSHA", this.#shas.get(name)!, "0", ...args], {
            timeout: timeoutMs,
          }),
          timeoutMs,
        );
      } catch (error) {
        // A restarted Redis has forgotten the scripts: send the source once, which caches it.
        if (!/NOSCRIPT/.test(errorText(error))) throw error;
        reply = await answered(
          commands.sendCommand(["EVAL", SCRIPTS[name].source, "0", ...args], {
            timeout: timeoutMs,
          }),
          timeoutMs,
        );
      }
      this.metrics.calls++;
      this.metrics.seconds += (performance.now() - started) / 1000;
      return Array.isArray(reply) ? reply : [reply];
    } catch (error) {
      const timedOut = /timeout/i.test(errorText(error)) ||
        (error instanceof Error && error.name === "TimeoutError");
      const kind = timedOut ? "timeout" : "error";
      this.metrics.failures.set(kind, (this.metrics.failures.get(kind) ?? 0) + 1);
      if (timedOut) throw new RedisTimeout(name, timeoutMs);
      throw error;
    }
  }

  /**
   * Runs a script as {@linkcode RedisLink.call} does, together with the
   * others asked for in the same turn of the event loop: one round trip for
   * many clients that connect or leave at once, at the cost of that turn.
   */
  batched(name: BatchableName, args: readonly string[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ name, args, resolve, reject });
      if (this.#pending.length === 1) setTimeout(() => this.#flush(), 0);
    });
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 1) {
      const [only] = pending as [Pending];
      return this.call(only.name, only.args).then(only.resolve, only.reject);
    }
    const args: string[] = [];
    for (const { name, args: own } of pending) args.push(name, String(own.length), ...own);
    try {
      const replies = await this.call("batch", args);
      pending.forEach((op, i) => {
        const reply = replies[i];
        op.resolve(Array.isArray(reply) ? reply : [reply]);
      });
    } catch (error) {
      for (const op of pending) op.reject(error);
    }
  }

  /** Closes both connections; safe to call more than once. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#ready = false;
    this.metrics.up = 0;
    for (const client of [this.#subscriber, this.#commands]) {
      if (!client) continue;
      try {
        if (client.isOpen) await bounded(client.close(), AbortSignal.timeout(1000), "closing");
      } catch {
        client.destroy();
      }
    }
  }
}

/** The first reconnection waits this long; each next one twice as long, to the maximum. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2000;

async function connectClient(
  createClient: CreateClient,
  url: string,
  password: string | undefined,
  timeoutMs: number,
  onLost: (cause: unknown) => void,
) {
  let connected = false;
  const client = createClient({
    url,
    ...(password === undefined ? {} : { password }),
    // Otherwise the library reads the environment (which --allow-net does not
    // allow), fails inside its own error handler and never connects.
    maintNotifications: "disabled",
    // Fail at once while disconnected instead of queueing for later.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: timeoutMs,
      // Not at start: an unreachable Redis there is one line and exit 1.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected
          ? Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** retries) +
            Math.floor(Math.random() * 50)
          : cause,
    },
  });
  // An error event without a listener would crash the process; each one means the link dropped.
  client.on("error", (error: unknown) => {
    if (connected) onLost(error);
  });
  await client.connect();
  connected = true;
  return client;
}

/** `promise`, or a rejection once `signal` aborts. */
function bounded<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  promise.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`timed out ${what}`));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `promise`, or a `TimeoutError` after `ms`. The library's own timeout
 * covers only a command not yet written to the socket: a Redis that stops
 * answering (stopped, or its network gone without a reset) would leave a
 * written command waiting for ever. A late reply still matches its command,
 * since Redis answers in order.
 */
function answered<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no reply within ${ms} ms`);
      error.name = "TimeoutError";
      reject(error);
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
