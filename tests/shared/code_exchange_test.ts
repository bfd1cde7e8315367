import assert from "node:assert/strict";
import {
  CodeExchange,
  CodeFailure,
  failureMessage,
  fingerprintBinding,
  partnerFailure,
  TAMPERED,
} from "../../lib/shared/code_exchange.js";
import type { CodeOutcome, PakeMessage } from "../../lib/shared/code_exchange.js";
import type { PairingCode } from "../../lib/shared/pairing_code.js";

type Role = "initiator" | "responder";
type Binding = ReturnType<typeof fingerprintBinding>;

/** One message on its way, to the side named by `to`. */
interface Sent {
  to: Role;
  message: PakeMessage;
}

/**
 * Two exchanges whose messages wait in `queue` until delivered, so a test
 * sees (and may change) each one in order.
 */
function wired(initiatorCode: PairingCode, responderCode: PairingCode = initiatorCode) {
  const queue: Sent[] = [];
  const outcomes: Record<Role, CodeOutcome[]> = { initiator: [], responder: [] };
  const sides = {
    initiator: new CodeExchange({
      initiator: true,
      code: initiatorCode,
      send: (message) => queue.push({ to: "responder", message }),
      done: (outcome) => outcomes.initiator.push(outcome),
    }),
    responder: new CodeExchange({
      initiator: false,
      code: responderCode,
      send: (message) => queue.push({ to: "initiator", message }),
      done: (outcome) => outcomes.responder.push(outcome),
    }),
  };
  /** The next message, taken from the queue without delivering it. */
  const next = (): Sent => {
    const sent = queue.shift();
    assert.ok(sent, "no message is waiting");
    return sent;
  };
  /** Delivers the next message; returns it. */
  const deliver = (): Sent => {
    const sent = next();
    sides[sent.to].take(sent.message);
    return sent;
  };
  /** Delivers until none is waiting; returns what was delivered. */
  const run = (): Sent[] => {
    const delivered: Sent[] = [];
    while (queue.length > 0) delivered.push(deliver());
    return delivered;
  };
  return { queue, outcomes, sides, next, deliver, run };
}

const CODE: PairingCode = { nameplate: "7", password: "tidy-orbit" };

/** 32 bytes as colon-separated uppercase hex, as `a=fingerprint` shows them. */
const FINGERPRINT_A = Array.from(
  { length: 32 },
  (_, i) => (i * 7 + 3).toString(16).padStart(2, "0"),
)
  .join(":").toUpperCase();
const FINGERPRINT_B = Array.from(
  { length: 32 },
  (_, i) => (i * 11 + 5).toString(16).padStart(2, "0"),
)
  .join(":").toUpperCase();

function sdp(...fingerprints: string[]): string {
  return [
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    ...fingerprints.map((value) => `a=fingerprint:sha-256 ${value}`),
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "a=setup:actpass",
    "",
  ].join("\r\n");
}

/** `text` with the hex digit at `index` replaced by another. */
function changeDigit(text: string, index: number): string {
  const digit = text[index];
  assert.ok(digit !== undefined && /[0-9A-F]/.test(digit));
  return text.slice(0, index) + (digit === "0" ? "1" : "0") + text.slice(index + 1);
}

function binding(outcome: CodeOutcome | undefined): Binding {
  assert.ok(outcome?.ok, `not ok: ${JSON.stringify(outcome)}`);
  return outcome.binding;
}

/** Two bindings from one successful run with the same code. */
function pairedBindings(): { initiator: Binding; responder: Binding } {
  const pair = wired(CODE);
  pair.sides.initiator.start();
  pair.run();
  return {
    initiator: binding(pair.outcomes.initiator[0]),
    responder: binding(pair.outcomes.responder[0]),
  };
}

Deno.test("two sides with the same code exchange share, share and confirmation, then confirmation, and both succeed", () => {
  const pair = wired(CODE);
  assert.equal(pair.queue.length, 0);
  pair.sides.responder.start(); // only the initiator speaks first
  assert.equal(pair.queue.length, 0);
  pair.sides.initiator.start();

  const first = pair.deliver();
  assert.equal(first.to, "responder");
  assert.deepEqual(Object.keys(first.message).sort(), ["share", "type"]);
  assert.equal(first.message.type, "pake");
  assert.match(first.message.share ?? "", /^04[0-9a-f]{128}$/);
  assert.equal(pair.outcomes.initiator.length + pair.outcomes.responder.length, 0);

  const second = pair.deliver();
  assert.equal(second.to, "initiator");
  assert.deepEqual(Object.keys(second.message).sort(), ["confirm", "share", "type"]);
  assert.match(second.message.share ?? "", /^04[0-9a-f]{128}$/);
  assert.match(second.message.confirm ?? "", /^[0-9a-f]{64}$/);
  assert.notEqual(second.message.share, first.message.share);
  assert.equal(pair.outcomes.initiator.length, 1);
  assert.equal(pair.outcomes.initiator[0]?.ok, true);
  assert.equal(pair.outcomes.responder.length, 0);
  assert.equal(pair.sides.initiator.finished, true);
  assert.equal(pair.sides.responder.finished, false);

  const third = pair.deliver();
  assert.equal(third.to, "responder");
  assert.deepEqual(Object.keys(third.message).sort(), ["confirm", "type"]);
  assert.match(third.message.confirm ?? "", /^[0-9a-f]{64}$/);
  assert.notEqual(third.message.confirm, second.message.confirm);
  assert.equal(pair.outcomes.responder.length, 1);
  assert.equal(pair.outcomes.responder[0]?.ok, true);
  assert.equal(pair.sides.responder.finished, true);
  assert.equal(pair.queue.length, 0);
});

Deno.test("each side's proof of its description is accepted by the other side's check", () => {
  const { initiator, responder } = pairedBindings();
  const offer = sdp(FINGERPRINT_A);
  const answer = sdp(FINGERPRINT_B, FINGERPRINT_A);
  const offerProof = initiator.proof(offer);
  const answerProof = responder.proof(answer);
  assert.match(offerProof, /^[0-9a-f]{64}$/);
  assert.match(answerProof, /^[0-9a-f]{64}$/);
  assert.equal(responder.check(offer, offerProof), true);
  assert.equal(initiator.check(answer, answerProof), true);
  // Only the fingerprints count: other lines may change on the way.
  assert.equal(
    responder.check(offer.replace("a=setup:actpass", "a=setup:active"), offerProof),
    true,
  );
});

Deno.test("a proof fails for a description with one fingerprint digit changed", () => {
  const { initiator, responder } = pairedBindings();
  const offer = sdp(FINGERPRINT_A, FINGERPRINT_B);
  const proof = initiator.proof(offer);
  assert.equal(responder.check(offer, proof), true);
  for (
    const [changed, index] of [[FINGERPRINT_A, 0], [
      FINGERPRINT_B,
      FINGERPRINT_B.length - 1,
    ]] as const
  ) {
    const tampered = offer.replace(changed, changeDigit(changed, index));
    assert.notEqual(tampered, offer);
    assert.equal(responder.check(tampered, proof), TAMPERED);
  }
  // Nor may a fingerprint be dropped or added.
  assert.equal(responder.check(sdp(FINGERPRINT_A), proof), TAMPERED);
  assert.equal(
    responder.check(sdp(FINGERPRINT_A, FINGERPRINT_B, FINGERPRINT_A.replace("03", "04")), proof),
    TAMPERED,
  );
});

Deno.test("a proof fails the check of the side that made it", () => {
  const { initiator, responder } = pairedBindings();
  const description = sdp(FINGERPRINT_A);
  assert.equal(initiator.check(description, initiator.proof(description)), TAMPERED);
  assert.equal(responder.check(description, responder.proof(description)), TAMPERED);
  assert.equal(responder.check(description, initiator.proof(description)), true);
});

Deno.test("a proof from another run of the exchange, with the same code, fails", () => {
  const first = pairedBindings();
  const second = pairedBindings();
  const description = sdp(FINGERPRINT_A);
  assert.equal(second.responder.check(description, first.initiator.proof(description)), TAMPERED);
  assert.equal(second.responder.check(description, second.initiator.proof(description)), true);
});

Deno.test("a missing or odd proof fails the check", () => {
  const { initiator, responder } = pairedBindings();
  const description = sdp(FINGERPRINT_A);
  const proof = initiator.proof(description);
  assert.equal(responder.check(description, proof), true);
  const flipped = proof.slice(0, 10) + (proof[10] === "a" ? "b" : "a") + proof.slice(11);
  for (
    const odd of [
      undefined,
      null,
      "",
      42,
      { proof },
      [proof],
      proof.slice(0, 62),
      proof + "00",
      flipped,
      "0".repeat(64),
      "zz" + proof.slice(2),
    ]
  ) {
    assert.equal(responder.check(description, odd), TAMPERED, JSON.stringify(odd));
  }
});

Deno.test("a description without fingerprints can neither be proven nor checked", () => {
  const { initiator, responder } = pairedBindings();
  const bare = sdp();
  const proof = initiator.proof(bare);
  assert.doesNotMatch(proof, /^[0-9a-f]{64}$/);
  assert.equal(responder.check(bare, proof), TAMPERED);
  assert.equal(responder.check(bare, initiator.proof(sdp(FINGERPRINT_A))), TAMPERED);
  assert.equal(responder.check("", "0".repeat(64)), TAMPERED);
});

Deno.test("a wrong password ends the exchange as wrong_code on both sides, with no binding", () => {
  const pair = wired(CODE, { nameplate: "7", password: "tidy-oven" });
  pair.sides.initiator.start();
  const delivered = pair.run();
  assert.deepEqual(delivered.map((sent) => sent.to), ["responder", "initiator", "responder"]);
  // The initiator still sends its confirmation: that is how the responder learns.
  assert.match(delivered[2]?.message.confirm ?? "", /^[0-9a-f]{64}$/);
  assert.ok(delivered.every((sent) => sent.message.failure === undefined));
  const wrong = { ok: false, failure: CodeFailure.WrongCode, fromPartner: false };
  assert.deepEqual(pair.outcomes, { initiator: [wrong], responder: [wrong] });
  assert.equal(pair.sides.initiator.finished, true);
  assert.equal(pair.sides.responder.finished, true);
});

Deno.test("the same words under another nameplate are a wrong code too", () => {
  const pair = wired(CODE, { nameplate: "8", password: CODE.password });
  pair.sides.initiator.start();
  pair.run();
  const wrong = { ok: false, failure: "wrong_code", fromPartner: false };
  assert.deepEqual(pair.outcomes, { initiator: [wrong], responder: [wrong] });
});

const BAD_SHARES: Record<string, string> = {
  "not hex": "zz".repeat(65),
  "uppercase hex": "04" + "AB".repeat(64),
  "too short": "04" + "00".repeat(63),
  "too long": "04" + "00".repeat(65),
  "compressed": "02" + "00".repeat(32),
  "off the curve": "04" + "00".repeat(64),
  "not a point encoding": "05" + "11".repeat(64),
};

Deno.test("a malformed share makes the responder stop and tell the initiator, which stops too", () => {
  for (const [why, share] of Object.entries(BAD_SHARES)) {
    const pair = wired(CODE);
    pair.sides.initiator.start();
    pair.next(); // the real share is lost; a bad one arrives instead
    pair.sides.responder.take({ share });
    assert.deepEqual(
      pair.outcomes.responder,
      [{ ok: false, failure: "malformed", fromPartner: false }],
      why,
    );
    assert.equal(pair.outcomes.initiator.length, 0, why);
    const told = pair.deliver();
    assert.deepEqual(
      told,
      { to: "initiator", message: { type: "pake", failure: "malformed" } },
      why,
    );
    assert.deepEqual(
      pair.outcomes.initiator,
      [{ ok: false, failure: "malformed", fromPartner: true }],
      why,
    );
    assert.equal(pair.queue.length, 0, why);
  }
});

Deno.test("a malformed share makes the initiator stop and tell the responder, which stops too", () => {
  for (const [why, share] of Object.entries(BAD_SHARES)) {
    const pair = wired(CODE);
    pair.sides.initiator.start();
    pair.deliver();
    const reply = pair.next();
    assert.equal(reply.to, "initiator");
    pair.sides.initiator.take({ ...reply.message, share });
    assert.deepEqual(
      pair.outcomes.initiator,
      [{ ok: false, failure: "malformed", fromPartner: false }],
      why,
    );
    const told = pair.deliver();
    assert.deepEqual(
      told,
      { to: "responder", message: { type: "pake", failure: "malformed" } },
      why,
    );
    assert.deepEqual(
      pair.outcomes.responder,
      [{ ok: false, failure: "malformed", fromPartner: true }],
      why,
    );
    assert.equal(pair.queue.length, 0, why);
  }
});

Deno.test("a step out of order is malformed", () => {
  const steps: [string, (pair: ReturnType<typeof wired>) => void][] = [
    ["the responder gets a confirmation first", (pair) => {
      pair.next();
      pair.sides.responder.take({ confirm: "0".repeat(64) });
    }],
    ["the initiator gets a share without a confirmation", (pair) => {
      pair.deliver();
      const reply = pair.next();
      pair.sides.initiator.take({ share: reply.message.share });
    }],
    ["the responder gets a second share", (pair) => {
      const first = pair.deliver();
      pair.next();
      pair.sides.responder.take(first.message);
    }],
  ];
  for (const [why, step] of steps) {
    const pair = wired(CODE);
    pair.sides.initiator.start();
    step(pair);
    const stopped = [...pair.outcomes.initiator, ...pair.outcomes.responder];
    assert.deepEqual(stopped, [{ ok: false, failure: "malformed", fromPartner: false }], why);
    assert.deepEqual(pair.next().message, { type: "pake", failure: "malformed" }, why);
  }
});

Deno.test("a failure the partner reports ends the exchange, as reported", () => {
  for (const failure of Object.values(CodeFailure)) {
    const pair = wired(CODE);
    pair.sides.initiator.start();
    pair.next();
    pair.sides.responder.take(failureMessage(failure));
    assert.deepEqual(pair.outcomes.responder, [{ ok: false, failure, fromPartner: true }]);
    assert.equal(pair.queue.length, 0, "nothing is said back");
  }
});

Deno.test("messages after the end are ignored, and done is told exactly once", () => {
  const pair = wired(CODE);
  pair.sides.initiator.start();
  const [share, reply, confirm] = pair.run();
  assert.ok(share && reply && confirm);
  const late = [
    share.message,
    reply.message,
    confirm.message,
    { failure: "tampered" },
    { share: "zz" },
    {},
  ];
  for (const message of late) {
    pair.sides.initiator.take(message);
    pair.sides.responder.take(message);
  }
  pair.sides.initiator.start();
  assert.equal(pair.queue.length, 0);
  assert.equal(pair.outcomes.initiator.length, 1);
  assert.equal(pair.outcomes.responder.length, 1);
  assert.equal(pair.outcomes.initiator[0]?.ok, true);
  assert.equal(pair.outcomes.responder[0]?.ok, true);
});

Deno.test("messages after a failure are ignored, and done is told exactly once", () => {
  const pair = wired(CODE);
  pair.sides.initiator.start();
  const share = pair.next();
  pair.sides.responder.take({ share: "zz" });
  pair.next(); // the failure message
  pair.sides.responder.take(share.message);
  pair.sides.responder.take({ failure: "wrong_code" });
  assert.equal(pair.queue.length, 0);
  assert.deepEqual(pair.outcomes.responder, [{
    ok: false,
    failure: "malformed",
    fromPartner: false,
  }]);
});

Deno.test("partnerFailure names a known failure, counts an unknown one as malformed, and none as none", () => {
  for (const failure of Object.values(CodeFailure)) {
    assert.equal(partnerFailure({ failure }), failure);
    assert.equal(partnerFailure(failureMessage(failure)), failure);
  }
  assert.deepEqual(Object.values(CodeFailure).sort(), [
    "malformed",
    "tampered",
    "timeout",
    "wrong_code",
  ]);
  for (const unknown of ["??", "", "WRONG_CODE", 42, null, {}]) {
    assert.equal(partnerFailure({ failure: unknown }), "malformed", JSON.stringify(unknown));
  }
  assert.equal(partnerFailure({}), undefined);
  assert.equal(partnerFailure({ failure: undefined }), undefined);
});

Deno.test("failureMessage is a pake message that carries only the failure", () => {
  assert.deepEqual(failureMessage(CodeFailure.Tampered), { type: "pake", failure: "tampered" });
});

Deno.test("fingerprintBinding binds proofs to the key: another key's check refuses them", () => {
  const ke = new Uint8Array(16).fill(7);
  const other = new Uint8Array(16).fill(7);
  other[15] = 8;
  const description = sdp(FINGERPRINT_A);
  const proof = fingerprintBinding(ke, true).proof(description);
  assert.equal(fingerprintBinding(ke, false).check(description, proof), true);
  assert.equal(fingerprintBinding(other, false).check(description, proof), TAMPERED);
  assert.equal(fingerprintBinding(ke, true).proof(description), proof, "a proof is deterministic");
});
