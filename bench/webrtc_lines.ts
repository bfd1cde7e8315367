/**
 * A child process driven through its stdin and read line by line from its
 * stdout, with the time each line arrived: what the WebRTC benchmark needs to
 * watch a command-line peer.
 *
 * @module
 */

/** A line the child printed, and when the benchmark read it (`performance.now()`). */
export interface TimedLine {
  /** The line, without its ending. */
  text: string;
  /** When it was read, in milliseconds on this process's clock. */
  at: number;
}

/** How to wait for a line. */
export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** What is awaited, for the error message. */
  what: string;
  /** A line that means it will never come: fail at once. */
  failOn?: RegExp;
}

interface Waiter {
  pattern: RegExp;
  options: WaitOptions;
  resolve(found: { match: RegExpExecArray; at: number }): void;
  reject(error: Error): void;
}

/** A child process read line by line; each wait consumes the lines up to its match. */
export class LineProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: TimedLine[] = [];
  #cursor = 0;
  #waiter: Waiter | undefined;
  #exit = "";
  // Set once stdout is drained and the child has exited: no line can come.
  #ended = false;
  #stderr = "";
  readonly #done: Promise<unknown>;

  /** Starts `argv` with stdin and stdout piped. */
  constructor(argv: readonly string[]) {
    const [command, ...args] = argv;
    if (command === undefined) throw new TypeError("LineProcess needs a command");
    this.#child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#done = Promise.all([
      this.#readLines(),
      this.#readStderr(),
      this.#child.status.then((status) => {
        this.#exit = status.signal ? `killed by ${status.signal}` : `exited with ${status.code}`;
      }),
    ]).then(() => {
      this.#ended = true;
      this.#check();
    });
  }

  /** The child's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Every line so far. */
  get lines(): readonly TimedLine[] {
    return this.#lines;
  }

  /**
   * Waits for the next line (after the last one matched) that matches
   * `pattern`.
   *
   * @throws {Error} On timeout, on a `failOn` line, or when the child ends.
   */
  waitFor(pattern: RegExp, options: WaitOptions): Promise<{ match: RegExpExecArray; at: number }> {
    if (this.#waiter) throw new Error("LineProcess: one wait at a time");
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(this.#error(`timed out after ${options.timeoutMs} ms`, options.what));
      }, options.timeoutMs);
      this.#waiter = {
        pattern,
        options,
        resolve: (found) => {
          clearTimeout(timer);
          resolve(found);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#check();
    });
  }

  /**
   * Types one line on the child's stdin.
   *
   * @returns When the line was handed to the pipe (`performance.now()`).
   */
  async type(line: string): Promise<number> {
    const at = performance.now();
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
    return at;
  }

  /** Kills the child (SIGKILL) and waits until its pipes are drained. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // It had already exited.
    }
    await this.#stdin.close().catch(() => {});
    await this.#done;
  }

  #check(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    while (this.#cursor < this.#lines.length) {
      const line = this.#lines[this.#cursor++]!;
      const match = waiter.pattern.exec(line.text);
      if (match) {
        this.#waiter = undefined;
        waiter.resolve({ match, at: line.at });
        return;
      }
      if (waiter.options.failOn?.test(line.text)) {
        this.#waiter = undefined;
        waiter.reject(this.#error(`the peer printed "${line.text}"`, waiter.options.what));
        return;
      }
    }
    if (this.#ended) {
      this.#waiter = undefined;
      waiter.reject(this.#error(`the peer ${this.#exit}`, waiter.options.what));
    }
  }

  #error(why: string, what: string): Error {
    const stderr = this.#stderr.trim().split("\n").slice(-3).join(" | ");
    return new Error(`${what}: ${why}${stderr ? ` (stderr: ${stderr.slice(0, 300)})` : ""}`);
  }

  async #readLines(): Promise<void> {
    let rest = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      const at = performance.now();
      const parts = (rest + chunk).split(/\r?\n/);
      rest = parts.pop() ?? "";
      for (const text of parts) this.#lines.push({ text, at });
      this.#check();
    }
    if (rest) this.#lines.push({ text: rest, at: performance.now() });
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
      // Only the tail is ever shown; keep it small.
      this.#stderr = (this.#stderr + chunk).slice(-2000);
    }
  }
}
