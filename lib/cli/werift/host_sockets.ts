/**
 * Each host candidate's socket bound to the candidate's own address, so ICE
 * answers leave from the address the check was sent to.
 *
 * @module
 */

import { createSocket } from "node:dgram";
import { getLogger, type Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  collapsedSource,
  markPatched,
  methodPatch,
  prototypeOf,
  WeriftMismatch,
} from "./patch.ts";

const logger = getLogger(["switchboard", "webrtc"]);

/** The part of werift {@link hostSocketsPatch} reads. */
type Module = Pick<Werift, "Connection" | "StunProtocol" | "UdpTransport">;

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
 * address) keeps werift's wildcard socket.
 */
export const hostSocketsPatch = methodPatch<Module>({
  replaces: [["Connection", "getCandidatePromises"], ["Connection", "ensureProtocol"]],
  check(werift) {
    const proto = prototypeOf(werift, "Connection");
    const gather = proto.getCandidatePromises;
    if (typeof gather !== "function" || typeof proto.ensureProtocol !== "function") {
      throw new WeriftMismatch("Connection.getCandidatePromises or ensureProtocol", "is missing");
    }
    const gatherCode = collapsedSource(gather);
    if (
      !HOST_SOCKET_CODE.every((fragment) => gatherCode.includes(fragment)) ||
      gatherCode.split("new StunProtocol(").length !== 2 ||
      !collapsedSource(werift.StunProtocol).includes(STUN_PROTOCOL_CODE) ||
      !collapsedSource(werift.UdpTransport).includes(UDP_TRANSPORT_CODE)
    ) {
      throw new WeriftMismatch(
        "Connection",
        "no longer binds the sockets of host candidates as expected",
      );
    }
  },
  apply(werift) {
    const proto = prototypeOf(werift, "Connection");
    const gather = proto.getCandidatePromises as (this: unknown, ...args: unknown[]) => unknown;
    const ensure = proto.ensureProtocol as (this: unknown, protocol: unknown) => void;
    const StunProtocol = werift.StunProtocol;
    proto.getCandidatePromises = markPatched(function (
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
    });
    proto.ensureProtocol = markPatched(function (this: GatheringConnection, protocol: unknown) {
      ensure.call(this, protocol);
      if (!(protocol instanceof StunProtocol)) return;
      const address = unboundHostAddresses.get(this)?.shift();
      if (address !== undefined) bindOnlyTo(protocol as unknown as HostProtocol, address);
    });
  },
});

/**
 * Applies {@link hostSocketsPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift no longer makes its host sockets as expected.
 */
export function withHostSocketsOnTheirAddresses(werift: Module): void {
  applyPatches(werift, [hostSocketsPatch]);
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
