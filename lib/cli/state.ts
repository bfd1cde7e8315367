/**
 * What the command-line client knows between messages: its connection, id and
 * resume token, partner, pairing requests, and (in WebRTC mode) its chat and
 * file transfers; it prints each event and runs each command.
 *
 * @module
 */

import { type ClientFlags, DEFAULT_ANSWER_TIMEOUT } from "./flags.ts";
import { type Command, COMMANDS_HELP } from "./commands.ts";
import { getLogger } from "../runtime/deps.ts";
import { describeEvent } from "./output.ts";
import {
  type ClientMessage,
  ErrorCode,
  MessageType,
  type ServerMessage,
} from "../protocol/messages.ts";
import { resumeUrl } from "../shared/resume_params.js";
import { printable } from "../runtime/safe_text.ts";
import { FileTransfers } from "./files/transfers.ts";
import type { ProgressDisplay } from "./files/progress.ts";
import { P2pChat } from "./chat.ts";
import { terminalCodes } from "./code_pairing.ts";
import type { CodeSession } from "../shared/code_session.js";
import { RememberedDevices } from "./devices/remembered.ts";
import { defaultDevicesDir, DeviceStore } from "./devices/store.ts";
import { looksLikeCode, NOT_A_CODE, parseCode } from "../shared/pairing_code.js";
import type { PeerConnectionFactory } from "./werift/peer.ts";
import { describeError } from "./connect_failure.ts";
import { CommandQueue, type PendingAnswer } from "./script.ts";
import type { Send } from "./session.ts";

const logger = getLogger(["switchboard", "client"]);

/** The flags `runClient` acts on. */
export type ClientOptions =
  & Pick<
    ClientFlags,
    "url" | "once" | "reconnect" | "retryDelay" | "maxRetries" | "pair" | "accept"
  >
  & Partial<Pick<ClientFlags, "code" | "to" | "devicesDir">>
  & Partial<
    Pick<
      ClientFlags,
      | "p2pTimeout"
      | "relayOnly"
      | "acceptFiles"
      | "downloadDir"
      | "maxFileBytes"
      | "transferIdle"
      | "keepPartials"
      | "answerTimeout"
    >
  >
  & {
    /** The API key to present; none by default. */
    apiKey?: string;
  };

/** How many unanswered pairing requests the client remembers. */
export const MAX_REMEMBERED_REQUESTS = 100;

/**
 * How long `pair` keeps quiet before saying it asked: a refusal (no such
 * client, busy) comes back well within it, and is then the only line.
 */
export const ASKED_LINE_DELAY_MS = 500;

/** How long `quit` waits for the lines sent on the data channel to arrive. */
export const CHAT_FINISH_MS = 2000;

/** What the client knows between messages: its connection, partner and requests. */
export class ClientState {
  #send: Send | undefined;
  readonly #script: CommandQueue;
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
  // What `--pair` asks for on each connection: an id each time, a code once.
  #pairTarget: string | undefined;
  // The pairing's `paired` message, for the link once a code is proven.
  #paired: Extract<ServerMessage, { type: typeof MessageType.Paired }> | undefined;
  // Pairing by code, in WebRTC mode only: it needs the descriptions' fingerprints.
  readonly #codes: CodeSession | undefined;
  // Remembered devices, in WebRTC mode only, like codes.
  readonly #devices: RememberedDevices | undefined;

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
    this.#script = new CommandQueue({
      scripted,
      answerTimeout: options.answerTimeout ?? DEFAULT_ANSWER_TIMEOUT,
      print,
      execute: (command) => this.#execute(command),
      quit,
    });
    this.#peerReady = peerReady;
    this.#pairTarget = options.pair;
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
        ...(options.keepPartials === undefined
          ? {}
          : { keepPartialsMs: options.keepPartials * 3600_000 }),
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
          if (this.#script.awaiting?.kind === "channel") this.#script.answered();
        },
        tampered: (reason) => {
          if (this.#devices?.pairedWithDevice) this.#devices.refused(reason);
          else this.#codes?.tampered();
        },
      });
      this.#codes = terminalCodes({
        serverUrl: options.url,
        print,
        send: (message) => this.#send?.(message) ?? false,
        leave: () => this.#leave(),
        proven: (paired, binding) => {
          if (this.#paired?.peer === paired.peer) {
            this.#p2p?.paired({ ...this.#paired, initiator: paired.initiator }, binding);
          }
        },
        qr: interactive,
        identity: (peer) => void this.#devices?.identity(peer),
      });
      this.#devices = new RememberedDevices({
        store: new DeviceStore(options.devicesDir ?? defaultDevicesDir(configEnv())),
        codes: this.#codes,
        print,
        send: (message) => this.#send?.(message) ?? false,
        leave: () => this.#leave(),
        connect: (paired, binding) => this.#p2p?.paired(paired, binding),
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
    // An answer lost with the connection will not come; what is queued waits for the next id.
    this.#script.disconnected();
    // A session that may be resumed keeps its partner, requests and data channel.
    if (this.options.reconnect && this.#token !== undefined) return;
    this.#partner = undefined;
    this.#requests.clear();
    this.#p2p?.ended();
    this.#codes?.ended();
    this.#devices?.ended();
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
    if (this.#devices?.take(message)) return false;
    if (this.#codes?.take(message)) {
      if (this.#script.awaiting?.kind === "code" && message.type === MessageType.Nameplate) {
        this.#script.answered();
      }
      return false;
    }
    if (message.type === MessageType.YourId && this.#resuming) return this.#reconnected(message.id);
    this.print(
      describeEvent(message, { webrtc: this.#p2p !== undefined, accepting: this.options.accept }),
    );
    switch (message.type) {
      case MessageType.YourId:
        this.#id = message.id;
        this.#files?.mayReceive(message.receive_files !== false);
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
        this.#paired = message;
        if (this.#p2p) {
          this.#p2p.endToEndOnly = message.by_code === true || message.by_device === true;
        }
        this.#codes?.paired(message);
        // Paired by code, the link waits until the code is proven; as remembered
        // devices, it is bound to their keys.
        if (message.by_code === true || message.by_device === true) this.#p2p?.ended();
        else this.#p2p?.paired(message);
        this.#devices?.paired(message);
        this.#pairedWith(message.peer);
        break;
      case MessageType.PairRejected:
        if (this.#script.awaiting?.kind === "pair" && this.#script.awaiting.peer === message.peer) {
          this.#script.answered();
        }
        break;
      case MessageType.PeerLeft:
        this.#partner = undefined;
        this.#p2p?.ended();
        this.#codes?.ended();
        this.#devices?.ended();
        if (this.#script.awaiting?.kind === "channel") this.#script.answered();
        break;
      case MessageType.Error:
        if (
          message.code === ErrorCode.UnknownNameplate || message.code === ErrorCode.TooManyCodes
        ) {
          this.#codes?.refused();
        }
        // Printed above, for the user: not logged again. It answers what was asked.
        if (this.#script.awaiting !== undefined && this.#script.awaiting.kind !== "channel") {
          this.#script.answered();
        }
        break;
    }
    return false;
  }

  /**
   * A pair or accept was answered with a pairing (or another request won,
   * with `--accept`); in WebRTC mode a script waits on for the channel.
   */
  #pairedWith(peer: string): void {
    if (this.#script.awaiting === undefined) return;
    if (this.#p2p === undefined) {
      this.#script.answered();
      return;
    }
    // The link has its own deadline (--p2p-timeout) and always reports open or failed.
    this.#script.expect({ kind: "channel", peer }, false);
  }

  /** The id is here: run what waited for it. */
  #identified(): boolean {
    if (this.options.once) return true;
    if (this.interactive && !this.#hinted) {
      this.#hinted = true;
      this.print("*** Type help for the commands ***");
    }
    this.#script.ready();
    const target = this.#pairTarget;
    // A code serves one pairing: `--pair CODE` is used on the first connection only.
    if (target !== undefined && looksLikeCode(target)) this.#pairTarget = undefined;
    // Asked before anything queued runs, which in a script waits for the answer.
    if (target !== undefined && this.#partner === undefined) {
      this.#execute({ kind: "pair", target });
    } else if (this.options.code && this.#partner === undefined) {
      this.#execute({ kind: "code" });
    } else if (this.options.to !== undefined && this.#partner === undefined) {
      this.#execute({ kind: "meet", name: this.options.to });
    }
    this.#script.drain();
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
    this.#codes?.ended();
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
      default:
        return this.#script.submit(command);
    }
  }

  /** Resolves once another command may be queued (see {@linkcode CommandQueue.room}). */
  room(signal: AbortSignal): Promise<void> {
    return this.#script.room(signal);
  }

  #execute(command: Command): void {
    switch (command.kind) {
      case "pair": {
        const code = parseCode(command.target);
        if (code !== undefined) this.#useCode(code);
        // Never sent as an id: the server would see the words of a mistyped code.
        else if (looksLikeCode(command.target)) this.print(`*** ${NOT_A_CODE} ***`);
        else this.#pair(command.target);
        return;
      }
      case "code":
        if (this.#codes === undefined) {
          this.print("*** Pairing by code needs WebRTC mode (deno task peer) ***");
          return;
        }
        if (this.#partner !== undefined) {
          this.print("*** You already have a partner: leave first ***");
          return;
        }
        this.#codes.claim();
        this.#script.expect({ kind: "code", peer: "" });
        return;
      case "remember":
      case "forget":
      case "meet":
      case "devices":
        this.#deviceCommand(command);
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
            this.#script.expect({ kind: "accept", peer: from });
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
        if (this.#leave()) this.print(`*** Left ${printable(partner)} ***`);
        return;
      }
    }
  }

  #deviceCommand(
    command: Extract<Command, { kind: "remember" | "forget" | "meet" | "devices" }>,
  ): void {
    const devices = this.#devices;
    if (devices === undefined) {
      this.print("*** Remembered devices need WebRTC mode (deno task peer-devices) ***");
      return;
    }
    switch (command.kind) {
      case "remember":
        void devices.remember(command.name, this.#partner);
        return;
      case "forget":
        void devices.forget(command.name);
        return;
      case "devices":
        void devices.list();
        return;
      case "meet": {
        if (this.#partner !== undefined) {
          this.print("*** You already have a partner: leave first ***");
          return;
        }
        const meet = (): void => void devices.meet(command.name);
        if (this.#peerStarted || this.#peerReady === undefined) meet();
        else this.#peerReady.then(meet, meet);
        return;
      }
    }
  }

  /** Ends the pairing: whether the server was told. */
  #leave(): boolean {
    if (this.#partner === undefined || !this.send({ type: MessageType.Unpair })) return false;
    // Closed after the unpair went out, so the partner is likelier to hear
    // peer_left before it sees the channel close.
    this.#p2p?.ended();
    this.#codes?.ended();
    this.#devices?.ended();
    this.#partner = undefined;
    if (this.#script.awaiting?.kind === "channel") this.#script.answered();
    return true;
  }

  /** `pair 7-tidy-orbit`: asks the server for the nameplate's holder, once the library is ready. */
  #useCode(code: NonNullable<ReturnType<typeof parseCode>>): void {
    const codes = this.#codes;
    if (codes === undefined) {
      this.print("*** Pairing by code needs WebRTC mode (deno task peer) ***");
      return;
    }
    const awaited: PendingAnswer = { kind: "pair", peer: "" };
    this.#script.expect(awaited);
    const use = (): void => {
      if (this.#script.awaiting !== awaited) return;
      codes.use(code);
    };
    if (this.#peerStarted || this.#peerReady === undefined) use();
    else this.#peerReady.then(use, use);
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
    this.#script.expect(awaited);
    const ask = (): void => {
      // Answered meanwhile (the connection dropped, another command took over).
      if (this.#script.awaiting !== awaited) return;
      if (!this.send({ type: MessageType.PairRequest, target })) {
        this.#script.answered();
        return;
      }
      this.#script.remind(ASKED_LINE_DELAY_MS, () => {
        this.print(`*** Asked ${printable(target)} to pair; waiting for an answer ***`);
      });
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
        files.send(command.paths, command.raw).catch(failed);
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

/** Where config folders are, from the environment (WebRTC mode may read it). */
function configEnv(): Record<string, string | undefined> {
  try {
    return { XDG_CONFIG_HOME: Deno.env.get("XDG_CONFIG_HOME"), HOME: Deno.env.get("HOME") };
  } catch {
    return {};
  }
}
