/**
 * Makes a data channel of the WebRTC library (werift 0.25.2) open in tens of
 * milliseconds instead of a quarter of a second.
 *
 * Where the time goes, unpatched: a fixed 100 ms sleep before the DTLS client
 * says hello, a 20 ms pacing sleep in the ICE check loop that also delays
 * noticing that ICE is done, a 50 ms certificate made on first use, and a cold
 * JIT on the first handshake of a process. None of it is reachable through
 * werift's options, so {@link tuneWerift} replaces two of its methods with
 * copies that leave the sleeps out, {@link createDtlsKeys} makes the
 * certificate ahead of time and {@link warmUp} runs one throw-away connection.
 *
 * The copies are only correct for the exact code they were made from: before
 * patching, the original methods' source is compared with what this module
 * expects, and any difference throws instead of patching. The copied method
 * is adapted from werift 0.25.2 (MIT License, copyright Yuki Shindo).
 *
 * @module
 */

import type { Werift } from "../../runtime/deps.ts";

/** A certificate and its private key, as werift takes them in `dtls: { keys }`. */
export type DtlsKeys = Awaited<
  ReturnType<Werift["CipherContext"]["createSelfSignedCertificateWithKey"]>
>;

/** The options werift's `RTCPeerConnection` takes. */
export type PeerConfig = NonNullable<ConstructorParameters<Werift["RTCPeerConnection"]>[0]>;

/** The werift release whose code the patches below were copied from. */
export const WERIFT_VERSION = "0.25.2";

/**
 * Applies every patch: {@link removeDtlsStartDelay} and
 * {@link removeIcePacingDelay}. Call it once at start-up, before the first
 * connection; it changes werift's classes for the whole process. Idempotent.
 * Every patch is checked before any is applied, so a mismatch leaves werift
 * untouched.
 *
 * @param werift The module returned by `loadWerift()`.
 * @throws {Error} When werift's code is not the code these patches were written
 *   for; the message names the method and what did not match.
 *
 * @example Tuning twice is harmless
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWerift } from "../../runtime/deps.ts";
 * import { isWeriftTuned, tuneWerift } from "./tuning.ts";
 *
 * const werift = await loadWerift();
 * tuneWerift(werift);
 * tuneWerift(werift);
 * assert.equal(isWeriftTuned(werift), true);
 * ```
 */
export function tuneWerift(werift: Werift): void {
  applyAll(werift, [dtlsStartPatch, icePacingPatch]);
}

/**
 * Removes the 100 ms sleep before werift's DTLS client starts its handshake.
 *
 * `RTCDtlsTransport.prototype.start` is replaced by a copy without the sleep.
 * The sleep gave the other side time to create its DTLS server; a ClientHello
 * that arrives before then would be dropped and only resent after 500 ms. So
 * DTLS records that arrive once ICE starts checking are kept (at most
 * {@link MAX_EARLY_RECORDS}) and handed, in order, to the DTLS server as soon as
 * it exists. Idempotent.
 *
 * @param werift The module returned by `loadWerift()`.
 * @throws {Error} When werift's code is not the code this patch was written for.
 */
export function removeDtlsStartDelay(werift: Werift): void {
  applyAll(werift, [dtlsStartPatch]);
}

/**
 * Makes werift notice at once that ICE has completed, instead of at the end of
 * its 20 ms pacing sleep.
 *
 * `Connection.prototype.connect` is replaced by a copy whose pause between
 * starting two connectivity checks still lasts up to 20 ms (the pacing the ICE
 * specification asks for) but ends as soon as the check list is done. Idempotent.
 *
 * @param werift The module returned by `loadWerift()`.
 * @throws {Error} When werift's code is not the code this patch was written for.
 */
export function removeIcePacingDelay(werift: Werift): void {
  applyAll(werift, [icePacingPatch]);
}

/**
 * Tells whether every patch of {@link tuneWerift} is in place.
 *
 * @param werift The module returned by `loadWerift()`.
 * @returns `true` once {@link tuneWerift} has run on this module.
 */
export function isWeriftTuned(werift: Werift): boolean {
  return [dtlsStartPatch, icePacingPatch].every((patch) => patch.isApplied(werift));
}

/**
 * Makes the ECDSA P-256 certificate werift would otherwise make on first use
 * (about 50 ms), so it can be made while nothing else is waiting for it.
 *
 * @param werift The module returned by `loadWerift()`.
 * @returns Keys to pass as `dtls: { keys }` to every `RTCPeerConnection`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWerift } from "../../runtime/deps.ts";
 * import { createDtlsKeys } from "./tuning.ts";
 *
 * const keys = await createDtlsKeys(await loadWerift());
 * assert.match(keys.certPem, /BEGIN CERTIFICATE/);
 * ```
 */
export function createDtlsKeys(werift: Werift): Promise<DtlsKeys> {
  return werift.CipherContext.createSelfSignedCertificateWithKey(
    { signature: werift.SignatureAlgorithm.ecdsa_3, hash: werift.HashAlgorithm.sha256_4 },
    werift.NamedCurveAlgorithm.secp256r1_23,
  );
}

/**
 * Peer options for a host that is reached on loopback only: no STUN or TURN
 * server, IPv4, and 127.0.0.1 offered as a host candidate.
 *
 * @param keys Keys from {@link createDtlsKeys}, to skip making a certificate.
 * @returns A fresh options object for `new RTCPeerConnection()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loopbackPeerConfig } from "./tuning.ts";
 *
 * assert.deepEqual(loopbackPeerConfig().iceAdditionalHostAddresses, ["127.0.0.1"]);
 * ```
 */
export function loopbackPeerConfig(keys?: DtlsKeys): PeerConfig {
  const config: PeerConfig = {
    iceServers: [],
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceUseIpv6: false,
  };
  if (keys) config.dtls = { keys };
  return config;
}

/** How long {@link warmUp} waits for its connection by default, in ms. */
export const WARM_UP_TIMEOUT_MS = 3000;

/**
 * Opens and closes a throw-away connection between two peers in this process
 * (ICE, DTLS, SCTP, a data channel and one message each way), so the first
 * real connection does not pay for a cold JIT (100 ms and more of its opening
 * time). Run it while waiting for the partner anyway. It never rejects: a
 * failure only means no warm-up.
 *
 * Needs `--allow-net --allow-env --allow-sys=networkInterfaces`, like werift.
 * werift leaves timers behind after `close()`; a program that is done must end
 * its process.
 *
 * @param werift The module returned by `loadWerift()`, ideally tuned already.
 * @param keys Keys from {@link createDtlsKeys}.
 * @param timeoutMs How long to wait for the message to come back.
 * @returns `true` when the message made the round trip, `false` on failure or
 *   timeout.
 */
export async function warmUp(
  werift: Werift,
  keys: DtlsKeys,
  timeoutMs: number = WARM_UP_TIMEOUT_MS,
): Promise<boolean> {
  const peers: InstanceType<Werift["RTCPeerConnection"]>[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const offerer = new werift.RTCPeerConnection(loopbackPeerConfig(keys));
    peers.push(offerer);
    const answerer = new werift.RTCPeerConnection(loopbackPeerConfig(keys));
    peers.push(answerer);
    const echoed = new Promise<void>((resolve) => {
      answerer.onDataChannel.subscribe((channel) => {
        channel.onMessage.subscribe((message) => channel.send(message));
      });
      const channel = offerer.createDataChannel("warm-up");
      channel.stateChanged.subscribe((state) => {
        if (state === "open") channel.send("warm-up");
      });
      channel.onMessage.subscribe(() => resolve());
    });
    const exchange = (async () => {
      await offerer.setLocalDescription(await offerer.createOffer());
      await answerer.setRemoteDescription(offerer.localDescription!);
      await answerer.setLocalDescription(await answerer.createAnswer());
      await offerer.setRemoteDescription(answerer.localDescription!);
      await echoed;
      return true;
    })();
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    // A failure after the timeout still lands in this catch, never unhandled.
    return await Promise.race([exchange.catch(() => false), timedOut]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await Promise.allSettled(peers.map((peer) => peer.close()));
  }
}

// ---------------------------------------------------------------------------
// Checking and applying patches

/** What a method's source must look like before it may be replaced. */
interface Expectation {
  /** How errors name the method, e.g. `RTCDtlsTransport.prototype.start`. */
  readonly name: string;
  /** Fragments the source must contain, each with why it matters. */
  readonly fragments: readonly (readonly [fragment: string, meaning: string])[];
  /**
   * {@link sourceFingerprint} of the source, for methods replaced by a copy:
   * any change there would be silently undone by the copy.
   */
  readonly fingerprint?: string;
}

interface Patch {
  /** Returns true when already applied, throws when the code does not match. */
  check(werift: Werift): boolean;
  isApplied(werift: Werift): boolean;
  apply(werift: Werift): void;
}

/** Marks functions this module installed, so patching twice is harmless. */
const TUNED = Symbol.for("switchboard.werift-tuning");

function applyAll(werift: Werift, patches: readonly Patch[]): void {
  const pending = patches.filter((patch) => !patch.check(werift));
  for (const patch of pending) patch.apply(werift);
}

function isTuned(fn: unknown): boolean {
  return typeof fn === "function" && (fn as { [TUNED]?: boolean })[TUNED] === true;
}

function markTuned<F extends object>(fn: F): F {
  Object.defineProperty(fn, TUNED, { value: true });
  return fn;
}

function mismatch(name: string, what: string): Error {
  return new Error(
    `cannot tune werift: ${name} ${what} (the tuning was written for werift ${WERIFT_VERSION})`,
  );
}

/** The prototype of the class werift exports as `exportName`. */
function prototypeOf(werift: Werift, exportName: string): Record<string, unknown> {
  const exported = (werift as unknown as Record<string, unknown>)[exportName];
  if (typeof exported !== "function" || typeof exported.prototype !== "object") {
    throw mismatch(exportName, "is not exported as a class");
  }
  return exported.prototype as Record<string, unknown>;
}

/** An export of werift that must be a function (a class or a helper). */
function exportedFunction(werift: Werift, exportName: string): unknown {
  const exported = (werift as unknown as Record<string, unknown>)[exportName];
  if (typeof exported !== "function") {
    throw mismatch(exportName, "is not exported as a function");
  }
  return exported;
}

/**
 * A short hash (32-bit FNV-1a, hex) of a function's source with runs of white
 * space collapsed, to notice any change in code that a patch copies.
 */
function sourceFingerprint(source: string): string {
  let hash = 0x811c9dc5;
  const text = source.replace(/\s+/g, " ");
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * Throws unless `fn` is a function whose source matches `expected`.
 *
 * @throws {Error} Naming the method and the first thing that did not match.
 */
function checkSource(fn: unknown, expected: Expectation): void {
  if (typeof fn !== "function") throw mismatch(expected.name, "does not exist");
  const source = Function.prototype.toString.call(fn);
  for (const [fragment, meaning] of expected.fragments) {
    if (!source.includes(fragment)) {
      throw mismatch(expected.name, `no longer contains ${JSON.stringify(fragment)} (${meaning})`);
    }
  }
  const actual = sourceFingerprint(source);
  if (expected.fingerprint !== undefined && actual !== expected.fingerprint) {
    throw mismatch(
      expected.name,
      `changed (source fingerprint ${actual}, expected ${expected.fingerprint}), ` +
        "and the copy that replaces it would undo the change",
    );
  }
}

// ---------------------------------------------------------------------------
// werift's internals, as far as the copies below use them

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
type Log = (...args: unknown[]) => void;

function weriftDebug(werift: Werift, namespace: string): Log {
  const debug = (werift as unknown as { debug?: unknown }).debug;
  return typeof debug === "function" ? debug(namespace) : () => {};
}

// ---------------------------------------------------------------------------
// DTLS: no sleep before the client starts, early records kept and replayed

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

const dtlsStartExpectation: Expectation = {
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

const iceStartExpectation: Expectation = {
  name: "RTCIceTransport.prototype.start",
  fragments: [["await this.connection.connect()", "where ICE checks begin"]],
};

const dtlsSocketExpectation: Expectation = {
  name: "DtlsSocket",
  fragments: [[
    "this.transport.socket.onData = this.udpOnMessage",
    "how the DTLS socket takes records from its transport",
  ]],
};

const dtlsStartPatch: Patch = {
  isApplied: (werift) => isTuned(prototypeOf(werift, "RTCDtlsTransport").start),
  check(werift) {
    const dtls = prototypeOf(werift, "RTCDtlsTransport");
    const ice = prototypeOf(werift, "RTCIceTransport");
    if (isTuned(dtls.start) && isTuned(ice.start)) return true;
    checkSource(dtls.start, dtlsStartExpectation);
    checkSource(ice.start, iceStartExpectation);
    checkSource(exportedFunction(werift, "DtlsSocket"), dtlsSocketExpectation);
    exportedFunction(werift, "DtlsServer");
    exportedFunction(werift, "DtlsClient");
    exportedFunction(werift, "isDtls");
    return false;
  },
  apply(werift) {
    const dtls = prototypeOf(werift, "RTCDtlsTransport");
    const ice = prototypeOf(werift, "RTCIceTransport");
    const isDtls = werift.isDtls as (buf: Uint8Array) => boolean;
    const DtlsServer = werift.DtlsServer as unknown as DtlsSocketClass;
    const DtlsClient = werift.DtlsClient as unknown as DtlsSocketClass;
    const log = weriftDebug(werift, "werift:packages/webrtc/src/transport/dtls.ts");

    const iceStart = ice.start as (this: IceTransportInternals) => Promise<void>;
    ice.start = markTuned(function start(this: IceTransportInternals): Promise<void> {
      keepEarlyRecords(this.connection, isDtls);
      return iceStart.call(this);
    });

    // A copy of werift 0.25.2's RTCDtlsTransport.start() without the
    // `await setTimeout6(100)` before `this.dtls.connect()`, and with a
    // transport that replays records which arrived before the DTLS socket.
    dtls.start = markTuned(async function start(this: DtlsTransportInternals): Promise<void> {
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
};

// ---------------------------------------------------------------------------
// ICE: the pause between checks ends when the check list is done

interface CandidatePairLike {
  handle?: { resolve?: () => void } | undefined;
}

interface IceConnectionInternals {
  state: string;
  iceLite: boolean;
  localCandidatesEnd: boolean;
  localCandidatesStart: boolean;
  remoteUsername: string;
  remotePassword: string;
  localPassword: string;
  readonly remoteCandidates: readonly unknown[];
  checkList: CandidatePairLike[];
  checkListDone: boolean;
  readonly checkListState: { get(): Promise<number> };
  earlyChecks: unknown[][];
  earlyChecksDone: boolean;
  nominated?: unknown;
  pairRemoteCandidate(candidate: unknown): void;
  sortCheckList(): void;
  unfreezeInitial(): void;
  checkIncoming(...check: unknown[]): void;
  schedulingChecks(): boolean;
  queryConsent(): void;
  setState(state: string): void;
}

/** Per ICE connection: ends the current pause between checks. */
const pauseEnders = new WeakMap<object, () => void>();

/** Waits `ms`, or less if the check list completes meanwhile. */
function pauseBetweenChecks(connection: object, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      if (pauseEnders.get(connection) === end) pauseEnders.delete(connection);
      resolve();
    };
    const timer = setTimeout(end, ms);
    pauseEnders.set(connection, end);
  });
}

const iceConnectExpectation: Expectation = {
  name: "Connection.prototype.connect",
  fragments: [
    ["await timers.setTimeout(20);", "the pause between checks"],
    ["if (!this.schedulingChecks()) break;", "the check loop"],
    ["res = await this.checkListState.get();", "waiting for the check list's result"],
  ],
  fingerprint: "1f32d863",
};

const iceCheckCompleteExpectation: Expectation = {
  name: "Connection.prototype.checkComplete",
  fragments: [["this.checkListDone = true;", "where ICE completes"]],
};

const icePacingPatch: Patch = {
  isApplied: (werift) => isTuned(prototypeOf(werift, "Connection").connect),
  check(werift) {
    const connection = prototypeOf(werift, "Connection");
    if (isTuned(connection.connect) && isTuned(connection.checkComplete)) return true;
    checkSource(connection.connect, iceConnectExpectation);
    checkSource(connection.checkComplete, iceCheckCompleteExpectation);
    if (typeof werift.ICE_COMPLETED !== "number" || typeof werift.ICE_FAILED !== "number") {
      throw mismatch("ICE_COMPLETED, ICE_FAILED", "are not exported as numbers");
    }
    return false;
  },
  apply(werift) {
    const connection = prototypeOf(werift, "Connection");
    const { ICE_COMPLETED, ICE_FAILED } = werift;
    const log = weriftDebug(werift, "werift-ice : packages/ice/src/ice.ts : log");

    const checkComplete = connection.checkComplete as (
      this: IceConnectionInternals,
      pair: unknown,
    ) => void;
    connection.checkComplete = markTuned(
      function (this: IceConnectionInternals, pair: unknown): void {
        checkComplete.call(this, pair);
        if (this.checkListDone) pauseEnders.get(this)?.();
      },
    );

    // A copy of werift 0.25.2's Connection.connect() whose pause between
    // checks ends early once the check list is done.
    connection.connect = markTuned(async function connect(this: IceConnectionInternals) {
      log("start connect ice");
      if (!this.localCandidatesEnd) {
        if (!this.localCandidatesStart) {
          throw new Error("Local candidates gathering was not performed");
        }
      }
      if (!this.remoteUsername || !this.remotePassword) {
        throw new Error("Remote username or password is missing");
      }
      for (const c of this.remoteCandidates) {
        this.pairRemoteCandidate(c);
      }
      this.sortCheckList();
      if (!this.iceLite) {
        this.unfreezeInitial();
      }
      log("earlyChecks", this.localPassword, this.earlyChecks.length);
      for (const earlyCheck of this.earlyChecks) {
        this.checkIncoming(...earlyCheck);
      }
      this.earlyChecks = [];
      this.earlyChecksDone = true;
      if (this.iceLite) {
        if (!this.nominated) {
          let res2: number = ICE_FAILED;
          while (!this.checkListDone && this.state !== "closed") {
            res2 = await this.checkListState.get();
            log("checkListState", res2);
            if (res2 === ICE_COMPLETED) {
              break;
            }
          }
          if (res2 !== ICE_COMPLETED && !this.nominated) {
            throw new Error("ICE negotiation failed");
          }
        }
        this.setState("connected");
        return;
      }
      for (;;) {
        if (this.state === "closed") break;
        if (!this.schedulingChecks()) break;
        // Once the check list is done the loop only has to run to its end.
        if (!this.checkListDone) await pauseBetweenChecks(this, 20);
      }
      let res: number = ICE_FAILED;
      while (this.checkList.length > 0 && res === ICE_FAILED) {
        res = await this.checkListState.get();
        log("checkListState", res);
      }
      for (const check of this.checkList) {
        check.handle?.resolve?.();
      }
      if (res !== ICE_COMPLETED) {
        throw new Error("ICE negotiation failed");
      }
      this.queryConsent();
      this.setState("connected");
    });
  },
};
