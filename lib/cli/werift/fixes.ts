/**
 * Fixes to werift 0.25.2 that its options cannot reach. Each one checks that
 * the code it changes still looks as expected and throws otherwise, so an
 * upgrade of the library cannot silently undo it.
 *
 * @module
 */

import { createSocket } from "node:dgram";
import { getLogger, type Werift } from "../../runtime/deps.ts";

const logger = getLogger(["switchboard", "webrtc"]);

// Marks a patched function, so that each fix is applied once.
const PATCHED = Symbol("switchboard werift fix");

/** Collapses white space, so fragments of werift's code can be compared. */
const code = (fn: unknown) => String(fn).replace(/\s+/g, " ");

/** Marks `fn` as a fix, so that it is applied once. */
function patched<T extends object>(fn: T): T {
  Object.defineProperty(fn, PATCHED, { value: true });
  return fn;
}

/** Applies every fix below; idempotent. */
export function fixWerift(
  werift: Pick<
    Werift,
    "Connection" | "DtlsClient" | "RTCSctpTransport" | "StunProtocol" | "UdpTransport"
  >,
): void {
  withoutDefaultStun(werift);
  withoutDuplicateFlights(werift);
  withHostSocketsOnTheirAddresses(werift);
  withStrayChannelMessagesIgnored(werift);
  withUnreadablePacketsDropped(werift);
  withoutEarlyStreamReuse(werift);
}

/**
 * Stops werift from asking a public STUN server (Google's) for this host's
 * address when the configuration names none: a peer given no STUN server
 * must contact no one but its partner, and on a closed network that lookup
 * costs about 5 s per connection. Idempotent.
 *
 * @throws {Error} When werift's ICE class no longer looks as expected, so
 * an upgrade cannot silently bring the lookup back.
 */
export function withoutDefaultStun(werift: Pick<Werift, "Connection">): void {
  const proto = werift.Connection.prototype as unknown as Record<string, unknown>;
  const original = proto.applyStunTurnServersFromOptions;
  if (typeof original !== "function") {
    throw new Error("werift's Connection.applyStunTurnServersFromOptions is missing");
  }
  if (PATCHED in original) return;
  if (!/DEFAULT_STUN_SERVER/.test(String(original))) {
    throw new Error("werift's Connection no longer defaults to a STUN server as expected");
  }
  const patched = function (this: { options: { stunServer?: unknown }; stunServer?: unknown }) {
    original.call(this);
    if (this.options.stunServer === undefined) this.stunServer = undefined;
  };
  Object.defineProperty(patched, PATCHED, { value: true });
  proto.applyStunTurnServersFromOptions = patched;
}

// DTLS handshake messages of the server's flight 4.
const FLIGHT_4 = new Set([2, 11, 12, 13, 14]); // ServerHello … ServerHelloDone

/**
 * Makes werift's DTLS client ignore a retransmitted server flight 4. A
 * browser that has not seen the client's flight 5 within its retransmission
 * timer (about 50 ms in Chromium) sends its ServerHello flight again; werift
 * handled each copy as new and sent a second flight 5 with fresh keys, so
 * the two sides derived different keys and the handshake never finished
 * (about half of all Chromium → werift connections on a loaded machine).
 * werift's own flight 5 is retransmitted on its timer, so dropping the copy
 * loses nothing. Idempotent.
 *
 * @throws {Error} When werift's DTLS client no longer looks as expected.
 */
export function withoutDuplicateFlights(werift: Pick<Werift, "DtlsClient">): void {
  const proto = werift.DtlsClient.prototype as unknown as Record<string, unknown>;
  const connect = proto.connect;
  if (typeof connect !== "function") throw new Error("werift's DtlsClient.connect is missing");
  if (PATCHED in connect) return;
  const source = String(werift.DtlsClient);
  if (
    !/onHandleHandshakes = this\.handleHandshakes/.test(source) || !/server_hello_2/.test(source)
  ) {
    throw new Error("werift's DtlsClient no longer handles flight 4 as expected");
  }
  type Handshake = { msg_type: number };
  type Client = { onHandleHandshakes: (assembled: Handshake[]) => Promise<void> };
  const patched = function (this: Client, ...args: unknown[]) {
    const handle = this.onHandleHandshakes;
    const seen = new Set<number>();
    this.onHandleHandshakes = (assembled) => {
      const fresh = assembled.filter((h) => !(FLIGHT_4.has(h.msg_type) && seen.has(h.msg_type)));
      for (const h of fresh) if (FLIGHT_4.has(h.msg_type)) seen.add(h.msg_type);
      return fresh.length > 0 ? handle(fresh) : Promise.resolve();
    };
    return connect.apply(this, args);
  };
  Object.defineProperty(patched, PATCHED, { value: true });
  proto.connect = patched;
}

// How werift 0.25.2 makes the socket of a host candidate, white space
// collapsed: in Connection.getCandidatePromises(), the addresses that have no
// socket yet, then one StunProtocol per address, in that order, handed to
// ensureProtocol() and bound at once with the connection's interface addresses.
// No option chooses a host socket's address, and the address is known only
// inside that loop: rather than copy the whole method (STUN, TCP and TURN
// gathering), the fix takes the addresses when the method starts and the
// protocols, one by one in the same order, in ensureProtocol().
const HOST_SOCKET_CODE = [
  "addresses = addresses.filter((address) => { if (this.protocols.find((protocol) => " +
  "protocol.localIp === address)) { return false; } return true; });",
  "addresses.map(async (address) => { const protocol = new StunProtocol(); " +
  "this.ensureProtocol(protocol); try { await protocol.connectionMade( isIPv43(address), " +
  "this.options.portRange, this.options.interfaceAddresses ); protocol.localIp = address;",
];
// ... and how those interface addresses reach the socket's bind().
const STUN_PROTOCOL_CODE = 'UdpTransport.init("udp4", { portRange, interfaceAddresses });';
const UDP_TRANSPORT_CODE =
  "const address = interfaceAddress( this.socketType, this.options.interfaceAddresses );";

type InterfaceAddresses = { udp4?: string; udp6?: string };
interface HostProtocol {
  connectionMade(
    useIpv4: boolean,
    portRange: unknown,
    interfaceAddresses?: InterfaceAddresses,
  ): Promise<void>;
}
interface GatheringConnection {
  protocols: { localIp?: string }[];
}

/** Per connection, while werift makes its host sockets: their addresses, in order. */
const unboundHostAddresses = new WeakMap<object, string[]>();

/**
 * Binds the socket of each host candidate to the candidate's own address, so
 * that ICE answers leave from the address the check was sent to. werift binds
 * every host socket to the wildcard address, so the kernel picks the source of
 * an answer by its route: a check sent from 127.0.0.1 to this host's
 * 192.0.2.2 candidate was answered from 127.0.0.1, and a strict agent
 * (aiortc's aioice) drops such an answer as a source address mismatch, since
 * RFC 8445 (§7.2.5.2.1, §7.3) requires symmetric addresses. An address no
 * socket can be bound to (a NAT's public address given as an additional host
 * address) keeps werift's wildcard socket. Idempotent.
 *
 * @throws {Error} When werift no longer makes its host sockets as expected.
 */
export function withHostSocketsOnTheirAddresses(
  werift: Pick<Werift, "Connection" | "StunProtocol" | "UdpTransport">,
): void {
  const proto = werift.Connection.prototype as unknown as Record<string, unknown>;
  const gather = proto.getCandidatePromises;
  const ensure = proto.ensureProtocol;
  if (typeof gather !== "function" || typeof ensure !== "function") {
    throw new Error("werift's Connection.getCandidatePromises or ensureProtocol is missing");
  }
  if (PATCHED in gather) return;
  const gatherCode = code(gather);
  if (
    !HOST_SOCKET_CODE.every((fragment) => gatherCode.includes(fragment)) ||
    gatherCode.split("new StunProtocol(").length !== 2 ||
    !code(werift.StunProtocol).includes(STUN_PROTOCOL_CODE) ||
    !code(werift.UdpTransport).includes(UDP_TRANSPORT_CODE)
  ) {
    throw new Error("werift no longer binds the sockets of host candidates as expected");
  }
  const StunProtocol = werift.StunProtocol;
  const patchedGather = function (
    this: GatheringConnection,
    addresses: string[],
    ...rest: unknown[]
  ) {
    unboundHostAddresses.set(
      this,
      addresses.filter((address) => !this.protocols.some((p) => p.localIp === address)),
    );
    try {
      return gather.call(this, addresses, ...rest);
    } finally {
      // Host sockets are only made synchronously, inside that call.
      unboundHostAddresses.delete(this);
    }
  };
  const patchedEnsure = function (this: GatheringConnection, protocol: unknown) {
    ensure.call(this, protocol);
    if (!(protocol instanceof StunProtocol)) return;
    const address = unboundHostAddresses.get(this)?.shift();
    if (address !== undefined) bindOnlyTo(protocol as unknown as HostProtocol, address);
  };
  Object.defineProperty(patchedGather, PATCHED, { value: true });
  Object.defineProperty(patchedEnsure, PATCHED, { value: true });
  proto.getCandidatePromises = patchedGather;
  proto.ensureProtocol = patchedEnsure;
}

function bindOnlyTo(protocol: HostProtocol, address: string): void {
  const connectionMade = protocol.connectionMade;
  protocol.connectionMade = async (useIpv4, portRange, interfaceAddresses) => {
    const family = useIpv4 ? "udp4" : "udp6";
    if (!await canBind(family, address)) {
      logger.debug("No socket can be bound to {address}; its host candidate uses any address.", {
        address,
      });
      return connectionMade.call(protocol, useIpv4, portRange, interfaceAddresses);
    }
    return connectionMade.call(protocol, useIpv4, portRange, {
      ...interfaceAddresses,
      [family]: address,
    });
  };
}

/**
 * Whether a UDP socket can be bound to `address`. werift's own bind has no
 * error handler, so a failure there would end the process.
 */
function canBind(family: "udp4" | "udp6", address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(family);
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address, port: 0 }, () => socket.close(() => resolve(true)));
  });
}

// ---------------------------------------------------------------------------
// Data channels: what the partner sends on SCTP streams

// SCTP payload protocol ids of data channels (RFC 8831 §8): DCEP (RFC 8832),
// and the four that carry a channel's messages (string, binary, and their
// empty forms).
const DCEP = 50;
const MESSAGE_PROTOCOLS = new Set([51, 53, 56, 57]);
const DCEP_ACK = 2;
// werift's SCTP association state ESTABLISHED.
const ESTABLISHED = 4;

interface ChannelInternals {
  id?: number;
  readyState: string;
  setId(id: number): void;
}
type Receive = (streamId: number, ppId: number, data: Uint8Array) => Promise<void>;
interface SctpAssociation {
  associationState: number;
  reconfigQueue: number[];
  reconfigRequest?: { streams: number[] };
  outboundStreamSeq: Record<number, number>;
  inboundStreams: Record<number, unknown>;
}
interface SctpTransportInternals {
  sctp: SctpAssociation;
  dataChannels: Record<number, ChannelInternals | undefined>;
  dataChannelId?: number;
  dataChannelQueue: [ChannelInternals, number, Uint8Array][];
  datachannelReceive: Receive;
}

// How werift 0.25.2 hands what arrives on a stream to its data channels,
// white space collapsed: RTCSctpTransport.datachannelReceive, a per-instance
// arrow function subscribed to the association when the DTLS transport is
// set, throws on an open acknowledgement for a stream with no channel and on
// a payload protocol it does not know; the association calls it without
// waiting, so the rejection is unhandled and ends the process.
const RECEIVE_CODE = [
  "this.sctp.onReceive.subscribe(this.datachannelReceive)",
  "datachannelReceive = async (streamId, ppId, data) => { if (ppId === WEBRTC_DCEP && data.length > 0) {",
  'case DATA_CHANNEL_ACK: { log29("DATA_CHANNEL_ACK", streamId, ppId); const channel = ' +
  'this.dataChannels[streamId]; if (!channel) { throw new Error("channel not found"); } ' +
  'channel.setReadyState("open"); }',
  "case WEBRTC_BINARY_EMPTY: return Buffer.from([]); default: throw new Error(); }",
];

/**
 * Makes werift ignore what the partner sends on a data channel's stream that
 * no channel can take, instead of throwing it out of an event handler, which
 * ends the process: an open acknowledgement (DCEP ACK) for a stream with no
 * channel (one refused and closed already, or never opened) or for a channel
 * no longer waiting for one (it would open a closing channel again), and a
 * message of a payload protocol that is not a data channel's. Each is logged
 * at debug level; anything else werift fails on while handling a message is
 * logged as a warning and dropped. Idempotent.
 *
 * @throws {Error} When werift's SCTP transport no longer looks as expected.
 */
export function withStrayChannelMessagesIgnored(werift: Pick<Werift, "RTCSctpTransport">): void {
  const proto = werift.RTCSctpTransport.prototype as unknown as Record<string, unknown>;
  const setDtlsTransport = proto.setDtlsTransport;
  if (typeof setDtlsTransport !== "function") {
    throw new Error("werift's RTCSctpTransport.setDtlsTransport is missing");
  }
  if (PATCHED in setDtlsTransport) return;
  const source = code(werift.RTCSctpTransport);
  if (!RECEIVE_CODE.every((fragment) => source.includes(fragment))) {
    throw new Error("werift's RTCSctpTransport no longer hands messages to channels as expected");
  }
  proto.setDtlsTransport = patched(
    function (this: SctpTransportInternals, ...args: unknown[]) {
      // An instance field, subscribed by the call below: guarded before it.
      const receive = this.datachannelReceive;
      if (!(PATCHED in receive)) this.datachannelReceive = guardedReceive(this, receive);
      return setDtlsTransport.apply(this, args);
    },
  );
}

function guardedReceive(transport: SctpTransportInternals, receive: Receive): Receive {
  return patched(async (streamId: number, ppId: number, data: Uint8Array) => {
    const stray = strayMessage(transport, streamId, ppId, data);
    if (stray !== undefined) {
      logger.debug("Ignored {stray} on SCTP stream {streamId} from the partner.", {
        stray,
        streamId,
      });
      return;
    }
    try {
      await receive.call(transport, streamId, ppId, data);
    } catch (error) {
      warnDropped(
        "Dropped a message from the partner on SCTP stream {streamId} that werift failed on: {error}",
        { streamId, error: String(error) },
      );
    }
  });
}

// A hostile partner can send bad input as fast as the link carries it: the
// first few drops are warnings, the rest go to the debug log.
const DROP_WARNINGS = 3;
let dropsWarned = 0;

function warnDropped(message: string, properties: Record<string, unknown>): void {
  if (dropsWarned >= DROP_WARNINGS) {
    logger.debug(message, properties);
    return;
  }
  dropsWarned++;
  logger.warn(
    dropsWarned === DROP_WARNINGS
      ? `${message} (further drops are logged at debug level)`
      : message,
    properties,
  );
}

/** What is wrong with a message no channel can take, or undefined for one werift handles. */
function strayMessage(
  transport: SctpTransportInternals,
  streamId: number,
  ppId: number,
  data: Uint8Array,
): string | undefined {
  const channel = transport.dataChannels[streamId];
  if (ppId === DCEP && data.length > 0) {
    if (data[0] !== DCEP_ACK || channel?.readyState === "connecting") return undefined;
    return channel === undefined
      ? "an open acknowledgement for no channel"
      : `an open acknowledgement for a channel that is ${channel.readyState}`;
  }
  // werift drops a message for no channel by itself.
  if (channel === undefined || MESSAGE_PROTOCOLS.has(ppId)) return undefined;
  return `a message of payload protocol ${ppId}`;
}

// How werift 0.25.2's SCTP association takes packets, white space collapsed:
// each one DTLS hands over goes to handleData() without waiting, and
// handleData() throws on a packet it cannot read (a wrong checksum, an
// unknown chunk type, an INIT with other chunks).
const HANDLE_DATA_CODE = "this.transport.onData = (buf) => { this.handleData(buf); };";
const PARSE_CODE = "const [, , verificationTag, chunks] = parsePacket2(data);";

/**
 * Makes werift's SCTP association drop a packet from the partner that it
 * cannot read, logging a warning, instead of throwing out of an event
 * handler, which ends the process. Idempotent.
 *
 * @throws {Error} When werift's SCTP association no longer looks as expected.
 */
export function withUnreadablePacketsDropped(werift: Pick<Werift, "RTCSctpTransport">): void {
  const association = sctpAssociationClass(werift);
  const proto = association.prototype as Record<string, unknown>;
  const handleData = proto.handleData;
  if (typeof handleData !== "function") {
    throw new Error("werift's SCTP.handleData is missing");
  }
  if (PATCHED in handleData) return;
  if (!code(association).includes(HANDLE_DATA_CODE) || !code(handleData).includes(PARSE_CODE)) {
    throw new Error("werift's SCTP association no longer takes packets as expected");
  }
  proto.handleData = patched(async function (this: unknown, packet: Uint8Array) {
    try {
      await handleData.call(this, packet);
    } catch (error) {
      warnDropped("Dropped an SCTP packet from the partner that werift failed on: {error}", {
        error: String(error),
      });
    }
  });
}

/**
 * werift's SCTP association class, which it does not export: the class of
 * the association a throw-away transport makes for a stand-in DTLS transport.
 */
function sctpAssociationClass(
  werift: Pick<Werift, "RTCSctpTransport">,
): { prototype: unknown } {
  try {
    const probe = new werift.RTCSctpTransport() as unknown as {
      setDtlsTransport(dtls: unknown): void;
      sctp: { constructor: { prototype: unknown } };
    };
    probe.setDtlsTransport({
      id: "switchboard probe",
      onStateChange: { subscribe: () => ({ unSubscribe() {} }) },
    });
    return probe.sctp.constructor;
  } catch (error) {
    throw new Error("werift's RTCSctpTransport no longer makes its SCTP association as expected", {
      cause: error,
    });
  }
}

// How werift 0.25.2 picks a new channel's stream id, white space collapsed:
// in RTCSctpTransport.dataChannelFlush(), once the association is
// established, the lowest id of its parity that has no channel.
const STREAM_ID_CODE = [
  "if (this.sctp.associationState != 4 /* ESTABLISHED */) return;",
  "let streamId = channel.id; if (streamId === void 0) { streamId = this.dataChannelId; while " +
  "(Object.keys(this.dataChannels).includes(streamId.toString())) { streamId += 2; } " +
  "this.dataChannels[streamId] = channel; channel.setId(streamId); }",
];
// ... and how its association keeps track of stream resets.
const RESET_CODE = [
  "this.reconfigQueue.push(streamId);",
  "this.reconfigRequest = param;",
  "delete this.outboundStreamSeq[streamId];",
  "delete this.inboundStreams[streamId];",
];

/**
 * Gives a new data channel a stream id whose last close has finished in both
 * directions. werift took the lowest id with no channel, also one whose reset
 * (RFC 8831 §6.7) was still under way, and the reset that came after then
 * closed the new channel on one side or both: a file offered right after
 * another was refused vanished, or the acknowledgement of its opening found
 * no channel. An id is free once it has no channel, no reset of ours is
 * queued or unanswered for it, and nothing of the partner's on it waits to be
 * reset (RFC 8832 §6: a new channel takes an id whose incoming and outgoing
 * streams are both unused). Idempotent.
 *
 * @throws {Error} When werift no longer picks stream ids or resets streams as
 * expected.
 */
export function withoutEarlyStreamReuse(werift: Pick<Werift, "RTCSctpTransport">): void {
  const proto = werift.RTCSctpTransport.prototype as unknown as Record<string, unknown>;
  const flush = proto.dataChannelFlush;
  if (typeof flush !== "function") {
    throw new Error("werift's RTCSctpTransport.dataChannelFlush is missing");
  }
  if (PATCHED in flush) return;
  const flushCode = code(flush);
  const associationCode = code(sctpAssociationClass(werift));
  if (
    !STREAM_ID_CODE.every((fragment) => flushCode.includes(fragment)) ||
    !RESET_CODE.every((fragment) => associationCode.includes(fragment))
  ) {
    throw new Error("werift no longer picks stream ids for data channels as expected");
  }
  proto.dataChannelFlush = patched(function (this: SctpTransportInternals) {
    // Ids are given here, before werift's own loop, which then keeps them.
    if (this.sctp.associationState === ESTABLISHED && this.dataChannelId !== undefined) {
      for (const [channel] of this.dataChannelQueue) {
        if (channel.id !== undefined) continue;
        const id = freeStreamId(this, this.dataChannelId);
        this.dataChannels[id] = channel;
        channel.setId(id);
      }
    }
    return flush.call(this);
  });
}

function freeStreamId(transport: SctpTransportInternals, first: number): number {
  const { sctp } = transport;
  const resetting = new Set([...sctp.reconfigQueue, ...(sctp.reconfigRequest?.streams ?? [])]);
  let id = first;
  while (
    id in transport.dataChannels || resetting.has(id) || id in sctp.outboundStreamSeq ||
    id in sctp.inboundStreams
  ) id += 2;
  return id;
}
