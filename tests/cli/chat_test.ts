import assert from "node:assert/strict";
import type { ClientMessage } from "../../lib/protocol/messages.ts";
import { P2pChat } from "../../lib/cli/chat.ts";
import type { PeerConnectionLike } from "../../lib/shared/rtc_types.js";
import { eventually } from "../support/hostile.ts";

/** A chat whose connections never open, with what it printed and sent. */
function chat() {
  const printed: string[] = [];
  const sent: ClientMessage[] = [];
  const closed: string[] = [];
  const p2p = new P2pChat({
    createPeerConnection: (iceServers) => {
      const pc = {
        createDataChannel: () => ({
          label: "chat",
          readyState: "connecting",
          send() {},
          close() {},
        }),
        createOffer: () => new Promise<never>(() => {}),
        close: () => closed.push(JSON.stringify(iceServers)),
      };
      return pc as unknown as PeerConnectionLike;
    },
    timeoutMs: 60_000,
    print: (line) => printed.push(line),
    send: (message) => {
      sent.push(message);
      return true;
    },
  });
  return { p2p, printed, sent, closed };
}

Deno.test("P2pChat sends through the server while the channel is not open", () => {
  const t = chat();
  assert.equal(t.p2p.send("early"), true);
  assert.deepEqual(t.sent, [{ type: "relay", data: "early" }]);
});

Deno.test("P2pChat prints lines relayed by the server as such, escaped", () => {
  const t = chat();
  assert.equal(t.p2p.take({ type: "relay", from: "b", data: "hi\u001b[2J" }), true);
  assert.deepEqual(t.printed, ["b (via server): hi\\u001b[2J"]);
  assert.equal(t.p2p.take({ type: "paired", peer: "b", initiator: false }), false);
});

Deno.test("P2pChat gives the server's ICE servers to the connection and closes it when the pairing ends", async () => {
  const t = chat();
  const iceServers = [{ urls: "stun:stun.example" }];
  t.p2p.paired({ type: "paired", peer: "b", initiator: true, iceServers });
  await new Promise((resolve) => setTimeout(resolve, 0)); // the connection is made
  t.p2p.ended();
  assert.deepEqual(t.closed, [JSON.stringify(iceServers)]);
  t.p2p.ended();
  assert.equal(t.closed.length, 1, "closing twice is harmless");
});

Deno.test("P2pChat ignores signaling from anyone but the partner", () => {
  const t = chat();
  t.p2p.paired({ type: "paired", peer: "b", initiator: false });
  assert.equal(t.p2p.take({ type: "offer", from: "mallory", sdp: "x" }), true);
  assert.deepEqual(t.sent, []);
  t.p2p.ended();
});

/** Lets the links' queued steps run: connections are made asynchronously. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("P2pChat.renegotiate() starts a fresh connection with the same roles when the channel is not open", async () => {
  const t = chat();
  const iceServers = [{ urls: "stun:stun.example" }];
  t.p2p.paired({ type: "paired", peer: "b", initiator: true, iceServers });
  await tick();
  t.p2p.renegotiate();
  await tick();
  // The old connection went, and a new one was made with the pairing's ICE servers.
  assert.deepEqual(t.closed, [JSON.stringify(iceServers)]);
  t.p2p.ended();
  assert.equal(t.closed.length, 2);
});

Deno.test("P2pChat.renegotiate() does nothing without a pairing", async () => {
  const t = chat();
  t.p2p.renegotiate();
  t.p2p.paired({ type: "paired", peer: "b", initiator: false });
  await tick();
  t.p2p.ended();
  t.p2p.renegotiate();
  assert.equal(t.closed.length, 1);
});

/** A chat whose connection opens when the test says, with what it printed. */
function openingChat() {
  const printed: string[] = [];
  let settled = 0;
  const channels: { readyState: string; onopen?: () => void; onclose?: () => void }[] = [];
  const p2p = new P2pChat({
    createPeerConnection: () => {
      const pc = {
        localDescription: { type: "offer", sdp: "v=0" },
        createDataChannel: () => {
          const channel = { label: "chat", readyState: "connecting", send() {}, close() {} };
          channels.push(channel);
          return channel;
        },
        createOffer: () => Promise.resolve({ type: "offer", sdp: "v=0" }),
        setLocalDescription: () => Promise.resolve(),
        close() {},
      };
      return pc as unknown as PeerConnectionLike;
    },
    timeoutMs: 60_000,
    leftGraceMs: 50,
    print: (line) => printed.push(line),
    send: () => true,
    settled: () => settled++,
  });
  return {
    p2p,
    printed,
    settled: () => settled,
    async open() {
      p2p.paired({ type: "paired", peer: "b", initiator: true });
      while (channels.length === 0) await tick();
      const channel = channels[0]!;
      channel.readyState = "open";
      channel.onopen?.();
      return channel;
    },
  };
}

const FELL_BACK =
  "*** No peer-to-peer channel with b (the data channel closed); messages go via the server ***";

/** Waits until `chat` has printed the fall-back line. */
function fellBack(chat: ReturnType<typeof openingChat>): Promise<void> {
  return eventually(() => chat.printed.includes(FELL_BACK), 2000, "the fall-back line");
}

Deno.test("P2pChat says nothing of a channel that closed after it was open when the pairing ends within the grace", async () => {
  const t = openingChat();
  const channel = await t.open();
  assert.match(t.printed.join("\n"), /^\*\*\* Data channel open with b \(\d+ ms\) \*\*\*$/);
  assert.equal(t.settled(), 1, "opening settles the negotiation");
  // A second chat whose pairing goes on marks when the grace is over.
  const witness = openingChat();
  const witnessChannel = await witness.open();
  channel.onclose?.();
  witnessChannel.onclose?.();
  // peer_left, as the partner's leaving brings it.
  t.p2p.ended();
  await fellBack(witness);
  assert.equal(t.printed.length, 1, t.printed.join("\n"));
  witness.p2p.ended();
});

Deno.test("P2pChat says chat goes via the server when a channel that was open closes and the pairing goes on", async () => {
  const t = openingChat();
  const channel = await t.open();
  channel.onclose?.();
  assert.equal(t.printed.includes(FELL_BACK), false, "not at once");
  await fellBack(t);
  t.p2p.ended();
});

Deno.test("a pairing that talks end to end only never uses the server's relay, either way", () => {
  const printed: string[] = [];
  const sent: ClientMessage[] = [];
  const p2p = new P2pChat({
    createPeerConnection: () => {
      throw new Error("not reached: no link is negotiated here");
    },
    timeoutMs: 60_000,
    print: (line) => printed.push(line),
    send: (message) => sent.push(message) > 0,
  });
  p2p.endToEndOnly = true;
  // No channel is open (the code is still being checked): the line is not sent anywhere.
  assert.equal(p2p.send("secret plans"), true);
  assert.deepEqual(sent, []);
  assert.match(printed.at(-1) ?? "", /^\*\*\* Not sent: a pairing by code or by remembered device/);
  // A line the server relays could come from anyone on its path: it is not shown.
  assert.equal(p2p.take({ type: "relay", data: "forged", from: "partner" }), true);
  assert.ok(!printed.some((line) => line.includes("forged")));
  assert.match(printed.at(-1) ?? "", /^\*\*\* A line came through the server, not shown: /);
  // A pairing by id goes through the server as before.
  p2p.endToEndOnly = false;
  assert.equal(p2p.send("plain"), true);
  assert.deepEqual(sent, [{ type: "relay", data: "plain" }]);
});
