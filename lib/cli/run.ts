/**
 * The command-line client: connect, print the id the server gives, pair and
 * talk through typed commands, report closures plainly, and optionally
 * reconnect with backoff.
 *
 * @module
 */

import { unauthorizedReason } from "./api_key.ts";
import { backoffDelay } from "./backoff.ts";
import { closeCode } from "../protocol/close_code.ts";
import { type Command, COMMANDS_HELP, parseCommand } from "./commands.ts";
import { getLogger } from "../runtime/deps.ts";
import { describeEvent } from "./output.ts";
import { type ClientFlags, DEFAULT_ANSWER_TIMEOUT } from "../server/flags.ts";
import {
  type ClientMessage,
  CloseCode,
  ErrorCode,
  MessageType,
  parseEnvelope,
  type ServerMessage,
  toServerMessage,
} from "../protocol/messages.ts";
import { resumeUrl } from "../protocol/resume_params.ts";
import { errorText, printable, truncate } from "../runtime/safe_text.ts";
import { sendJson } from "../runtime/json_socket.ts";
import { FileTransfers } from "./files/transfers.ts";
import type { ProgressDisplay } from "./files/progress.ts";
import { P2pChat } from "./chat.ts";
import type { PeerConnectionFactory } from "./werift/peer.ts";

const logger = getLogger(["switchboard", "client"]);

/** How many unanswered pairing requests the client remembers. */
export const MAX_REMEMBERED_REQUESTS = 100;

/**
 * How many commands wait to run (typed before the id arrives, or piped
 * behind one that waits for its answer); input is read no further meanwhile.
 */
export const MAX_QUEUED_COMMANDS = 100;

/** The longest wait between reconnect attempts before jitter, in milliseconds. */
export const MAX_RETRY_DELAY_MS = 30_000;

/**
 * How long `pair` keeps quiet before saying it asked: a refusal (no such
 * client, busy) comes back well within it, and is then the only line.
 */
export const ASKED_LINE_DELAY_MS = 500;

/** How long `quit` waits for the lines sent on the data channel to arrive. */
export const CHAT_FINISH_MS = 2000;

/** How one connection attempt ended. */
export type SessionEnd =
  /** We closed it: `--once` after the id, `quit`, or Ctrl+C. */
  | { kind: "stopped" }
  /** The server closed it normally (1000). */
  | { kind: "closed"; code: number; reason: string }
  /** It could not be opened. */
  | { kind: "failed"; reason: string }
  /** It was open and ended unexpectedly. */
  | { kind: "dropped"; code: number; reason: string };

/** Sends one message to the server; `false` when the connection is not open. */
export type Send = (message: ClientMessage) => boolean;

/** What a session reports to the program around it. */
export interface SessionHooks {
  /** Closes the session with a clean 1000 when aborted. */
  signal: AbortSignal;
  /** Called once the connection is open, with the way to send on it. */
  onOpen(send: Send): void;
  /** Called for each known server message; return `true` to close cleanly. */
  onMessage(message: ServerMessage): boolean;
}

/**
 * Connects once and runs until the connection ends.
 *
 * @param apiKey Sent as `Authorization: Bearer` on the handshake.
 * @returns How it ended; never rejects.
 */
export function runSession(
  url: string,
  hooks: SessionHooks,
  apiKey?: string,
): Promise<SessionEnd> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = apiKey === undefined
        ? new WebSocket(url)
        : new WebSocket(url, { headers: { authorization: `Bearer ${apiKey}` } });
    } catch (error) {
      resolve({ kind: "failed", reason: describeError(error) });
      return;
    }
    let opened = false;
    let stopping = false;
    let failure = "";
    const stop = (): void => {
      stopping = true;
      socket.close(CloseCode.Normal);
    };
    if (hooks.signal.aborted) stop();
    hooks.signal.addEventListener("abort", stop, { once: true });

    socket.onopen = () => {
      opened = true;
      hooks.onOpen((message) => sendJson(socket, message));
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== "string") {
        logger.warn("Ignored a binary message from the server.");
        return;
      }
      const parsed = parseEnvelope(event.data);
      if (!parsed.ok) {
        logger.error("Invalid message from server ({reason}): {text}", {
          reason: parsed.reason,
          text: truncate(event.data),
        });
        return;
      }
      const message = toServerMessage(parsed.message);
      if (message === undefined) {
        logger.warn("Unhandled message type: {type}", { type: parsed.message.type });
      } else if (hooks.onMessage(message)) {
        stop();
      }
    };
    socket.onerror = (event: Event) => {
      failure = event instanceof ErrorEvent ? event.message : "";
    };
    socket.onclose = async (event: CloseEvent) => {
      hooks.signal.removeEventListener("abort", stop);
      if (stopping) {
        resolve({ kind: "stopped" });
      } else if (!opened) {
        resolve({ kind: "failed", reason: await diagnose(url, failure, apiKey !== undefined) });
      } else if (event.code === CloseCode.Normal) {
        resolve({ kind: "closed", code: event.code, reason: event.reason });
      } else {
        resolve({ kind: "dropped", code: closeCode(event), reason: event.reason });
      }
    };
  });
}

/** What `runClient` needs from the process. */
export interface ClientIo {
  /** Writes one line to stdout: ids, events, command feedback. */
  print(line: string): void;
  /** Aborted when the user asks the client to stop (Ctrl+C). */
  signal: AbortSignal;
  /** Lines the user types; none when omitted. */
  input?: AsyncIterable<string>;
  /**
   * Whether the input is a script (piped, not typed at a terminal): then
   * `pair` and `accept` wait for their answer before the next command runs.
   */
  scripted?: boolean;
  /** Where reconnect delays come from; `Math.random` by default. */
  random?: () => number;
  /** In WebRTC mode: makes the peer connections chat runs over. */
  peerConnections?: PeerConnectionFactory;
  /**
   * In WebRTC mode: settles once the WebRTC library is loaded and warm;
   * `--pair` asks only then, so the partner never waits on this side's start.
   */
  peerReady?: Promise<unknown>;
  /** In WebRTC mode: where file transfer progress goes. */
  progress?: ProgressDisplay;
}

/** The flags `runClient` acts on. */
export type ClientOptions =
  & Pick<
    ClientFlags,
    "url" | "once" | "reconnect" | "retryDelay" | "maxRetries" | "pair" | "accept"
  >
  & Partial<
    Pick<
      ClientFlags,
      | "p2pTimeout"
      | "relayOnly"
      | "acceptFiles"
      | "downloadDir"
      | "maxFileBytes"
      | "transferIdle"
      | "answerTimeout"
    >
  >
  & {
    /** The API key to present; none by default. */
    apiKey?: string;
  };

/**
 * Runs the client: connects, prints `*** Your Client ID: <id> ***` and every
 * later event, runs typed commands, and with `reconnect` retries after
 * failures with exponential backoff.
 *
 * @returns The exit code: 0 when stopped or closed normally, 1 on failure.
 */
export async function runClient(options: ClientOptions, io: ClientIo): Promise<number> {
  const quit = new AbortController();
  const signal = AbortSignal.any([io.signal, quit.signal]);
  let quitting = false;
  // A deliberate quit ends the transfers first, while their channels can still
  // tell the partner why, then lets the lines sent on the data channel arrive
  // before the connection closes and the server tells the partner we left.
  const leave = (): void => {
    if (quitting) return;
    quitting = true;
    state.stopFiles().catch(() => {}).then(() => state.finishChat()).finally(() => quit.abort());
  };
  const state = new ClientState(
    options,
    io.print,
    io.input !== undefined,
    io.peerConnections,
    io.progress,
    io.peerReady,
    io.scripted ?? false,
    leave,
  );
  if (io.input) readCommands(io.input, state, leave, signal);
  // The retry under way, and the attempts to connect since the last id.
  let retry = 0;
  let attempts = 0;
  try {
    while (true) {
      logger.info("Connecting to server at {url}...", { url: options.url });
      attempts++;
      let gotId = false;
      const end = await runSession(state.connectUrl(), {
        signal,
        onOpen: (send) => state.connected(send),
        onMessage: (message) => {
          if (!gotId && message.type === MessageType.YourId) {
            gotId = true;
            // Only now is the client usable: the server may still refuse an open socket.
            logger.info("Connected to server.");
          }
          return state.received(message);
        },
      }, options.apiKey);
      state.disconnected();
      switch (end.kind) {
        case "stopped":
          return 0;
        case "closed":
          logger.info("Server closed the connection: code {code} reason {reason}", {
            code: end.code,
            reason: end.reason || "(none)",
          });
          return 0;
        case "failed":
          logger.error("Failed to connect to {url}: {reason}", {
            url: options.url,
            reason: end.reason,
          });
          break;
        case "dropped":
          logger.error("Connection closed unexpectedly: code {code} reason {reason}", {
            code: end.code,
            reason: end.reason || "(none)",
          });
          break;
      }
      if (!options.reconnect || signal.aborted) return 1;
      // A connection that got its id was a success: the count starts again.
      if (gotId) retry = attempts = 0;
      retry++;
      if (retry > options.maxRetries) {
        logger.error("Giving up after {attempts} attempts.", { attempts });
        return 1;
      }
      const delay = backoffDelay(retry, options.retryDelay * 1000, MAX_RETRY_DELAY_MS, io.random);
      logger.info("Reconnecting in {seconds} s (retry {retry} of {max})...", {
        seconds: Math.round(delay / 10) / 100,
        retry,
        max: options.maxRetries,
      });
      if (!await wait(delay, signal)) return 0;
    }
  } finally {
    // Input is left unread from here: a read pending on stdin cannot be cancelled.
    quit.abort();
    // The process exits next: no transfer may outlive it, nor leave a .part file.
    await state.stopFiles();
    logger.info("Disconnecting...");
    logger.info("Client shut down.");
  }
}

/**
 * A command whose answer is still to come. In a script the next command
 * waits for it (bounded by `--answer-timeout`); typed commands never wait.
 */
type PendingAnswer =
  /** `pair`: `paired`, `pair_rejected` or an error. */
  | { kind: "pair"; peer: string }
  /** `accept`: `paired` or an error. */
  | { kind: "accept"; peer: string }
  /**
   * In WebRTC mode, once paired: the data channel opens or the link falls
   * back to the server, within `--p2p-timeout`.
   */
  | { kind: "channel"; peer: string };

/** What the client knows between messages: its connection, partner and requests. */
class ClientState {
  #send: Send | undefined;
  // Whether the id has arrived on this connection: commands wait until it has.
  #ready = false;
  #queue: Command[] = [];
  #partner: string | undefined;
  #hinted = false;
  // Requesters waiting for an answer, oldest first; a bare accept takes the newest.
  #requests = new Set<string>();
  // Chat over a data channel, in WebRTC mode only.
  readonly #p2p: P2pChat | undefined;
  // The id of the last connection, and the token that resumes it (with --reconnect).
  #id: string | undefined;
  #token: string | undefined;
  // Whether this connection presented the token: its your_id says whether that worked.
  #resuming = false;
  // Files over their own data channels, in WebRTC mode only.
  readonly #files: FileTransfers | undefined;
  readonly #peerReady: Promise<unknown> | undefined;
  // Whether the WebRTC library is ready (always, in plain mode): pair asks only then.
  #peerStarted: boolean;
  // The answer the last pair or accept waits for, and how long a script waits for it.
  #awaiting: PendingAnswer | undefined;
  #answerTimer: ReturnType<typeof setTimeout> | undefined;
  // Says "Asked … waiting" unless a quick answer made it moot.
  #askedTimer: ReturnType<typeof setTimeout> | undefined;
  // Wakes the input reader once the queue has room again.
  #roomMade: (() => void) | undefined;
  // Set once a queued quit ran: nothing after it runs while the client finishes.
  #quitting = false;

  constructor(
    readonly options: ClientOptions,
    readonly print: (line: string) => void,
    readonly interactive: boolean,
    peerConnections?: PeerConnectionFactory,
    progress?: ProgressDisplay,
    peerReady?: Promise<unknown>,
    readonly scripted = false,
    readonly quit: () => void = () => {},
  ) {
    this.#peerReady = peerReady;
    this.#peerStarted = peerReady === undefined;
    const started = (): void => {
      this.#peerStarted = true;
    };
    peerReady?.then(started, started);
    if (peerConnections) {
      this.#files = new FileTransfers({
        downloadDir: options.downloadDir ?? ".",
        acceptFiles: options.acceptFiles ?? false,
        maxFileBytes: options.maxFileBytes,
        ...(options.transferIdle === undefined ? {} : { idleMs: options.transferIdle * 1000 }),
        print,
        ...(progress ? { progress } : {}),
      });
      this.#p2p = new P2pChat({
        createPeerConnection: peerConnections,
        timeoutMs: (options.p2pTimeout ?? 15) * 1000,
        relayOnly: options.relayOnly ?? false,
        print,
        send: (message) => this.#send?.(message) ?? false,
        channels: this.#files,
        settled: () => {
          if (this.#awaiting?.kind === "channel") this.#answered();
        },
      });
    }
  }

  /**
   * The URL for the next connection: with `--reconnect` it asks for a
   * resumable session, and resumes the last one when the server gave a token.
   */
  connectUrl(): string {
    if (!this.options.reconnect) return this.options.url;
    this.#resuming = this.#token !== undefined;
    return resumeUrl(this.options.url, this.#token);
  }

  connected(send: Send): void {
    this.#send = send;
  }

  /** Closes the data channel once what was sent on it has arrived (bounded). */
  finishChat(): Promise<void> {
    return this.#p2p?.finish(CHAT_FINISH_MS) ?? Promise.resolve();
  }

  /** Stops every file transfer and waits until their partial files are gone. */
  stopFiles(): Promise<void> {
    return this.#files?.stop() ?? Promise.resolve();
  }

  disconnected(): void {
    this.#send = undefined;
    this.#ready = false;
    // An answer lost with the connection will not come; what is queued waits for the next id.
    this.#stopWaiting();
    // A session that may be resumed keeps its partner, requests and data channel.
    if (this.options.reconnect && this.#token !== undefined) return;
    this.#partner = undefined;
    this.#requests.clear();
    this.#p2p?.ended();
  }

  /** Prints the event and reacts to it; `true` ends the session (`--once`, a queued `quit`). */
  received(message: ServerMessage): boolean {
    if (message.type === MessageType.Session) {
      this.#token = message.resume_token;
      return false;
    }
    if (message.type === MessageType.Error && message.code === ErrorCode.ResumeFailed) {
      // Said already, in words, when the new id came.
      logger.info("The server could not resume the previous session.");
      return false;
    }
    if (
      message.type === MessageType.Error && message.code === ErrorCode.NotPaired &&
      this.#partner === undefined
    ) {
      // The client sends nothing that needs a partner without one, so this
      // answers a message (a candidate, a line) that crossed the partner's
      // departure on its way to the server: "Peer … left" said it already.
      logger.debug("The server refused a message sent as the pairing ended: {text}", {
        text: message.message,
      });
      return false;
    }
    if (this.#p2p?.take(message)) return false;
    if (message.type === MessageType.YourId && this.#resuming) return this.#reconnected(message.id);
    this.print(
      describeEvent(message, { webrtc: this.#p2p !== undefined, accepting: this.options.accept }),
    );
    switch (message.type) {
      case MessageType.YourId:
        this.#id = message.id;
        return this.#identified();
      case MessageType.PeerBack:
        this.#p2p?.renegotiate();
        break;
      case MessageType.PairRequest:
        if (this.options.accept) {
          this.send({ type: MessageType.PairAccept, from: message.from });
        } else {
          // Re-asking moves a requester to the end; the oldest give way past the cap.
          this.#requests.delete(message.from);
          this.#requests.add(message.from);
          if (this.#requests.size > MAX_REMEMBERED_REQUESTS) {
            this.#requests.delete(this.#requests.values().next().value ?? "");
          }
        }
        break;
      case MessageType.PairCancelled:
        this.#requests.delete(message.from);
        break;
      case MessageType.Paired:
        this.#requests.clear();
        this.#partner = message.peer;
        this.#p2p?.paired(message);
        this.#pairedWith(message.peer);
        break;
      case MessageType.PairRejected:
        if (this.#awaiting?.kind === "pair" && this.#awaiting.peer === message.peer) {
          this.#answered();
        }
        break;
      case MessageType.PeerLeft:
        this.#partner = undefined;
        this.#p2p?.ended();
        if (this.#awaiting?.kind === "channel") this.#answered();
        break;
      case MessageType.Error:
        // Printed above, for the user: not logged again. It answers what was asked.
        if (this.#awaiting !== undefined && this.#awaiting.kind !== "channel") this.#answered();
        break;
    }
    return false;
  }

  /**
   * A pair or accept was answered with a pairing (or another request won,
   * with `--accept`); in WebRTC mode a script waits on for the channel.
   */
  #pairedWith(peer: string): void {
    if (this.#awaiting === undefined) return;
    if (this.#p2p === undefined) {
      this.#answered();
      return;
    }
    // The link has its own deadline (--p2p-timeout) and always reports open or failed.
    this.#stopWaiting();
    this.#awaiting = { kind: "channel", peer };
  }

  /** Waits for the answer to what was just sent; a script waits with it, for a while. */
  #await(awaited: PendingAnswer): void {
    this.#stopWaiting();
    this.#awaiting = awaited;
    if (!this.scripted) return;
    const seconds = this.options.answerTimeout ?? DEFAULT_ANSWER_TIMEOUT;
    this.#answerTimer = setTimeout(() => {
      this.#answerTimer = undefined;
      this.print(printable(
        `*** No answer from ${awaited.peer} within ${seconds} s; going on with the next command ***`,
      ));
      this.#answered();
    }, seconds * 1000);
  }

  /** The awaited answer came, or will not: a script goes on. */
  #answered(): void {
    this.#stopWaiting();
    this.#drain();
  }

  #stopWaiting(): void {
    clearTimeout(this.#answerTimer);
    clearTimeout(this.#askedTimer);
    this.#answerTimer = this.#askedTimer = this.#awaiting = undefined;
  }

  /** Whether a script's next command must wait for an answer. */
  #waiting(): boolean {
    return this.scripted && this.#awaiting !== undefined;
  }

  /** The id is here: run what waited for it. */
  #identified(): boolean {
    if (this.options.once) return true;
    if (this.interactive && !this.#hinted) {
      this.#hinted = true;
      this.print("*** Type help for the commands ***");
    }
    this.#ready = true;
    const target = this.options.pair;
    // Asked before anything queued runs, which in a script waits for the answer.
    if (target !== undefined && this.#partner === undefined) {
      this.#execute({ kind: "pair", target });
    }
    this.#drain();
    return false;
  }

  /** The id after presenting a token: the same one (resumed), or a new session. */
  #reconnected(id: string): boolean {
    this.#resuming = false;
    const previous = this.#id;
    this.#id = id;
    const partner = this.#partner;
    if (id === previous) {
      this.print(printable(
        partner === undefined
          ? `*** Reconnected as ${id} ***`
          : `*** Reconnected as ${id}; still paired with ${partner} ***`,
      ));
      this.#p2p?.renegotiate();
      return this.#identified();
    }
    // The token is spent; the session message that follows brings a new one.
    this.#token = undefined;
    this.#partner = undefined;
    this.#requests.clear();
    this.#p2p?.ended();
    this.print(printable(
      `*** Could not resume the session of ${previous ?? "the last connection"}${
        partner === undefined ? "" : ` (no longer paired with ${partner})`
      }: this is a new session ***`,
    ));
    this.print(describeEvent({ type: MessageType.YourId, id }));
    return this.#identified();
  }

  /**
   * Runs one typed command, or queues it until the id has arrived (and, in a
   * script, the answer the command before it waits for) behind anything
   * queued before it; `true` means quit now.
   */
  run(command: Command): boolean {
    switch (command.kind) {
      case "empty":
        return false;
      case "help":
        this.print(COMMANDS_HELP);
        return false;
      case "invalid":
        this.print(`*** ${command.reason} ***`);
        return false;
      case "quit":
        if (this.#queue.length === 0 && !this.#waiting()) return true;
        // Quit once what is queued has run.
        this.#queue.push(command);
        return false;
    }
    if (this.#ready && this.#queue.length === 0 && !this.#waiting() && !this.#quitting) {
      this.#execute(command);
    } else {
      this.#queue.push(command);
    }
    return false;
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

  /** The input has ended; `true` means quit now, else once the queue is sent. */
  endOfInput(): boolean {
    return this.run({ kind: "quit" });
  }

  /** Runs the queued commands while the id is here and no answer is awaited; a `quit` quits. */
  #drain(): void {
    while (this.#ready && !this.#waiting() && !this.#quitting) {
      const command = this.#queue.shift();
      if (command === undefined) return;
      if (this.#queue.length < MAX_QUEUED_COMMANDS) this.#roomMade?.();
      if (command.kind === "quit") {
        this.#quitting = true;
        this.quit();
        return;
      }
      this.#execute(command);
    }
  }

  #execute(command: Command): void {
    switch (command.kind) {
      case "pair":
        this.#pair(command.target);
        return;
      case "accept":
      case "reject": {
        const from = command.from ?? [...this.#requests].at(-1);
        if (from === undefined) {
          this.print("*** No pair request to answer ***");
          return;
        }
        this.#requests.delete(from);
        if (command.kind === "accept") {
          if (this.send({ type: MessageType.PairAccept, from })) {
            this.#await({ kind: "accept", peer: from });
          }
        } else if (this.send({ type: MessageType.PairReject, from })) {
          this.print(`*** Rejected the pair request from ${printable(from)} ***`);
        }
        return;
      }
      case "send":
        if (this.#partner === undefined) {
          this.print("*** No partner to send to: pair with someone first ***");
          return;
        }
        if (this.#p2p) {
          if (!this.#p2p.send(command.text)) this.print("*** Not connected ***");
        } else {
          this.send({ type: MessageType.Relay, data: command.text });
        }
        return;
      case "sendfile":
      case "accept-file":
      case "reject-file":
      case "cancel":
      case "verify":
        this.#fileCommand(command);
        return;
      case "leave": {
        const partner = this.#partner;
        if (partner === undefined) {
          this.print("*** No partner to leave ***");
          return;
        }
        if (!this.send({ type: MessageType.Unpair })) return;
        // Closed after the unpair went out, so the partner is likelier to hear
        // peer_left before it sees the channel close.
        this.#p2p?.ended();
        this.#partner = undefined;
        this.print(`*** Left ${printable(partner)} ***`);
        return;
      }
    }
  }

  /**
   * `pair <id>`: asks, in WebRTC mode once the library is ready (so the
   * partner never waits on this side's start). Only the outcome is printed
   * when it comes quickly; else a line says the request is out.
   */
  #pair(target: string): void {
    if (target === this.#id) {
      this.print("*** You cannot pair with yourself ***");
      return;
    }
    const awaited: PendingAnswer = { kind: "pair", peer: target };
    this.#await(awaited);
    const ask = (): void => {
      // Answered meanwhile (the connection dropped, another command took over).
      if (this.#awaiting !== awaited) return;
      if (!this.send({ type: MessageType.PairRequest, target })) {
        this.#answered();
        return;
      }
      this.#askedTimer = setTimeout(() => {
        this.#askedTimer = undefined;
        this.print(`*** Asked ${printable(target)} to pair; waiting for an answer ***`);
      }, ASKED_LINE_DELAY_MS);
    };
    if (this.#peerStarted || this.#peerReady === undefined) ask();
    else this.#peerReady.then(ask, ask);
  }

  #fileCommand(
    command: Extract<
      Command,
      { kind: "sendfile" | "accept-file" | "reject-file" | "cancel" | "verify" }
    >,
  ): void {
    const files = this.#files;
    if (files === undefined) {
      this.print(
        "*** Files go peer to peer: run the client with --webrtc (deno task peer-files) ***",
      );
      return;
    }
    const failed = (error: unknown): void => {
      logger.error("File command {kind} failed: {error}", {
        kind: command.kind,
        error: describeError(error),
      });
    };
    switch (command.kind) {
      case "sendfile":
        files.send(command.path).catch(failed);
        return;
      case "accept-file":
        files.accept(command.file).catch(failed);
        return;
      case "reject-file":
        files.reject(command.file);
        return;
      case "cancel":
        files.cancel(command.file);
        return;
      case "verify":
        files.verify();
        return;
    }
  }

  /** Sends a message, or says why it could not. */
  send(message: ClientMessage): boolean {
    if (this.#send?.(message)) return true;
    this.print("*** Not connected ***");
    return false;
  }
}

async function readCommands(
  input: AsyncIterable<string>,
  state: ClientState,
  quit: () => void,
  signal: AbortSignal,
): Promise<void> {
  let lines = 0;
  try {
    for await (const line of input) {
      await state.room(signal);
      if (signal.aborted) return;
      lines++;
      if (state.run(parseCommand(line))) {
        quit();
        return;
      }
    }
  } catch (error) {
    logger.error("Cannot read input: {error}", { error: describeError(error) });
    return;
  }
  // Input that ends after some lines is a script: quit once its commands have
  // run. Input that ends empty (stdin from /dev/null) leaves the client running.
  if (lines > 0 && !signal.aborted && state.endOfInput()) quit();
}

/** Waits `ms`; resolves `false` early if `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", done);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Turns the runtime's vague handshake failure into a reason a user can act
 * on; the WebSocket API only says "tcp connect error", so it asks TCP.
 */
async function diagnose(url: string, message: string, sentKey: boolean): Promise<string> {
  if (/dns error|lookup/i.test(message)) return "unknown host";
  if (/status code:? 401\b/i.test(message)) return unauthorizedReason(sentKey);
  const { hostname, port, protocol } = new URL(url);
  // A TLS server answers a plain request with a TLS record, which does not parse as HTTP.
  if (protocol === "ws:" && /invalid HTTP version/i.test(message)) {
    return `the server speaks TLS (HTTP could not be parsed): try ${withScheme(url, "wss:")}`;
  }
  // A plain server answers a TLS hello with HTTP, which is not a TLS record.
  if (protocol === "wss:" && /InvalidContentType|corrupt message/i.test(message)) {
    return `the server does not speak TLS: try ${withScheme(url, "ws:")}`;
  }
  if (!/tcp connect error/i.test(message)) {
    const reason = message.replace(/^NetworkError: (failed to connect to WebSocket: )?/, "");
    return reason || "connection failed";
  }
  try {
    const conn = await Deno.connect({
      hostname: hostname.replace(/^\[|\]$/g, ""),
      port: Number(port) || (protocol === "wss:" ? 443 : 80),
    });
    conn.close();
    return "the server accepted TCP but refused the WebSocket handshake";
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      return "connection refused (is the server running? Start one with: deno task server)";
    }
    return describeError(error);
  }
}

/** `url` with another scheme, for a hint to copy. */
function withScheme(url: string, protocol: "ws:" | "wss:"): string {
  return protocol + url.slice(url.indexOf(":") + 1);
}

function describeError(error: unknown): string {
  if (error instanceof DOMException && error.name === "SyntaxError") {
    return `invalid URL (${error.message})`;
  }
  return errorText(error);
}
