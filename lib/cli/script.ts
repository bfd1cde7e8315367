/**
 * The command-line client's commands in order: those that come before the id
 * wait for it, and in a script (piped input) those behind a `pair` or
 * `accept` wait for its answer, bounded by `--answer-timeout`. Typed
 * commands never wait for an answer.
 *
 * @module
 */

import { getLogger } from "../runtime/deps.ts";
import { printable } from "../runtime/safe_text.ts";
import { type Command, parseCommand } from "./commands.ts";
import { describeError } from "./connect_failure.ts";

const logger = getLogger(["switchboard", "client"]);

/**
 * How many commands wait to run (typed before the id arrives, or piped
 * behind one that waits for its answer); input is read no further meanwhile.
 */
export const MAX_QUEUED_COMMANDS = 100;

/**
 * A command whose answer is still to come. In a script the next command
 * waits for it (bounded by `--answer-timeout`); typed commands never wait.
 */
export type PendingAnswer =
  /** `pair`: `paired`, `pair_rejected` or an error. */
  | { kind: "pair"; peer: string }
  /** `accept`: `paired` or an error. */
  | { kind: "accept"; peer: string }
  /**
   * In WebRTC mode, once paired: the data channel opens or the link falls
   * back to the server, within `--p2p-timeout`.
   */
  | { kind: "channel"; peer: string }
  /** `code`: the `nameplate` that makes the code, or an error. */
  | { kind: "code"; peer: string };

/** What a {@link CommandQueue} runs commands with. */
export interface QueueHooks {
  /** Whether the input is a script: then commands wait for answers. */
  scripted: boolean;
  /** How long a script waits for an answer, in seconds. */
  answerTimeout: number;
  /** Writes one line to stdout. */
  print(line: string): void;
  /** Runs one command that is neither `quit` nor answered at once (`help`). */
  execute(command: Command): void;
  /** Called once, when a queued `quit` comes to run. */
  quit(): void;
}

/**
 * Commands waiting for the id, or (in a script) for the answer to the one
 * before them, and the answer awaited.
 *
 * @example A command before the id runs once the id is here
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommandQueue } from "./script.ts";
 *
 * const ran: string[] = [];
 * const queue = new CommandQueue({
 *   scripted: false,
 *   answerTimeout: 60,
 *   print: () => {},
 *   execute: (command) => ran.push(command.kind),
 *   quit: () => {},
 * });
 * queue.submit({ kind: "send", text: "hello" });
 * assert.deepEqual(ran, []);
 * queue.ready();
 * queue.drain();
 * assert.deepEqual(ran, ["send"]);
 * ```
 */
export class CommandQueue {
  readonly #hooks: QueueHooks;
  // Whether the id has arrived on this connection: commands wait until it has.
  #ready = false;
  #queue: Command[] = [];
  // The answer the last pair or accept waits for, and how long a script waits for it.
  #awaiting: PendingAnswer | undefined;
  #answerTimer: ReturnType<typeof setTimeout> | undefined;
  // A line said while waiting ("Asked … waiting") unless a quick answer made it moot.
  #reminder: ReturnType<typeof setTimeout> | undefined;
  // Wakes the input reader once the queue has room again.
  #roomMade: (() => void) | undefined;
  // Set once a queued quit ran: nothing after it runs while the client finishes.
  #quitting = false;

  /** @param hooks How commands run, print and quit. */
  constructor(hooks: QueueHooks) {
    this.#hooks = hooks;
  }

  /** The answer awaited, if any. */
  get awaiting(): PendingAnswer | undefined {
    return this.#awaiting;
  }

  /** The id is here: commands may run (call {@link drain} to run those queued). */
  ready(): void {
    this.#ready = true;
  }

  /** The connection is gone: an answer lost with it will not come; what is queued waits. */
  disconnected(): void {
    this.#ready = false;
    this.#stopWaiting();
  }

  /**
   * Runs `command` now, or queues it until the id has arrived (and, in a
   * script, the answer awaited) behind anything queued before it.
   *
   * @returns `true` for a `quit` with nothing before it: quit now.
   */
  submit(command: Command): boolean {
    if (command.kind === "quit") {
      if (this.#queue.length === 0 && !this.#waiting()) return true;
      // Quit once what is queued has run.
      this.#queue.push(command);
      return false;
    }
    if (this.#ready && this.#queue.length === 0 && !this.#waiting() && !this.#quitting) {
      this.#hooks.execute(command);
    } else {
      this.#queue.push(command);
    }
    return false;
  }

  /**
   * Waits for the answer to what was just sent; a script waits with it, for
   * `--answer-timeout` when `timed`, else until {@link answered}.
   */
  expect(awaited: PendingAnswer, timed = true): void {
    this.#stopWaiting();
    this.#awaiting = awaited;
    if (!timed || !this.#hooks.scripted) return;
    const seconds = this.#hooks.answerTimeout;
    this.#answerTimer = setTimeout(() => {
      this.#answerTimer = undefined;
      this.#hooks.print(printable(
        `*** No answer from ${awaited.peer} within ${seconds} s; going on with the next command ***`,
      ));
      this.answered();
    }, seconds * 1000);
  }

  /** Calls `say` after `ms` unless the answer awaited comes first. */
  remind(ms: number, say: () => void): void {
    clearTimeout(this.#reminder);
    this.#reminder = setTimeout(() => {
      this.#reminder = undefined;
      say();
    }, ms);
  }

  /** The awaited answer came, or will not: a script goes on. */
  answered(): void {
    this.#stopWaiting();
    this.drain();
  }

  /**
   * Resolves once fewer than {@linkcode MAX_QUEUED_COMMANDS} commands wait,
   * or `signal` aborts: input is read no further meanwhile, so a long script
   * waits in its pipe, not in memory, and no command is dropped.
   */
  room(signal: AbortSignal): Promise<void> {
    if (this.#queue.length < MAX_QUEUED_COMMANDS || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener("abort", done);
        this.#roomMade = undefined;
        resolve();
      };
      this.#roomMade = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Runs the queued commands while the id is here and no answer is awaited; a `quit` quits. */
  drain(): void {
    while (this.#ready && !this.#waiting() && !this.#quitting) {
      const command = this.#queue.shift();
      if (command === undefined) return;
      if (this.#queue.length < MAX_QUEUED_COMMANDS) this.#roomMade?.();
      if (command.kind === "quit") {
        this.#quitting = true;
        this.#hooks.quit();
        return;
      }
      this.#hooks.execute(command);
    }
  }

  #stopWaiting(): void {
    clearTimeout(this.#answerTimer);
    clearTimeout(this.#reminder);
    this.#answerTimer = this.#reminder = this.#awaiting = undefined;
  }

  /** Whether a script's next command must wait for an answer. */
  #waiting(): boolean {
    return this.#hooks.scripted && this.#awaiting !== undefined;
  }
}

/** Where {@link readCommands} hands the lines it reads. */
export interface CommandReader {
  /** Resolves once another command may be queued. */
  room(signal: AbortSignal): Promise<void>;
  /** Runs or queues one command; `true` means quit now. */
  run(command: Command): boolean;
}

/**
 * Reads `input` a line at a time into `reader`. Input that ends after some
 * lines is a script: it quits once its commands have run. Input that ends
 * empty (stdin from /dev/null) leaves the client running.
 *
 * @param quit Called to quit now.
 */
export async function readCommands(
  input: AsyncIterable<string>,
  reader: CommandReader,
  quit: () => void,
  signal: AbortSignal,
): Promise<void> {
  let lines = 0;
  try {
    for await (const line of input) {
      await reader.room(signal);
      if (signal.aborted) return;
      lines++;
      if (reader.run(parseCommand(line))) {
        quit();
        return;
      }
    }
  } catch (error) {
    logger.error("Cannot read input: {error}", { error: describeError(error) });
    return;
  }
  if (lines > 0 && !signal.aborted && reader.run({ kind: "quit" })) quit();
}
