import assert from "node:assert/strict";
import { CodeSession, FAILED_UNPAIR_MS } from "../../lib/shared/code_session.js";
import type { CodeEvent, PairedLike } from "../../lib/shared/code_session.js";
import type { FingerprintBinding } from "../../lib/shared/code_exchange.js";
import { TAMPERED } from "../../lib/shared/code_exchange.js";
import { parseCode } from "../../lib/shared/pairing_code.js";
import type { PairingCode } from "../../lib/shared/pairing_code.js";

type Message = { type: string; [field: string]: unknown };
type Id = "alice" | "bob";

/** What one client did, as the test sees it. */
interface Side {
  session: CodeSession;
  /** Every message it sent to the server, in order. */
  sent: Message[];
  events: CodeEvent[];
  proven: { paired: PairedLike; binding: FingerprintBinding }[];
  /** How many times it called `leave`. */
  leaves: number;
  /** Resolves on its first `leave`. */
  left: Promise<void>;
  /** Whether its `send` reports a connection. */
  connected: boolean;
}

/** One message from the fake server, waiting for delivery to `to`. */
interface Delivery {
  to: Id;
  message: Message;
}

const other = (id: Id): Id => id === "alice" ? "bob" : "alice";

/**
 * Two code sessions, `alice` and `bob`, wired through a tiny fake server.
 * A client's `send` reaches the server at once; the server's answers wait in
 * `queue` until the test delivers them (`deliver`, `run`), in order.
 */
function wired() {
  const queue: Delivery[] = [];
  const make = (id: Id): Side => {
    let resolveLeft = () => {};
    const side: Side = {
      session: undefined as unknown as CodeSession,
      sent: [],
      events: [],
      proven: [],
      leaves: 0,
      left: new Promise<void>((resolve) => resolveLeft = resolve),
      connected: true,
    };
    side.session = new CodeSession({
      send: (message) => {
        if (!side.connected) return false;
        side.sent.push(message);
        serve(id, message);
        return true;
      },
      leave: () => {
        side.leaves++;
        resolveLeft();
      },
      proven: (paired, binding) => side.proven.push({ paired, binding }),
      onEvent: (event) => side.events.push(event),
    });
    return side;
  };
  /** The server's handling of a message from `from`. */
  const serve = (from: Id, message: Message) => {
    switch (message.type) {
      case "code_claim":
        queue.push({ to: from, message: { type: "nameplate", nameplate: "7", expires_s: 300 } });
        break;
      case "code_use":
        queue.push({
          to: from,
          message: { type: "paired", peer: other(from), initiator: true, by_code: true },
        });
        queue.push({
          to: other(from),
          message: { type: "paired", peer: from, initiator: false, by_code: true },
        });
        break;
      case "pake":
        queue.push({ to: other(from), message: { ...message, from } });
        break;
      case "code_release":
        break; // recorded in `sent`
      default:
        throw new Error(`the fake server does not know ${message.type}`);
    }
  };
  const sides: Record<Id, Side> = { alice: make("alice"), bob: make("bob") };
  /** Delivers the next waiting message; returns it. */
  const deliver = (): Delivery => {
    const delivery = queue.shift();
    assert.ok(delivery, "no message is waiting");
    const session = sides[delivery.to].session;
    if (delivery.message.type === "paired") {
      session.paired(delivery.message as unknown as PairedLike);
    } else {
      assert.equal(session.take(delivery.message), true, `not taken: ${delivery.message.type}`);
    }
    return delivery;
  };
  /** Delivers until nothing waits; returns what was delivered. */
  const run = (): Delivery[] => {
    const delivered: Delivery[] = [];
    while (queue.length > 0) delivered.push(deliver());
    return delivered;
  };
  return { queue, sides, deliver, run };
}

/** A wired pair in which alice shows a code (delivered); returns it with the code. */
function withShownCode() {
  const pair = wired();
  pair.sides.alice.session.claim();
  pair.run();
  const shown = pair.sides.alice.session.shown;
  assert.ok(shown !== undefined, "no code is shown");
  const code = parseCode(shown);
  assert.ok(code, `not a code: ${shown}`);
  return { ...pair, shown, code };
}

/** The same nameplate as `code` with a different password. */
function wrongCode(code: PairingCode): PairingCode {
  const password = code.password === "tidy-orbit" ? "tidy-owl" : "tidy-orbit";
  return { nameplate: code.nameplate, password };
}

/** A wired pair in which bob typed alice's code and both matched. */
function matched() {
  const pair = withShownCode();
  pair.sides.bob.session.use(pair.code);
  pair.run();
  assert.deepEqual(pair.sides.alice.events.at(-1), { kind: "matched", peer: "bob" });
  assert.deepEqual(pair.sides.bob.events.at(-1), { kind: "matched", peer: "alice" });
  return pair;
}

/** Resolves to whether `promise` settled within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const SDP = [
  "v=0",
  "s=-",
  "t=0 0",
  "a=fingerprint:sha-256 AA:BB",
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  "",
].join("\r\n");

Deno.test("a claim shows a code of the server's nameplate and a local password, and only the nameplate is sent", () => {
  const pair = wired();
  const alice = pair.sides.alice;
  alice.session.claim();
  assert.deepEqual(alice.sent, [{ type: "code_claim" }]);
  assert.equal(alice.session.shown, undefined, "shown before the nameplate came");
  assert.equal(alice.events.length, 0);
  pair.run();
  assert.equal(alice.events.length, 1);
  const event = alice.events[0];
  assert.ok(event?.kind === "code", JSON.stringify(event));
  assert.match(event.code, /^7-[a-z]+-[a-z]+$/);
  assert.equal(event.expiresS, 300);
  assert.equal(alice.session.shown, event.code);
  assert.ok(parseCode(event.code), "the shown code does not parse");
});

Deno.test("the holder's code typed by the other side is used, checked and matched on both sides, with bindings that interoperate", () => {
  const pair = withShownCode();
  const { alice, bob } = pair.sides;
  bob.session.use(pair.code);
  assert.deepEqual(bob.sent, [{ type: "code_use", nameplate: "7" }]);
  assert.deepEqual(bob.events, [{ kind: "using", code: pair.shown }]);
  pair.run();

  assert.deepEqual(alice.events.slice(1), [
    { kind: "checking", peer: "bob" },
    { kind: "matched", peer: "bob" },
  ]);
  assert.deepEqual(bob.events.slice(1), [
    { kind: "checking", peer: "alice" },
    { kind: "matched", peer: "alice" },
  ]);
  assert.equal(alice.session.shown, undefined, "the code is still shown once used");
  assert.equal(alice.proven.length, 1);
  assert.equal(bob.proven.length, 1);
  assert.equal(alice.proven[0]?.paired.peer, "bob");
  // The holder makes the offer once the code is proven: the roles turn round.
  assert.equal(alice.proven[0]?.paired.initiator, true);
  assert.equal(bob.proven[0]?.paired.peer, "alice");
  assert.equal(bob.proven[0]?.paired.initiator, false);
  assert.equal(alice.leaves + bob.leaves, 0);

  const initiator = bob.proven[0]?.binding;
  const responder = alice.proven[0]?.binding;
  assert.ok(initiator && responder);
  assert.equal(responder.check(SDP, initiator.proof(SDP)), true);
  assert.equal(initiator.check(SDP, responder.proof(SDP)), true);
  const changed = SDP.replace("AA:BB", "AA:BC");
  assert.equal(responder.check(changed, initiator.proof(SDP)), TAMPERED);

  // The password never went to the server.
  const password = pair.code.password;
  for (const message of [...alice.sent, ...bob.sent]) {
    assert.ok(!JSON.stringify(message).includes(password), JSON.stringify(message));
  }
});

Deno.test("a wrong password fails on both sides as wrong_code; the holder leaves at once, the typer does not", () => {
  const pair = withShownCode();
  const { alice, bob } = pair.sides;
  const typed = wrongCode(pair.code);
  bob.session.use(typed);
  pair.run();
  try {
    assert.deepEqual(alice.events.slice(1), [
      { kind: "checking", peer: "bob" },
      { kind: "failed", failure: "wrong_code", fromPartner: false, code: pair.shown },
    ]);
    assert.deepEqual(bob.events.slice(1), [
      { kind: "checking", peer: "alice" },
      {
        kind: "failed",
        failure: "wrong_code",
        fromPartner: false,
        code: `${typed.nameplate}-${typed.password}`,
      },
    ]);
    assert.equal(alice.proven.length + bob.proven.length, 0);
    assert.equal(alice.leaves, 1, "the holder did not leave at once");
    assert.equal(bob.leaves, 0, "the typer left at once");
  } finally {
    bob.session.ended(); // as the peer_left that follows the holder's leave would
  }
});

Deno.test("after a wrong password the typer leaves by itself once FAILED_UNPAIR_MS has passed, unless the pairing ended first", async () => {
  // Two pairings fail the same way; one of them ends (a peer_left) before the timer.
  const ending = withShownCode();
  ending.sides.bob.session.use(wrongCode(ending.code));
  ending.run();
  const lasting = withShownCode();
  lasting.sides.bob.session.use(wrongCode(lasting.code));
  const started = performance.now();
  lasting.run();
  try {
    for (const pair of [ending, lasting]) {
      assert.equal(pair.sides.bob.events.at(-1)?.kind, "failed");
      assert.equal(pair.sides.bob.leaves, 0, "the typer left at once");
    }
    ending.sides.bob.session.ended();

    assert.equal(
      await within(lasting.sides.bob.left, FAILED_UNPAIR_MS + 2000),
      true,
      "the typer did not leave by itself",
    );
    const waited = performance.now() - started;
    assert.ok(waited >= FAILED_UNPAIR_MS - 50, `left after only ${waited} ms`);
    assert.equal(lasting.sides.bob.leaves, 1);
    // The ended pairing's timer was set first, so it would have fired by now.
    assert.equal(ending.sides.bob.leaves, 0, "the typer left a pairing that had ended");
  } finally {
    ending.sides.bob.session.ended();
    lasting.sides.bob.session.ended();
  }
});

Deno.test("a pairing by a code this side neither shows nor typed is a stranger, and is left", () => {
  for (const initiator of [false, true]) {
    const pair = wired();
    const alice = pair.sides.alice;
    alice.session.paired({ type: "paired", peer: "bob", initiator, by_code: true });
    assert.deepEqual(alice.events, [{ kind: "stranger", peer: "bob" }], `initiator: ${initiator}`);
    assert.equal(alice.leaves, 1);
    assert.deepEqual(alice.sent, [], "the stranger was sent a pake");
  }
});

Deno.test("a pairing by id forgets the shown code silently, so a later pairing by code is a stranger", () => {
  const pair = withShownCode();
  const alice = pair.sides.alice;
  const before = alice.events.length;
  alice.session.paired({ type: "paired", peer: "carol", initiator: false });
  assert.equal(alice.session.shown, undefined);
  assert.equal(alice.events.length, before, "a pairing by id emitted an event");
  assert.equal(alice.leaves, 0);
  assert.deepEqual(alice.sent, [{ type: "code_claim" }]);

  alice.session.paired({ type: "paired", peer: "bob", initiator: false, by_code: true });
  assert.deepEqual(alice.events.slice(before), [{ kind: "stranger", peer: "bob" }]);
});

Deno.test("after a match, tampered() tells the partner, reports a failure and leaves; the partner reports it from the partner and leaves", () => {
  const pair = matched();
  const { alice, bob } = pair.sides;
  const aliceEvents = alice.events.length;
  const bobEvents = bob.events.length;
  const aliceSent = alice.sent.length;

  alice.session.tampered();
  assert.deepEqual(alice.sent.slice(aliceSent), [{ type: "pake", failure: "tampered" }]);
  assert.deepEqual(alice.events.slice(aliceEvents), [
    { kind: "failed", failure: "tampered", fromPartner: false, code: pair.shown },
  ]);
  assert.equal(alice.leaves, 1);
  assert.equal(bob.leaves, 0);

  const delivered = pair.run();
  assert.deepEqual(delivered, [
    { to: "bob", message: { type: "pake", failure: "tampered", from: "alice" } },
  ]);
  assert.deepEqual(bob.events.slice(bobEvents), [
    { kind: "failed", failure: "tampered", fromPartner: true, code: pair.shown },
  ]);
  assert.equal(bob.leaves, 1);
  assert.equal(alice.leaves, 1);
});

Deno.test("tampered() without a pairing by code sends, reports and leaves nothing", () => {
  const pair = wired();
  const alice = pair.sides.alice;
  alice.session.tampered();
  assert.deepEqual(alice.sent, []);
  assert.deepEqual(alice.events, []);
  assert.equal(alice.leaves, 0);
});

Deno.test("nameplate_expired for the shown nameplate reports the code expired and hides it; for another it does nothing", () => {
  const pair = withShownCode();
  const alice = pair.sides.alice;
  const before = alice.events.length;
  assert.equal(alice.session.take({ type: "nameplate_expired", nameplate: "8" }), true);
  assert.equal(alice.session.shown, pair.shown);
  assert.equal(alice.events.length, before, "another nameplate's expiry emitted an event");

  assert.equal(alice.session.take({ type: "nameplate_expired", nameplate: "7" }), true);
  assert.equal(alice.session.shown, undefined);
  assert.deepEqual(alice.events.slice(before), [{ kind: "expired", code: pair.shown }]);

  assert.equal(alice.session.take({ type: "nameplate_expired", nameplate: "7" }), true);
  assert.equal(alice.events.length, before + 1, "a second expiry emitted again");
});

Deno.test("a nameplate without a claim is taken but shows nothing, and other message types are not taken", () => {
  const pair = wired();
  const alice = pair.sides.alice;
  assert.equal(alice.session.take({ type: "nameplate", nameplate: "7", expires_s: 300 }), true);
  assert.equal(alice.session.shown, undefined);
  assert.deepEqual(alice.events, []);
  assert.equal(alice.session.take({ type: "offer", sdp: SDP, from: "bob" }), false);
  assert.equal(alice.session.take({ type: "paired", peer: "bob", initiator: true }), false);
  assert.deepEqual(alice.events, []);
  assert.deepEqual(alice.sent, []);
});

Deno.test("release() sends code_release only while a code is shown, and a pending claim's nameplate is then ignored", () => {
  const pair = wired();
  const alice = pair.sides.alice;
  alice.session.release();
  assert.equal(alice.sent.length, 0, "released with no code");

  alice.session.claim();
  alice.session.release(); // before the nameplate came
  assert.deepEqual(alice.sent, [{ type: "code_claim" }]);
  pair.run();
  assert.equal(alice.session.shown, undefined, "a released claim's code is shown");
  assert.deepEqual(alice.events, []);

  alice.session.claim();
  pair.run();
  assert.notEqual(alice.session.shown, undefined);
  alice.session.release();
  assert.deepEqual(alice.sent.map((message) => message.type), [
    "code_claim",
    "code_claim",
    "code_release",
  ]);
  assert.equal(alice.session.shown, undefined);
  alice.session.release();
  assert.equal(alice.sent.length, 3, "released twice");
});

Deno.test("claim() and use() while not connected change nothing", () => {
  const pair = wired();
  const { alice, bob } = pair.sides;
  alice.connected = false;
  alice.session.claim();
  assert.equal(alice.session.take({ type: "nameplate", nameplate: "7", expires_s: 300 }), true);
  assert.equal(alice.session.shown, undefined, "a claim that was not sent got a code");
  assert.deepEqual(alice.events, []);

  bob.connected = false;
  bob.session.use({ nameplate: "7", password: "tidy-orbit" });
  assert.deepEqual(bob.events, []);
  bob.session.paired({ type: "paired", peer: "alice", initiator: true, by_code: true });
  assert.deepEqual(bob.events, [{ kind: "stranger", peer: "alice" }]);
});

Deno.test("a pake from someone other than the partner is ignored", () => {
  const pair = withShownCode();
  const { alice, bob } = pair.sides;
  // Not paired yet: nothing to take it.
  assert.equal(alice.session.take({ type: "pake", failure: "tampered", from: "mallory" }), true);
  bob.session.use(pair.code);
  pair.deliver(); // bob's paired: his share is now waiting
  pair.deliver(); // alice's paired
  const aliceSent = alice.sent.length;
  assert.equal(alice.session.take({ type: "pake", failure: "tampered", from: "mallory" }), true);
  assert.equal(
    alice.session.take({ type: "pake", share: "04" + "ab".repeat(64), from: "mallory" }),
    true,
  );
  assert.equal(alice.sent.length, aliceSent, "alice answered mallory");
  pair.run();
  assert.deepEqual(alice.events.slice(1), [
    { kind: "checking", peer: "bob" },
    { kind: "matched", peer: "bob" },
  ]);

  // After the match, a stranger's failure does not end the pairing either.
  const before = alice.events.length;
  assert.equal(alice.session.take({ type: "pake", failure: "tampered", from: "mallory" }), true);
  assert.equal(alice.events.length, before);
  assert.equal(alice.leaves, 0);
  // While the partner's does.
  assert.equal(alice.session.take({ type: "pake", failure: "tampered", from: "bob" }), true);
  assert.equal(alice.events.at(-1)?.kind, "failed");
  assert.equal(alice.leaves, 1);
});

Deno.test("an exchange whose partner goes quiet ends after the timeout, and this side leaves", async () => {
  const events: CodeEvent[] = [];
  let resolveLeft = () => {};
  const left = new Promise<void>((resolve) => resolveLeft = resolve);
  const sent: string[] = [];
  const session = new CodeSession({
    send: (message) => sent.push(message.type) > 0,
    leave: () => resolveLeft(),
    proven: () => assert.fail("nothing is proven"),
    onEvent: (event) => events.push(event),
    exchangeTimeoutMs: 50,
  });
  session.use({ nameplate: "7", password: "tidy-orbit" });
  session.paired({ type: "paired", peer: "quiet", initiator: true, by_code: true });
  assert.deepEqual(sent, ["code_use", "pake"], "the first share went out, and nothing came back");
  assert.equal(await within(left, 5000), true, "it left within the timeout");
  assert.deepEqual(events.at(-1), {
    kind: "failed",
    failure: "timeout",
    fromPartner: false,
    code: "7-tidy-orbit",
  });
});
