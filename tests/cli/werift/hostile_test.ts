import assert from "node:assert/strict";
import { type Child, spawnPeer, testServer } from "../../support/helpers.ts";
import { eventually } from "../../support/hostile.ts";
import { type HostilePeer, hostilePeer } from "../../support/hostile_peer.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

// DCEP (RFC 8832) rides on SCTP payload protocol 50; its open acknowledgement is type 2.
const DCEP = 50;
const DCEP_ACK = Uint8Array.of(0x02);

/**
 * Stray SCTP input, each of which ended the CLI peer's process with an
 * uncaught error, and the warning it logs, if any (the rest are logged at
 * debug level, which the CLI does not show).
 */
const STRAY: [
  what: string,
  send: (hostile: HostilePeer, peer: Child) => Promise<void>,
  warning?: RegExp,
][] = [
  [
    "an open acknowledgement (DCEP ACK) on a stream no channel was opened on",
    (hostile) => hostile.sendOnStream(777, DCEP, DCEP_ACK),
  ],
  [
    "an open acknowledgement on a file channel it refused and closed",
    async (hostile, peer) => {
      const file = hostile.offer({ name: "refused.bin", size: 10 });
      await peer.waitForLine(/ offers refused\.bin /, "stdout");
      await peer.type("reject-file");
      await file.next(["file_reject"]);
      // The peer closes a refused channel its partner keeps, after --transfer-idle.
      await eventually(() => file.closed, 10_000, "the peer to close the refused channel");
      assert.notEqual(file.stream, undefined);
      await hostile.sendOnStream(file.stream ?? 0, DCEP, DCEP_ACK);
    },
  ],
  [
    "a message of an unknown payload protocol on the chat channel",
    (hostile) => hostile.sendOnStream(hostile.chatStream, 99, new TextEncoder().encode("?")),
  ],
  [
    "an SCTP packet with a wrong checksum",
    (hostile) => hostile.sendSctpPacket(new Uint8Array(16).fill(0xee)),
    /^\S+ WARNING: Dropped an SCTP packet from the partner that werift failed on: Error: SCTP packet has invalid checksum$/,
  ],
];

for (const [what, send, warning] of STRAY) {
  Deno.test({
    name: `a CLI peer sent ${what} ignores it and keeps chatting`,
    // The hostile peer runs werift in this process; it leaves timers and sockets behind.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await using t = testServer();
      await using peer = spawnPeer("--url", t.url, "--accept", "--transfer-idle", "1");
      const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout");
      await using hostile = await hostilePeer(t.url, peerId);
      await peer.waitForLine(/^\*\*\* Data channel open with /, "stdout", 20_000);
      await send(hostile, peer);
      // Both ways, after it: werift may handle a few packets before an
      // uncaught error ends the process.
      hostile.say("still there?");
      await peer.waitForLine(new RegExp(`^${hostile.id}: still there\\?$`), "stdout");
      await peer.type("send still here");
      await hostile.heard(new RegExp(`^${peerId}: still here$`)).catch((error) => {
        throw new Error(`${error.message}; the peer's stderr:\n${peer.stderr.join("\n")}`);
      });
      hostile.say("and now?");
      await peer.waitForLine(new RegExp(`^${hostile.id}: and now\\?$`), "stdout");
      assert.doesNotMatch(peer.stderr.join("\n"), /Uncaught|channel not found/);
      assert.deepEqual(
        peer.stderr.filter((line) => / WARNING: /.test(line)).map((line) => warning?.test(line)),
        warning ? [true] : [],
        peer.stderr.join("\n"),
      );
    },
  });
}
