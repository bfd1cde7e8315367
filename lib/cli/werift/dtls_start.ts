/**
 * Removes the 100 ms sleep before werift's DTLS client starts its handshake.
 *
 * `RTCDtlsTransport.prototype.start` is replaced by a copy without the sleep.
 * The sleep gave the other side time to create its DTLS server; a ClientHello
 * that arrives before then would be dropped and only resent after 500 ms. So
 * DTLS records that arrive once ICE starts checking are kept (at most
 * {@link MAX_EARLY_RECORDS}) and handed, in order, to the DTLS server as soon
 * as it exists.
 *
 * The copied method is adapted from werift 0.25.2 (MIT License, copyright
 * Yuki Shindo); the patch checks werift's source first (see `patch.ts`).
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";
import {
  applyPatches,
  expectSource,
  exportedFunction,
  markPatched,
  methodPatch,
  prototypeOf,
  type SourceExpectation,
  weriftDebug,
} from "./patch.ts";

/**
 * Applies {@link dtlsStartPatch}: no sleep before the DTLS client starts, and
 * DTLS records that came early replayed. Idempotent.
 *
 * @param werift The module returned by `loadWerift()`.
 * @throws {WeriftMismatch} When werift's code is not the code this patch was written for.
 */
export function removeDtlsStartDelay(werift: Werift): void {
  applyPatches(werift, [dtlsStartPatch]);
}

// werift's internals, as far as the copy below uses them

interface WeriftEvent<T extends unknown[]> {
  subscribe(execute: (...args: T) => void): { unSubscribe(): void };
  once(execute: (...args: T) => void): void;
}

interface IceConnection {
  readonly onData: WeriftEvent<[Uint8Array]>;
  send(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

interface IceTransportInternals {
  readonly connection: IceConnection;
  readonly role: string;
}

interface DtlsSocketLike {
  readonly onData: WeriftEvent<[Uint8Array]>;
  readonly onClose: WeriftEvent<[]>;
  readonly onConnect: WeriftEvent<[]>;
  readonly onError: WeriftEvent<[unknown]>;
  connect?(): Promise<void>;
  close(): void;
}

interface DtlsTransportInternals {
  readonly config: {
    debug?: { inboundPacketLoss?: number | undefined } | undefined;
  };
  readonly iceTransport: IceTransportInternals;
  readonly localCertificate?:
    | { certPem: string; privateKey: string; signatureHash: unknown }
    | undefined;
  readonly srtpProfiles: unknown[];
  state: string;
  role: string;
  dtls?: DtlsSocketLike | undefined;
  dataReceiver(buf: Uint8Array): void;
  remoteParameters?: { fingerprints: unknown[] } | undefined;
  setState(state: string): void;
  verifyRemoteCertificateFingerprint(): void;
  startSrtp(): void;
}

type DtlsSocketClass = new (options: Record<string, unknown>) => DtlsSocketLike;

/**
 * How many DTLS records are kept while no DTLS endpoint listens. A handshake
 * flight is a handful of records; more than this is not a handshake.
 */
export const MAX_EARLY_RECORDS = 32;

/** Per ICE connection: DTLS records kept until the DTLS transport starts. */
const earlyRecords = new WeakMap<IceConnection, EarlyRecords | "claimed">();

class EarlyRecords {
  readonly records: Uint8Array[] = [];
  readonly #subscription: { unSubscribe(): void };

  constructor(connection: IceConnection, isDtls: (buf: Uint8Array) => boolean) {
    this.#subscription = connection.onData.subscribe((buf) => {
      if (isDtls(buf) && this.records.length < MAX_EARLY_RECORDS) this.records.push(buf);
    });
  }

  /** Stops keeping records and returns those kept so far. */
  take(): Uint8Array[] {
    this.#subscription.unSubscribe();
    return this.records.splice(0);
  }
}

function keepEarlyRecords(connection: IceConnection, isDtls: (buf: Uint8Array) => boolean) {
  if (!earlyRecords.has(connection)) {
    earlyRecords.set(connection, new EarlyRecords(connection, isDtls));
  }
}

function claimEarlyRecords(connection: IceConnection): Uint8Array[] {
  const kept = earlyRecords.get(connection);
  // "claimed" stays, so that an ICE restart does not start keeping records again.
  earlyRecords.set(connection, "claimed");
  return kept instanceof EarlyRecords ? kept.take() : [];
}

/**
 * What werift's DTLS socket sends and receives through: the copy of werift's
 * internal `IceTransport`, plus the records that arrived before the socket.
 */
class ReplayingIceTransport {
  readonly type = "ice";
  closed = false;
  readonly ice: IceConnection;
  #receive: (buf: Uint8Array) => void = () => {};
  #queue: Uint8Array[] | undefined;

  constructor(ice: IceConnection, isDtls: (buf: Uint8Array) => boolean) {
    this.ice = ice;
    const early = claimEarlyRecords(ice);
    ice.onData.subscribe((buf) => {
      if (!isDtls(buf)) return;
      if (this.#queue) this.#queue.push(buf);
      else this.#receive(buf);
    });
    if (early.length > 0) {
      this.#queue = early;
      // The DTLS socket sets onData in its base constructor, before its own
      // fields exist; records are handed over once construction is complete.
      queueMicrotask(() => this.#replay());
    }
  }

  #replay(): void {
    const queue = this.#queue ?? [];
    while (queue.length > 0) this.#receive(queue.shift()!);
    this.#queue = undefined;
  }

  get onData(): (buf: Uint8Array) => void {
    return this.#receive;
  }

  set onData(receive: (buf: Uint8Array) => void) {
    this.#receive = receive;
  }

  get address(): Record<string, never> {
    return {};
  }

  send = (data: Uint8Array): Promise<void> => this.ice.send(data);

  close(): Promise<void> {
    this.closed = true;
    this.ice.close();
    return Promise.resolve();
  }
}

const dtlsStartExpectation: SourceExpectation = {
  name: "RTCDtlsTransport.prototype.start",
  fragments: [
    ["await setTimeout6(100);", "the sleep before the DTLS client connects"],
    ["this.dtls.connect()", "the DTLS client starting its handshake"],
    ["createIceTransport(this.iceTransport.connection)", "the transport the copy replaces"],
    ["new DtlsServer(", "the DTLS server"],
    ["new DtlsClient(", "the DTLS client"],
  ],
  fingerprint: "945bed84",
};

const iceStartExpectation: SourceExpectation = {
  name: "RTCIceTransport.prototype.start",
  fragments: [["await this.connection.connect()", "where ICE checks begin"]],
};

const dtlsSocketExpectation: SourceExpectation = {
  name: "DtlsSocket",
  fragments: [[
    "this.transport.socket.onData = this.udpOnMessage",
    "how the DTLS socket takes records from its transport",
  ]],
};

/** The patch {@link removeDtlsStartDelay} applies. */
export const dtlsStartPatch = methodPatch<Werift>({
  replaces: [["RTCDtlsTransport", "start"], ["RTCIceTransport", "start"]],
  check(werift) {
    const dtls = prototypeOf(werift, "RTCDtlsTransport");
    const ice = prototypeOf(werift, "RTCIceTransport");
    expectSource(dtls.start, dtlsStartExpectation);
    expectSource(ice.start, iceStartExpectation);
    expectSource(exportedFunction(werift, "DtlsSocket"), dtlsSocketExpectation);
    exportedFunction(werift, "DtlsServer");
    exportedFunction(werift, "DtlsClient");
    exportedFunction(werift, "isDtls");
  },
  apply(werift) {
    const dtls = prototypeOf(werift, "RTCDtlsTransport");
    const ice = prototypeOf(werift, "RTCIceTransport");
    const isDtls = werift.isDtls as (buf: Uint8Array) => boolean;
    const DtlsServer = werift.DtlsServer as unknown as DtlsSocketClass;
    const DtlsClient = werift.DtlsClient as unknown as DtlsSocketClass;
    const log = weriftDebug(werift, "werift:packages/webrtc/src/transport/dtls.ts");

    const iceStart = ice.start as (this: IceTransportInternals) => Promise<void>;
    ice.start = markPatched(function start(this: IceTransportInternals): Promise<void> {
      keepEarlyRecords(this.connection, isDtls);
      return iceStart.call(this);
    });

    // A copy of werift 0.25.2's RTCDtlsTransport.start() without the
    // `await setTimeout6(100)` before `this.dtls.connect()`, and with a
    // transport that replays records which arrived before the DTLS socket.
    dtls.start = markPatched(async function start(this: DtlsTransportInternals): Promise<void> {
      if (this.state !== "new") {
        throw new Error("state must be new");
      }
      if (!this.remoteParameters || this.remoteParameters.fingerprints.length === 0) {
        throw new Error("remote fingerprint not exist");
      }
      if (this.role === "auto") {
        this.role = this.iceTransport.role === "controlling" ? "server" : "client";
      }
      this.setState("connecting");
      await new Promise<void>((resolve, reject) => {
        const options = {
          cert: this.localCertificate?.certPem,
          key: this.localCertificate?.privateKey,
          signatureHash: this.localCertificate?.signatureHash,
          transport: new ReplayingIceTransport(this.iceTransport.connection, isDtls),
          srtpProfiles: this.srtpProfiles,
          extendedMasterSecret: true,
        };
        const socket = this.role === "server"
          ? new DtlsServer({ ...options, certificateRequest: true })
          : new DtlsClient(options);
        this.dtls = socket;
        socket.onData.subscribe((buf) => {
          const loss = this.config.debug?.inboundPacketLoss;
          if (loss && loss / 100 < Math.random()) return;
          this.dataReceiver(buf);
        });
        socket.onClose.subscribe(() => {
          if (this.state !== "failed") this.setState("closed");
        });
        socket.onConnect.once(resolve);
        socket.onError.once((error) => {
          this.setState("failed");
          log("dtls failed", error);
          reject(error);
        });
        if (socket instanceof DtlsClient) {
          socket.connect!().catch((error: unknown) => {
            this.setState("failed");
            log("dtls connect failed", error);
            reject(error);
          });
        }
      });
      try {
        this.verifyRemoteCertificateFingerprint();
      } catch (error) {
        this.setState("failed");
        this.dtls?.close();
        throw error;
      }
      if (this.srtpProfiles.length > 0) {
        this.startSrtp();
      }
      this.setState("connected");
      log("dtls connected");
    });
  },
});
