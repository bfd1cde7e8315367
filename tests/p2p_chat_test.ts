import assert from "node:assert/strict";
import type { ClientMessage } from "../lib/protocol.ts";
import { P2pChat } from "../lib/webrtc/p2p_chat.ts";
import type { PeerConnectionLike } from "../lib/web/peer_link.js";

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
