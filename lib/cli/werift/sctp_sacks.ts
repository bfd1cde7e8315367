/**
 * werift acknowledges every second SCTP packet that brings data in order,
 * instead of every one.
 *
 * @module
 */

import { getLogger, type Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  collapsedSource,
  expectSource,
  isPatched,
  markPatched,
  type SourceExpectation,
  WeriftMismatch,
  type WeriftPatch,
} from "./patch.ts";
import { sctpAssociationClass } from "./sctp_association.ts";

const logger = getLogger(["switchboard", "webrtc"]);

/** The part of werift {@link delayedSacksPatch} reads. */
type Module = Pick<Werift, "RTCSctpTransport">;

// werift 0.25.2's SCTP association (packages/sctp/src/sctp.ts): handleData()
// counts the packets that brought new data and asks for a SACK at once from
// the second on, else schedules one within SCTP_SACK_DELAY_MS (200 ms);
// receiveDataChunk() asks for one at once whatever the chunk, which makes
// that count moot.
const RECEIVE_DATA_CHUNK: SourceExpectation = {
  name: "SCTP.receiveDataChunk",
  fragments: [
    ["this.sackImmediate = true;", "a SACK at once"],
    ["this.sackHasNewDataInPacket = true;", "the count of packets with new data"],
  ],
  fingerprint: "9d1cc2a0",
};
// sendSack() builds the SACK from that state, hands it to sendChunk() and
// only once that has resolved clears the state: packets handled meanwhile
// (werift handles the next datagram while a SACK is on its way) each sent
// another SACK, and what they left to acknowledge was then cleared unsent.
const SEND_SACK: SourceExpectation = {
  name: "SCTP.sendSack",
  fragments: [
    ["await this.sendChunk(sack)", "the SACK handed to sendChunk()"],
    [
      "this.sackDuplicates = [];\n    this.sackNeeded = false;\n    this.sackPacketCount = 0;\n" +
      "    this.sackImmediate = false;",
      "the state cleared after it",
    ],
  ],
  fingerprint: "e2e5f0d4",
};
// ... and the rest of that, in the class's source (handleData() itself is
// wrapped by sctp_input.ts), white space collapsed.
const DELAYED_SACK_CODE = [
  "if (this.sackPacketCount >= 2) { this.sackImmediate = true; } await this.scheduleSack();",
  "if (this.sackTimeout) return; this.sackTimeout = setTimeout(() => {",
  "}, SCTP_SACK_DELAY_MS); }",
];

/** werift's SCTP association, as far as this module reads it. */
interface Association {
  isStopped: boolean;
  sackDuplicates: number[];
  sackPacketCount: number;
  sendChunk(chunk: unknown): Promise<void>;
  sackNeeded: boolean;
  sackImmediate: boolean;
  sackHasNewDataInPacket: boolean;
  sackMisOrdered: Set<number>;
  advertisedRwnd: number;
  markReceived(tsn: number): boolean;
  getInboundStream(streamId: number): InboundStream;
  receive(streamId: number, ppId: number, data: Uint8Array): void;
}
interface InboundStream {
  addChunk(chunk: DataChunk): void;
  popMessages(): Iterable<[number, number, Uint8Array]>;
}
interface DataChunk {
  tsn: number;
  streamId: number;
  userData: Uint8Array;
}

/**
 * Makes werift's SCTP association acknowledge data as RFC 9260 (§6.2, §6.7)
 * asks: at least every second packet that brings new data, within 200 ms
 * otherwise, and at once for a duplicate or when a chunk is missing. werift
 * acknowledged every packet at once: half of a receiver's SACKs, each one
 * encrypted and sent, and as many read, decrypted and handled by the sender,
 * for nothing. Its SACK also cleared what it acknowledged only once sent,
 * so packets handled meanwhile each sent one more, and what they brought
 * was then left unacknowledged until the next.
 */
export const delayedSacksPatch: WeriftPatch<Module> = {
  isApplied(werift) {
    try {
      return isPatched(associationPrototype(werift).receiveDataChunk);
    } catch {
      return false;
    }
  },
  check(werift) {
    const association = sctpAssociationClass(werift);
    const proto = association.prototype as Record<string, unknown>;
    expectSource(proto.receiveDataChunk, RECEIVE_DATA_CHUNK);
    expectSource(proto.sendSack, SEND_SACK);
    const source = collapsedSource(association);
    if (!DELAYED_SACK_CODE.every((fragment) => source.includes(fragment))) {
      throw new WeriftMismatch("SCTP association", "no longer delays SACKs as expected");
    }
  },
  apply(werift) {
    const proto = associationPrototype(werift);
    proto.receiveDataChunk = markPatched(receiveDataChunk);
    proto.sendSack = markPatched(sendSackOnce(proto.sendSack as SendSack));
  },
};

/**
 * Applies {@link delayedSacksPatch}. Idempotent.
 *
 * @throws {WeriftMismatch} When werift's SCTP association no longer looks as expected.
 */
export function withDelayedSacks(werift: Module): void {
  applyPatches(werift, [delayedSacksPatch]);
}

function associationPrototype(werift: Module): Record<string, unknown> {
  return sctpAssociationClass(werift).prototype as Record<string, unknown>;
}

type SendSack = (this: Association) => Promise<void>;

/**
 * werift's sendSack(), with what it acknowledges cleared as the SACK is
 * handed on rather than once it has gone, so a packet handled meanwhile
 * starts the count for the next SACK.
 */
function sendSackOnce(sendSack: SendSack): SendSack {
  return async function (this: Association) {
    if (this.isStopped || !this.sackNeeded) return;
    // werift's own code builds the SACK, on a stand-in that reads this
    // association's state, keeps the SACK instead of sending it, and takes
    // the clearing werift does once "sent".
    let sack: unknown;
    const standIn = Object.create(this, {
      sendChunk: {
        value: (chunk: unknown) => {
          sack = chunk;
          return Promise.resolve();
        },
      },
    }) as Association;
    // Synchronous up to the hand-over: nothing else runs in between.
    void sendSack.call(standIn);
    if (sack === undefined) return;
    this.sackDuplicates = [];
    this.sackNeeded = false;
    this.sackPacketCount = 0;
    this.sackImmediate = false;
    await this.sendChunk(sack).catch((error) => {
      logger.debug("Sending an SCTP SACK failed: {error}", { error: String(error) });
    });
  };
}

// werift's receiveDataChunk(), less the SACK it asked for at once for every chunk.
function receiveDataChunk(this: Association, chunk: DataChunk): void {
  this.sackNeeded = true;
  if (this.markReceived(chunk.tsn)) {
    // A duplicate: the partner may have missed a SACK.
    this.sackImmediate = true;
    return;
  }
  this.sackHasNewDataInPacket = true;
  // A chunk is missing: the gap tells the partner at once.
  if (this.sackMisOrdered.size > 0) this.sackImmediate = true;
  const inboundStream = this.getInboundStream(chunk.streamId);
  inboundStream.addChunk(chunk);
  this.advertisedRwnd -= chunk.userData.length;
  for (const message of inboundStream.popMessages()) {
    this.advertisedRwnd += message[2].length;
    this.receive(...message);
  }
}
