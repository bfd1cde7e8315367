/**
 * werift peers and stand-ins for the tests of the werift patches: two peers
 * connected on loopback, their channels, and SCTP transports shaped like
 * werift's.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { loadWerift } from "../../lib/runtime/deps.ts";
import { loopbackPeerConfig } from "../../lib/cli/werift/warm_up.ts";
import { within } from "./helpers.ts";

/** A werift peer connection. */
export type Peer = InstanceType<Awaited<ReturnType<typeof loadWerift>>["RTCPeerConnection"]>;
/** A werift data channel. */
export type Channel = ReturnType<Peer["createDataChannel"]>;

/** Two werift peers in this process, connected on loopback, with a chat channel open. */
export async function connectedPair(werift: Awaited<ReturnType<typeof loadWerift>>) {
  const a = new werift.RTCPeerConnection(loopbackPeerConfig());
  const b = new werift.RTCPeerConnection(loopbackPeerConfig());
  const chat = a.createDataChannel("chat");
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await within(stateOf(chat, "open"), 10_000, "the chat channel to open");
  return {
    a,
    b,
    async [Symbol.asyncDispose]() {
      await Promise.allSettled([a.close(), b.close()]);
    },
  };
}

/** Resolves once `channel` is in `state`. */
export function stateOf(channel: Channel, state: string): Promise<void> {
  if (channel.readyState === state) return Promise.resolve();
  return new Promise((resolve) => {
    channel.stateChanged.subscribe((now) => {
      if (now === state) resolve();
    });
  });
}

/** The next channel `peer`'s partner opens with `label`. */
export function nextChannel(peer: Peer, label: string): Promise<Channel> {
  return new Promise((resolve) => {
    peer.onDataChannel.subscribe((channel) => {
      if (channel.label === label) resolve(channel);
    });
  });
}

/** A channel `pair.a` opens to `pair.b`, once open at both ends. */
export async function openChannel(
  pair: { a: Peer; b: Peer },
  label: string,
): Promise<{ ours: Channel; theirs: Channel }> {
  const arrived = nextChannel(pair.b, label);
  const ours = pair.a.createDataChannel(label);
  const theirs = await within(arrived, 5000, `the ${label} channel`);
  await within(stateOf(ours, "open"), 5000, `the ${label} channel to open`);
  return { ours, theirs };
}

/**
 * Sends `count` messages of 64 KiB (a byte pattern) from `from` at once,
 * and checks that `to` receives every one whole, in order.
 */
export async function sendsWhole(from: Channel, to: Channel, count: number): Promise<void> {
  const message = Buffer.from(new Uint8Array(64 * 1024).map((_, i) => i % 251));
  const received: Uint8Array[] = [];
  const all = new Promise<void>((resolve) =>
    to.onMessage.subscribe((data) => {
      if (received.push(data as Uint8Array) === count) resolve();
    })
  );
  for (let i = 0; i < count; i++) from.send(message);
  await within(all, 10_000, `${count} messages of 64 KiB`);
  for (const data of received) assert.deepEqual(data, message);
}

/** Whether a message goes from `from` to `to` and its echo back, on both ends of one channel. */
export async function echoes(from: Channel, to: Channel): Promise<void> {
  const echoed = new Promise<string>((resolve) =>
    from.onMessage.subscribe((m) => resolve(String(m)))
  );
  to.onMessage.subscribe((message) => to.send(`echo ${message}`));
  from.send("ping");
  assert.equal(await within(echoed, 5000, `an echo on ${from.label}`), "echo ping");
}

/** A module whose `RTCSctpTransport` is `transport`, for the checks of the fixes below. */
export const withTransport = (transport: unknown) => ({ RTCSctpTransport: transport }) as never;

/** A transport shaped like werift's that makes `Association` for its DTLS transport. */
export function transportMaking(Association: new () => object) {
  return class FakeSctpTransport {
    sctp: object | undefined;
    setDtlsTransport() {
      this.sctp = new Association();
    }
    dataChannelFlush() {}
  };
}
