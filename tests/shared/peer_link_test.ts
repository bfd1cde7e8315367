import assert from "node:assert/strict";
import {
  type LinkEvent,
  PeerLink,
  type PeerLinkOptions,
  type SignalOut,
  toCandidate,
  TURN_REFUSED,
} from "../../lib/shared/peer_link.js";
import type {
  CandidateInit,
  DataChannelLike,
  IceCandidateErrorLike,
} from "../../lib/shared/rtc_types.js";
import { within } from "../support/helpers.ts";
import { eventually } from "../support/hostile.ts";

/** A data channel whose state a test drives. */
class FakeChannel implements DataChannelLike {
  readyState = "connecting";
  bufferedAmount = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((event: unknown) => void) | null | undefined;
  onmessage: ((event: { data: unknown }) => void) | null | undefined;
  onclose: ((event: unknown) => void) | null | undefined;
  constructor(readonly label: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
    this.readyState = "closed";
  }
  open(): void {
    this.readyState = "open";
    this.onopen?.({});
  }
}

/** A peer connection that records what the link asks of it. */
class FakePeerConnection {
  calls: string[] = [];
  added: CandidateInit[] = [];
  channels: FakeChannel[] = [];
  localDescription: { type: string; sdp?: string } | null = null;
  connectionState = "new";
  closed = false;
  refuseCandidates = false;
  onicecandidate: ((event: { candidate?: Partial<CandidateInit> | null }) => void) | null = null;
  ondatachannel: ((event: { channel: DataChannelLike }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  createDataChannel(label: string): FakeChannel {
    const channel = new FakeChannel(label);
    this.channels.push(channel);
    return channel;
  }
  createOffer() {
    this.calls.push("createOffer");
    return Promise.resolve({ type: "offer", sdp: "v=0 offer" });
  }
  createAnswer() {
    this.calls.push("createAnswer");
    return Promise.resolve({ type: "answer", sdp: "v=0 answer" });
  }
  setLocalDescription(description: { type: string; sdp?: string }) {
    this.calls.push(`setLocal ${description.type}`);
    this.localDescription = { ...description, sdp: `${description.sdp} +candidates` };
    return Promise.resolve();
  }
  setRemoteDescription(description: { type: string; sdp: string }) {
    this.calls.push(`setRemote ${description.type} ${description.sdp}`);
    return Promise.resolve();
  }
  addIceCandidate(candidate: CandidateInit) {
    this.calls.push(`add ${candidate.candidate}`);
    if (this.refuseCandidates) return Promise.reject(new Error("bad candidate"));
    this.added.push(candidate);
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
  }
}

/** A link over a fake connection, with what it signalled and reported. */
function fakeLink(initiator: boolean, overrides: Partial<PeerLinkOptions> = {}) {
  const pc = new FakePeerConnection();
  const signals: SignalOut[] = [];
  const events: LinkEvent[] = [];
  let eventWaiter: (() => void) | undefined;
  let clock = 1000;
  const link = new PeerLink({
    initiator,
    createPeerConnection: () => pc,
    signal: (message) => signals.push(message),
    onEvent: (event) => {
      events.push(event);
      eventWaiter?.();
    },
    timeoutMs: 60_000,
    now: () => clock,
    ...overrides,
  });
  return {
    pc,
    link,
    signals,
    events,
    advance(ms: number) {
      clock += ms;
    },
    /** Waits until the link has reported `count` events. */
    async eventCount(count: number): Promise<void> {
      while (events.length < count) {
        await within(new Promise<void>((resolve) => eventWaiter = resolve), 2000, "a link event");
      }
    },
    /** Lets queued signaling steps run. */
    settle: () => new Promise((resolve) => setTimeout(resolve, 0)),
  };
}

const HOST = "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host";

Deno.test("PeerLink: the initiator creates the chat channel and sends its offer with candidates", async () => {
  const t = fakeLink(true);
  t.link.start();
  await t.settle();
  assert.deepEqual(t.pc.channels.map((c) => c.label), ["chat"]);
  assert.deepEqual(t.pc.calls, ["createOffer", "setLocal offer"]);
  assert.deepEqual(t.signals, [{ type: "offer", sdp: "v=0 offer +candidates" }]);
  assert.equal(t.link.state, "negotiating");
  t.link.close();
});

Deno.test("PeerLink: the responder queues candidates that come before the offer, then answers", async () => {
  const t = fakeLink(false);
  t.link.start();
  t.link.handle({ type: "candidate", candidate: { candidate: HOST, sdpMid: "0" } });
  await t.settle();
  assert.deepEqual(t.pc.added, [], "no candidate before the remote description");
  t.link.handle({ type: "offer", sdp: "remote offer" });
  await t.settle();
  assert.deepEqual(t.pc.calls, [
    "setRemote offer remote offer",
    `add ${HOST}`,
    "createAnswer",
    "setLocal answer",
  ]);
  assert.deepEqual(t.signals, [{ type: "answer", sdp: "v=0 answer +candidates" }]);
  t.link.close();
});

Deno.test("PeerLink: candidates after the remote description are added at once", async () => {
  const t = fakeLink(true);
  t.link.start();
  t.link.handle({ type: "answer", sdp: "remote answer" });
  t.link.handle({ type: "candidate", candidate: { candidate: HOST, sdpMLineIndex: 0 } });
  await t.settle();
  assert.deepEqual(t.pc.calls.slice(-2), ["setRemote answer remote answer", `add ${HOST}`]);
  t.link.close();
});

Deno.test("PeerLink: a peer that never trickles connects on its SDP alone", async () => {
  const t = fakeLink(false);
  t.link.start();
  t.link.handle({ type: "offer", sdp: "offer with every candidate inside" });
  await t.settle();
  assert.deepEqual(t.pc.added, []);
  t.pc.ondatachannel?.({ channel: new FakeChannel("other") });
  t.advance(42);
  const channel = new FakeChannel("chat");
  t.pc.ondatachannel?.({ channel });
  channel.open();
  await t.eventCount(1);
  assert.deepEqual(t.events, [{ kind: "open", ms: 42 }]);
  t.link.close();
});

Deno.test("PeerLink: an empty candidate is the end of candidates, passed on and never fatal", async () => {
  const t = fakeLink(true);
  t.link.start();
  await t.settle();
  t.pc.onicecandidate?.({ candidate: null });
  assert.deepEqual(t.signals.at(-1), {
    type: "candidate",
    candidate: { candidate: "", sdpMid: null, sdpMLineIndex: 0 },
  });
  t.link.handle({ type: "answer", sdp: "a" });
  t.pc.refuseCandidates = true;
  t.link.handle({ type: "candidate", candidate: { candidate: "", sdpMid: "0" } });
  t.link.handle({ type: "candidate", candidate: null });
  await t.settle();
  assert.deepEqual(t.pc.calls.slice(-2), ["add ", "add "]);
  assert.equal(t.link.state, "negotiating", "a refused candidate does not end the link");
  t.link.close();
});

Deno.test("PeerLink: local candidates trickle in the RTCIceCandidateInit shape", async () => {
  const t = fakeLink(true);
  t.link.start();
  await t.settle();
  t.pc.onicecandidate?.({ candidate: { candidate: HOST, sdpMid: "0", sdpMLineIndex: 0 } });
  assert.deepEqual(t.signals.at(-1), {
    type: "candidate",
    candidate: { candidate: HOST, sdpMid: "0", sdpMLineIndex: 0 },
  });
  t.link.close();
});

Deno.test("PeerLink: the open channel carries lines both ways", async () => {
  const t = fakeLink(true);
  t.link.start();
  await t.settle();
  const channel = t.pc.channels[0]!;
  assert.equal(t.link.send("too early"), false);
  t.advance(7);
  channel.open();
  await t.eventCount(1);
  assert.deepEqual(t.events[0], { kind: "open", ms: 7 });
  assert.equal(t.link.send("hello"), true);
  assert.deepEqual(channel.sent, ["hello"]);
  channel.onmessage?.({ data: "hi back" });
  channel.onmessage?.({ data: new Uint8Array([1]) });
  assert.deepEqual(t.events.slice(1), [{ kind: "message", text: "hi back" }]);
  t.link.close();
});

/** An initiator's link whose chat channel is open, and that channel. */
async function openLink() {
  const t = fakeLink(true);
  t.link.start();
  await t.settle();
  const channel = t.pc.channels[0]!;
  channel.open();
  await t.eventCount(1);
  return { ...t, channel };
}

Deno.test("PeerLink: finish() closes the chat channel only once its lines have left, then waits for the partner", async () => {
  const t = await openLink();
  // The channel confirms its close when the test says, as the partner's stack does.
  const close = t.channel.close.bind(t.channel);
  t.channel.close = () => {
    t.channel.closed = true;
  };
  assert.equal(t.link.send("last words"), true);
  t.channel.bufferedAmount = 10;
  let finished = false;
  const finishing = t.link.finish(5000).then(() => finished = true);
  await eventually(() => t.link.state === "closed", 1000, "the link to stop reporting");
  assert.equal(t.channel.closed, false, "not closed while its lines wait to leave");
  t.channel.bufferedAmount = 0;
  await eventually(() => t.channel.closed, 1000, "the channel to be closed");
  assert.equal(finished, false, "not finished before the partner confirms");
  assert.equal(t.pc.closed, false);
  close();
  t.channel.onclose?.({});
  await within(finishing, 1000, "finish() after the confirmed close");
  assert.equal(t.pc.closed, true);
  assert.deepEqual(t.events.slice(1), [], "nothing reported");
  assert.equal(t.link.send("more"), false);
});

Deno.test("PeerLink: finish() gives up waiting at its deadline and closes the connection", async () => {
  const t = await openLink();
  t.channel.bufferedAmount = 10;
  await within(t.link.finish(50), 1000, "finish() within its deadline");
  assert.equal(t.pc.closed, true);
  assert.deepEqual(t.events.slice(1), []);
});

Deno.test("PeerLink: finish() on a link that is not open closes it at once", async () => {
  const t = fakeLink(true);
  t.link.start();
  await t.settle();
  await within(t.link.finish(5000), 1000, "finish() at once");
  assert.equal(t.link.state, "closed");
  assert.equal(t.pc.closed, true);
});

Deno.test("PeerLink: no channel within the timeout fails once and closes the connection", async () => {
  const t = fakeLink(true, { timeoutMs: 20 });
  t.link.start();
  await t.eventCount(1);
  assert.deepEqual(t.events, [{
    kind: "failed",
    reason: "no peer-to-peer connection within 0.02 s",
  }]);
  assert.equal(t.link.state, "failed");
  assert.ok(t.pc.closed);
  t.pc.channels[0]!.open();
  assert.equal(t.events.length, 1, "nothing is reported after failing");
  assert.equal(t.link.send("x"), false);
});

Deno.test("PeerLink: ICE failure and a closed channel each fail the link", async () => {
  const ice = fakeLink(true);
  ice.link.start();
  await ice.settle();
  ice.pc.connectionState = "failed";
  ice.pc.onconnectionstatechange?.();
  assert.deepEqual(ice.events, [{ kind: "failed", reason: "ICE failed" }]);

  const closed = fakeLink(true);
  closed.link.start();
  await closed.settle();
  const channel = closed.pc.channels[0]!;
  channel.open();
  await closed.eventCount(1);
  channel.onclose?.({});
  assert.deepEqual(closed.events.at(-1), { kind: "failed", reason: "the data channel closed" });
});

Deno.test("PeerLink: close() ends everything quietly, including steps still queued", async () => {
  const t = fakeLink(false);
  t.link.start();
  t.link.handle({ type: "offer", sdp: "o" });
  t.link.close();
  await t.settle();
  assert.deepEqual(t.pc.calls, [], "no step runs after close");
  assert.deepEqual(t.signals, []);
  assert.deepEqual(t.events, []);
  assert.equal(t.link.state, "closed");
});

Deno.test("PeerLink: an offer to the initiator or an answer to the responder is ignored", async () => {
  const t = fakeLink(true);
  const debug: string[] = [];
  const link = new PeerLink({
    initiator: false,
    createPeerConnection: () => t.pc,
    signal: () => {},
    onEvent: () => {},
    timeoutMs: 60_000,
    debug: (text) => debug.push(text),
  });
  link.start();
  link.handle({ type: "answer", sdp: "stray" });
  await t.settle();
  assert.deepEqual(t.pc.calls, []);
  assert.deepEqual(debug, ["ignored an unexpected answer"]);
  link.close();
});

Deno.test("PeerLink: a connection that cannot be created fails the link with the reason", async () => {
  const events: LinkEvent[] = [];
  const link = new PeerLink({
    initiator: true,
    createPeerConnection: () => {
      throw new Error("no WebRTC here");
    },
    signal: () => {},
    onEvent: (event) => events.push(event),
    timeoutMs: 60_000,
  });
  link.start();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(events, [{
    kind: "failed",
    reason: "could not create a peer connection: no WebRTC here",
  }]);
});

Deno.test("PeerLink: messages that come while the connection is being made wait for it", async () => {
  const pc = new FakePeerConnection();
  let resolve: (pc: FakePeerConnection) => void = () => {};
  const signals: SignalOut[] = [];
  const link = new PeerLink({
    initiator: false,
    createPeerConnection: () => new Promise((r) => resolve = r),
    signal: (message) => signals.push(message),
    onEvent: () => {},
    timeoutMs: 60_000,
  });
  link.start();
  link.handle({ type: "candidate", candidate: { candidate: HOST, sdpMid: "0" } });
  link.handle({ type: "offer", sdp: "early offer" });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(pc.calls, []);
  resolve(pc);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(pc.calls, [
    "setRemote offer early offer",
    `add ${HOST}`,
    "createAnswer",
    "setLocal answer",
  ]);
  assert.equal(signals.at(-1)?.type, "answer");
  link.close();
});

Deno.test("PeerLink: closed while the connection is being made, it closes the connection when it comes", async () => {
  const pc = new FakePeerConnection();
  let resolve: (pc: FakePeerConnection) => void = () => {};
  const link = new PeerLink({
    initiator: true,
    createPeerConnection: () => new Promise((r) => resolve = r),
    signal: () => {},
    onEvent: () => {},
    timeoutMs: 60_000,
  });
  link.start();
  await new Promise((r) => setTimeout(r, 0)); // the connection is being made
  link.close();
  resolve(pc);
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(pc.closed);
  assert.deepEqual(pc.channels, []);
});

Deno.test("toCandidate() keeps well-formed candidates and drops the rest", () => {
  assert.deepEqual(toCandidate(null), { candidate: "", sdpMid: null, sdpMLineIndex: 0 });
  assert.deepEqual(toCandidate({ candidate: HOST, sdpMid: "0", sdpMLineIndex: 0 }), {
    candidate: HOST,
    sdpMid: "0",
    sdpMLineIndex: 0,
  });
  for (
    const bad of [
      undefined,
      "x",
      { candidate: 1 },
      { candidate: HOST, sdpMid: 3 },
      { candidate: HOST, sdpMLineIndex: -1 },
      { candidate: HOST, sdpMLineIndex: 0.5 },
    ]
  ) {
    assert.equal(toCandidate(bad), undefined, JSON.stringify(bad));
  }
});

/** A connection whose statistics select a pair with a local candidate of `candidateType`. */
class StatsPeerConnection extends FakePeerConnection {
  onicecandidateerror: ((event: IceCandidateErrorLike) => void) | null = null;
  answerStats = (): void => {};
  constructor(readonly candidateType: string) {
    super();
  }
  getStats() {
    return new Promise<Map<string, Record<string, unknown>>>((resolve) => {
      this.answerStats = () =>
        resolve(
          new Map([
            ["T1", { id: "T1", type: "transport", selectedCandidatePairId: "CP1" }],
            ["CP0", { id: "CP0", type: "candidate-pair", localCandidateId: "L0" }],
            ["CP1", { id: "CP1", type: "candidate-pair", localCandidateId: "L1" }],
            ["L0", { id: "L0", type: "local-candidate", candidateType: "host" }],
            ["L1", { id: "L1", type: "local-candidate", candidateType: this.candidateType }],
          ]),
        );
    });
  }
}

for (const [candidateType, path] of [["relay", "relay"], ["host", "direct"]] as const) {
  Deno.test(`PeerLink: a selected ${candidateType} candidate makes the path ${path}, and lines wait for open`, async () => {
    const pc = new StatsPeerConnection(candidateType);
    const t = fakeLink(true, { createPeerConnection: () => pc });
    t.link.start();
    await t.settle();
    const channel = pc.channels[0]!;
    t.advance(412);
    channel.open();
    // The channel is usable at once; a line that comes before the statistics waits.
    assert.equal(t.link.state, "open");
    assert.equal(t.link.send("early"), true);
    channel.onmessage?.({ data: "first line" });
    assert.deepEqual(t.events, []);
    pc.answerStats();
    await t.eventCount(2);
    assert.deepEqual(t.events, [
      { kind: "open", ms: 412, path },
      { kind: "message", text: "first line" },
    ]);
    t.link.close();
  });
}

Deno.test("PeerLink: statistics that never answer still report open, without a path", async () => {
  const pc = new StatsPeerConnection("relay");
  const t = fakeLink(true, { createPeerConnection: () => pc });
  t.link.start();
  await t.settle();
  pc.channels[0]!.open();
  await t.eventCount(1);
  assert.deepEqual(t.events, [{ kind: "open", ms: 0 }]);
  t.link.close();
});

Deno.test("PeerLink: with relays only, a TURN refusal (401) fails the link at once and says so", async () => {
  const pc = new StatsPeerConnection("relay");
  const t = fakeLink(true, { createPeerConnection: () => pc, relayOnly: true });
  t.link.start();
  await t.settle();
  pc.onicecandidateerror?.({ errorCode: 701, url: "turn:127.0.0.1:3478" });
  assert.equal(t.link.state, "negotiating", "an unreachable server is not a refusal");
  pc.onicecandidateerror?.({ errorCode: 401, url: "turn:127.0.0.1:3478" });
  assert.equal(t.link.state, "failed");
  assert.deepEqual(t.events, [{ kind: "failed", reason: TURN_REFUSED }]);
  assert.equal(TURN_REFUSED, "TURN server refused the credentials");
  assert.equal(pc.closed, true);
});

Deno.test("PeerLink: without relay-only a TURN refusal waits, and names the failure if nothing opens", async () => {
  const pc = new StatsPeerConnection("host");
  const t = fakeLink(true, { createPeerConnection: () => pc, timeoutMs: 50 });
  t.link.start();
  await t.settle();
  pc.onicecandidateerror?.({ errorCode: 401 });
  assert.equal(t.link.state, "negotiating", "a direct path may still open");
  await t.eventCount(1);
  assert.deepEqual(t.events, [{ kind: "failed", reason: TURN_REFUSED }]);
});

Deno.test("PeerLink: candidates found while the offer is made go out after it", async () => {
  const pc = new FakePeerConnection();
  const setLocal = pc.setLocalDescription.bind(pc);
  // werift finds its candidates while it sets the local description.
  pc.setLocalDescription = (description) => {
    pc.onicecandidate?.({ candidate: { candidate: HOST, sdpMid: "0", sdpMLineIndex: 0 } });
    pc.onicecandidate?.({ candidate: null });
    return setLocal(description);
  };
  const t = fakeLink(true, { createPeerConnection: () => pc });
  t.link.start();
  await t.settle();
  assert.deepEqual(t.signals.map((m) => m.type), ["offer", "candidate", "candidate"]);
  pc.onicecandidate?.({ candidate: { candidate: HOST, sdpMid: "0", sdpMLineIndex: 0 } });
  assert.deepEqual(t.signals.at(-1), {
    type: "candidate",
    candidate: { candidate: HOST, sdpMid: "0", sdpMLineIndex: 0 },
  });
  t.link.close();
});
