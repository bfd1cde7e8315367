import assert from "node:assert/strict";
import { TAMPERED } from "../../lib/shared/code_exchange.js";
import {
  deviceBinding,
  identityMac,
  keyChanged,
  keyThumbprint,
  newDeviceKeys,
  publicKeyHex,
  rememberingKeys,
  rendezvousOf,
} from "../../lib/shared/device_binding.js";

const FINGERPRINT = "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:" +
  "DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";
const SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n" +
  `a=fingerprint:sha-256 ${FINGERPRINT}\r\n` +
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
  "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:" +
  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n";
const NO_FINGERPRINT = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=application 9\r\n";

interface Device {
  keys: CryptoKeyPair;
  publicHex: string;
}

async function device(): Promise<Device> {
  const keys = await newDeviceKeys();
  return { keys, publicHex: await publicKeyHex(keys.publicKey) };
}

/** A laptop (the initiator) and a desk (the responder) that remember each other. */
async function rememberedPair() {
  const laptop = await device();
  const desk = await device();
  const initiator = deviceBinding({
    privateKey: laptop.keys.privateKey,
    publicHex: laptop.publicHex,
    partnerHex: desk.publicHex,
    partnerName: "desk",
    initiator: true,
  });
  const responder = deviceBinding({
    privateKey: desk.keys.privateKey,
    publicHex: desk.publicHex,
    partnerHex: laptop.publicHex,
    partnerName: "laptop",
    initiator: false,
  });
  return { laptop, desk, initiator, responder };
}

Deno.test("a description signed by either remembered device passes the other's check", async () => {
  const { initiator, responder } = await rememberedPair();
  assert.equal(await responder.check(SDP, await initiator.proof(SDP)), true);
  assert.equal(await initiator.check(SDP, await responder.proof(SDP)), true);
  // The partner's key is imported once and reused: a second check still passes.
  assert.equal(await initiator.check(SDP, await responder.proof(SDP)), true);
});

Deno.test("a proof is the signer's 32-hex key thumbprint, a dot, and a 128-hex signature", async () => {
  const { laptop, desk, initiator, responder } = await rememberedPair();
  for (const [binding, signer] of [[initiator, laptop], [responder, desk]] as const) {
    const proof = await binding.proof(SDP);
    assert.match(proof, /^[0-9a-f]{32}\.[0-9a-f]{128}$/);
    assert.equal(proof.split(".")[0], keyThumbprint(signer.publicHex));
  }
  assert.notEqual(keyThumbprint(laptop.publicHex), keyThumbprint(desk.publicHex));
});

Deno.test("the proof covers the fingerprints only: other lines, case and line endings may change", async () => {
  const { initiator, responder } = await rememberedPair();
  const proof = await initiator.proof(SDP);
  const rewritten = SDP.replace("o=- 1 2", "o=- 7 8").toLowerCase().replaceAll("\r\n", "\n");
  assert.equal(await responder.check(rewritten, proof), true);
});

Deno.test("a description whose fingerprints changed on the way is refused as tampered", async () => {
  const { initiator, responder } = await rememberedPair();
  const proof = await initiator.proof(SDP);
  const swapped = SDP.replace(FINGERPRINT, FINGERPRINT.replace("6B:8B", "6B:8C"));
  assert.notEqual(swapped, SDP);
  assert.equal(await responder.check(swapped, proof), TAMPERED);
  const added = SDP + "a=fingerprint:sha-256 01:02:03\r\n";
  assert.equal(await responder.check(added, proof), TAMPERED);
  const dropped = SDP.replace(`a=fingerprint:sha-256 ${FINGERPRINT}\r\n`, "");
  assert.notEqual(dropped, SDP);
  assert.equal(await responder.check(dropped, proof), TAMPERED);
});

Deno.test("a proof is for one role: a binding of the same role refuses it as tampered", async () => {
  const { laptop, desk, initiator, responder } = await rememberedPair();
  // The desk, confused into the initiator's role, checks the laptop's proof:
  // the key is the one it saved, but the signature says "initiator", not "responder".
  const deskAsInitiator = deviceBinding({
    privateKey: desk.keys.privateKey,
    publicHex: desk.publicHex,
    partnerHex: laptop.publicHex,
    partnerName: "laptop",
    initiator: true,
  });
  assert.equal(await deskAsInitiator.check(SDP, await initiator.proof(SDP)), TAMPERED);
  const laptopAsResponder = deviceBinding({
    privateKey: laptop.keys.privateKey,
    publicHex: laptop.publicHex,
    partnerHex: desk.publicHex,
    partnerName: "desk",
    initiator: false,
  });
  assert.equal(await laptopAsResponder.check(SDP, await responder.proof(SDP)), TAMPERED);
});

Deno.test("a proof signed by another key than the saved one is refused as a changed key", async () => {
  const { initiator, responder } = await rememberedPair();
  const stranger = await device();
  const impostor = deviceBinding({
    privateKey: stranger.keys.privateKey,
    publicHex: stranger.publicHex,
    partnerHex: (await device()).publicHex,
    partnerName: "anyone",
    initiator: false,
  });
  const proof = await impostor.proof(SDP);
  assert.equal(await initiator.check(SDP, proof), keyChanged("desk"));
  assert.match(keyChanged("desk"), /desk/);
  // Named with the saved key's thumbprint, the stranger's signature still fails.
  const [, signature] = proof.split(".");
  const relabelled = `${(await responder.proof(SDP)).split(".")[0]}.${signature}`;
  assert.equal(await initiator.check(SDP, relabelled), TAMPERED);
});

Deno.test("a proof that is not a string, or not a thumbprint and a valid signature, is refused as tampered", async () => {
  const { initiator, responder } = await rememberedPair();
  const proof = await initiator.proof(SDP);
  const [thumbprint = "", signature = ""] = proof.split(".");
  const flipped = (signature[0] === "0" ? "1" : "0") + signature.slice(1);
  for (const bad of [undefined, null, 42, {}, [proof], new TextEncoder().encode(proof)]) {
    assert.equal(await responder.check(SDP, bad), TAMPERED, `proof ${String(bad)}`);
  }
  for (
    const bad of [
      thumbprint,
      `${thumbprint}.`,
      `${thumbprint}.${signature.toUpperCase()}`,
      `${thumbprint}.${signature.slice(2)}`,
      `${thumbprint}.${signature}00`,
      `${thumbprint}.${"g".repeat(128)}`,
      `${thumbprint}.${"0".repeat(128)}`,
      `${thumbprint}.${flipped}`,
      // Garbled or padded proofs are tampering, not a changed key.
      "",
      "garbage",
      `${proof}.junk`,
      ` ${proof}`,
    ]
  ) {
    assert.equal(await responder.check(SDP, bad), TAMPERED, `proof ${bad}`);
  }
  // The untouched proof still passes: the refusals above are for what changed.
  assert.equal(await responder.check(SDP, proof), true);
});

Deno.test("a description without fingerprints is refused as tampered, even with its own signature", async () => {
  const { initiator, responder } = await rememberedPair();
  assert.equal(
    await responder.check(NO_FINGERPRINT, await initiator.proof(NO_FINGERPRINT)),
    TAMPERED,
  );
  assert.equal(await responder.check(NO_FINGERPRINT, await initiator.proof(SDP)), TAMPERED);
});

Deno.test("rendezvousOf() is 64 hex digits, the same for the same secret and another for another", () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const rendezvous = rendezvousOf(secret);
  assert.match(rendezvous, /^[0-9a-f]{64}$/);
  assert.equal(rendezvousOf(secret.slice()), rendezvous);
  const other = secret.slice();
  other[0] = (other[0] ?? 0) ^ 1;
  assert.notEqual(rendezvousOf(other), rendezvous);
});

Deno.test("rememberingKeys() derives the same keys from the same exchange key, and two distinct ones", () => {
  const ke = crypto.getRandomValues(new Uint8Array(32));
  const keys = rememberingKeys(ke);
  assert.deepEqual(rememberingKeys(ke.slice()), keys);
  assert.equal(keys.macKey.length, 32);
  assert.equal(keys.linkSecret.length, 32);
  assert.notDeepEqual(keys.macKey, keys.linkSecret);
  const other = rememberingKeys(crypto.getRandomValues(new Uint8Array(32)));
  assert.notDeepEqual(other.macKey, keys.macKey);
  assert.notDeepEqual(other.linkSecret, keys.linkSecret);
});

Deno.test("identityMac() is a hex HMAC that differs by role, by device key and by MAC key", async () => {
  const { macKey } = rememberingKeys(crypto.getRandomValues(new Uint8Array(32)));
  const { publicHex } = await device();
  const mac = identityMac(macKey, true, publicHex);
  assert.match(mac, /^[0-9a-f]{64}$/);
  assert.equal(identityMac(macKey.slice(), true, publicHex), mac);
  assert.notEqual(identityMac(macKey, false, publicHex), mac);
  assert.notEqual(identityMac(macKey, true, (await device()).publicHex), mac);
  const { macKey: otherKey } = rememberingKeys(crypto.getRandomValues(new Uint8Array(32)));
  assert.notEqual(identityMac(otherKey, true, publicHex), mac);
});

Deno.test("a saved partner key that cannot be read refuses, naming the device, rather than throwing", async () => {
  const laptop = await device();
  const desk = await device();
  const responder = deviceBinding({
    privateKey: desk.keys.privateKey,
    publicHex: desk.publicHex,
    partnerHex: `04${"00".repeat(64)}`,
    partnerName: "laptop",
    initiator: false,
  });
  const initiator = deviceBinding({
    privateKey: laptop.keys.privateKey,
    publicHex: `04${"00".repeat(64)}`,
    partnerHex: desk.publicHex,
    partnerName: "desk",
    initiator: true,
  });
  assert.equal(
    await responder.check(SDP, await initiator.proof(SDP)),
    "the key saved for laptop cannot be read",
  );
});
