/**
 * A hostile WebRTC peer, in the test process: it pairs with a real CLI peer
 * through a real server, negotiates as the CLI does (werift, `PeerLink`),
 * and then opens `file:` channels and speaks the file protocol by hand, so a
 * test can flood the partner with offers or stall in the middle of a file.
 *
 * werift leaves timers and sockets behind after close, so tests that use it
 * turn the op and resource sanitizers off.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { runSession, type Send } from "../../lib/cli/session.ts";
import { CHAT_CHANNEL, MessageType } from "../../lib/protocol/messages.ts";
import type { PeerConnectionLike } from "../../lib/shared/rtc_types.js";
import { P2pChat } from "../../lib/cli/chat.ts";
import { weriftFactory } from "../../lib/cli/werift/peer.ts";
import { within } from "./helpers.ts";

/** One `file:` channel the hostile peer opened, and what came back on it. */
export interface RawFileChannel {
  /** Text messages from the partner, parsed. */
  readonly received: Record<string, unknown>[];
  /** Whether the channel has closed. */
  readonly closed: boolean;
  /** Its SCTP stream id. */
  readonly stream: number | undefined;
  /** Sends a control message (JSON) or bytes. */
  send(message: Record<string, unknown> | Uint8Array): void;
  /** Waits for the first control message from the partner of one of `types`. */
  next(types: readonly string[], ms?: number): Promise<Record<string, unknown>>;
}

/** A paired hostile peer with an open data channel to the partner. */
export interface HostilePeer extends AsyncDisposable {
  /** Its id on the server. */
  id: string;
  /**
   * Opens a `file:` channel that sends `offer` as soon as it is open and
   * records whatever the partner answers.
   */
  offer(offer: { name: string; size: number; mime?: string }): RawFileChannel;
  /** Sends a chat line over the chat channel. */
  say(text: string): void;
  /** Waits for a chat line from the partner matching `pattern`. */
  heard(pattern: RegExp, ms?: number): Promise<string>;
  /**
   * Sends one SCTP message with payload protocol `ppid` on stream `streamId`,
   * whether or not a channel is open on it (DCEP is 50: RFC 8832).
   */
  sendOnStream(streamId: number, ppid: number, data: Uint8Array): Promise<void>;
  /** Sends `bytes` as one SCTP packet, checked by nothing. */
  sendSctpPacket(bytes: Uint8Array): Promise<void>;
  /** The SCTP stream id of the chat channel. */
  readonly chatStream: number;
}

/** What the hostile peer reaches of werift's SCTP association, to send what werift would not. */
interface WeriftSctpTransport {
  sctp: WeriftSctp;
  channelByLabel(label: string): { id?: number } | undefined;
}
interface WeriftSctp {
  send(
    streamId: number,
    ppid: number,
    data: Uint8Array,
    options: { ordered: boolean },
  ): Promise<void>;
  transport: { send(packet: Uint8Array): Promise<void> };
}

/**
 * Connects to `url`, asks `target` (a peer started with `--accept`) to pair,
 * and resolves once the chat channel between them is open.
 */
export async function hostilePeer(url: string, target: string): Promise<HostilePeer> {
  const factory = await weriftFactory({
    ownIceServers: [],
    relayOnly: false,
    interfaces: Deno.networkInterfaces(),
  });
  const stop = new AbortController();
  let send: Send | undefined;
  let identified: (id: string) => void = () => {};
  const id = new Promise<string>((resolve) => identified = resolve);
  let opened: (connection: PeerConnectionLike) => void = () => {};
  const open = new Promise<PeerConnectionLike>((resolve) => opened = resolve);
  const lines: string[] = [];
  let heardLine: () => void = () => {};
  const chat = new P2pChat({
    createPeerConnection: factory,
    timeoutMs: 15_000,
    print: (line) => {
      lines.push(line);
      heardLine();
    },
    send: (message) => send?.(message) ?? false,
    channels: {
      opened: (_peer, connection) => {
        if (connection) opened(connection);
      },
      channel: (_peer, channel) => channel.close(),
      closed: () => {},
    },
  });
  const session = runSession(url, {
    signal: stop.signal,
    onOpen: (sender) => send = sender,
    onMessage: (message) => {
      if (chat.take(message)) return false;
      if (message.type === MessageType.YourId) {
        identified(message.id);
        send?.({ type: MessageType.PairRequest, target });
      } else if (message.type === MessageType.Paired) {
        chat.paired(message);
      }
      return false;
    },
  });
  const connection = await within(open, 20_000, "the hostile peer's data channel to open");
  const transport = (connection as unknown as { sctpTransport: WeriftSctpTransport })
    .sctpTransport;
  const sctp = () => transport.sctp;
  const chatStream = transport.channelByLabel(CHAT_CHANNEL)?.id;
  if (chatStream === undefined) throw new Error("The hostile peer's chat channel has no stream id");
  return {
    id: await id,
    chatStream,
    offer(offer) {
      const channel = connection.createDataChannel(
        `file:${crypto.randomUUID().slice(0, 8)}`,
        { ordered: true },
      ) as unknown as {
        id?: number;
        send(data: string | Uint8Array): void;
        onopen: (() => void) | null;
        onmessage: ((event: { data: unknown }) => void) | null;
        onclose: (() => void) | null;
        binaryType: string;
      };
      const received: Record<string, unknown>[] = [];
      let wake: () => void = () => {};
      const raw = {
        received,
        closed: false,
        stream: channel.id,
        send(message: Record<string, unknown> | Uint8Array) {
          channel.send(message instanceof Uint8Array ? message : JSON.stringify(message));
        },
        async next(types: readonly string[], ms = 10_000) {
          const deadline = Date.now() + ms;
          while (true) {
            const found = received.find((message) => types.includes(String(message.type)));
            if (found) return found;
            const left = deadline - Date.now();
            if (left <= 0 || raw.closed) {
              throw new Error(
                `No ${types.join(" or ")} on ${offer.name}${raw.closed ? " (closed)" : ""}; got ${
                  JSON.stringify(received)
                }`,
              );
            }
            await within(new Promise<void>((resolve) => wake = resolve), left, "a message")
              .catch(() => {});
          }
        },
      };
      channel.binaryType = "arraybuffer";
      channel.onopen = () =>
        raw.send({ type: "file_offer", mime: "application/octet-stream", ...offer });
      channel.onmessage = (event) => {
        if (typeof event.data === "string") received.push(JSON.parse(event.data));
        wake();
      };
      channel.onclose = () => {
        raw.closed = true;
        wake();
      };
      return raw;
    },
    say(text) {
      chat.send(text);
    },
    async heard(pattern, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (true) {
        const found = lines.find((line) => pattern.test(line));
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`No chat line matching ${pattern}; got ${JSON.stringify(lines)}`);
        }
        await within(new Promise<void>((resolve) => heardLine = resolve), left, `${pattern}`)
          .catch(() => {});
      }
    },
    sendOnStream(streamId, ppid, data) {
      // Unordered, so it is delivered whatever sequence number the partner
      // expects next on that stream (a fresh one after a reset expects 0).
      // werift's SCTP code expects Node's Buffer.
      return sctp().send(streamId, ppid, Buffer.from(data), { ordered: false });
    },
    sendSctpPacket(bytes) {
      return sctp().transport.send(Buffer.from(bytes));
    },
    async [Symbol.asyncDispose]() {
      chat.ended();
      stop.abort();
      await within(session, 5000, "the hostile peer's session to end");
    },
  };
}
