import assert from "node:assert/strict";
import {
  passwordScalar,
  SPAKE2_M,
  SPAKE2_N,
  spake2Derive,
  spake2Start,
} from "../../lib/shared/spake2.js";

/** The P-256 group order. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const bytes = (text: string) => new TextEncoder().encode(text);

const hex = (data: Uint8Array) => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");

const unhex = (text: string) =>
  Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));

/** `len(field) || field`, with an 8-byte little-endian length, as hex. */
const field = (value: string) => {
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(value.length / 2), true);
  return hex(length) + value;
};

interface Vector {
  idA: string;
  idB: string;
  w: string;
  x: string;
  pA: string;
  y: string;
  pB: string;
  K: string;
  TT: string;
  HashTT: string;
  Ke: string;
  Ka: string;
  KcA: string;
  KcB: string;
  cA: string;
  cB: string;
}

/** RFC 9382, Appendix B: the four SPAKE2-P256-SHA256-HKDF-HMAC vectors (AAD empty). */
const VECTORS: Vector[] = [
  {
    idA: "server",
    idB: "client",
    w: "2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
    x: "43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729",
    pA:
      "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c",
    y: "dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be",
    pB:
      "0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7",
    K: "0412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325",
    TT:
      "06000000000000007365727665720600000000000000636c69656e74410000000000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b741000000000000000412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d332520000000000000002ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
    HashTT: "0e0672dc86f8e45565d338b0540abe6915bdf72e2b35b5c9e5663168e960a91b",
    Ke: "0e0672dc86f8e45565d338b0540abe69",
    Ka: "15bdf72e2b35b5c9e5663168e960a91b",
    KcA: "00c12546835755c86d8c0db7851ae86f",
    KcB: "a9fa3406c3b781b93d804485430ca27a",
    cA: "58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0",
    cB: "d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b",
  },
  {
    idA: "",
    idB: "client",
    w: "0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
    x: "403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b",
    pA:
      "04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a",
    y: "903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065",
    pB:
      "04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc",
    K: "048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa6",
    TT:
      "00000000000000000600000000000000636c69656e74410000000000000004a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a410000000000000004e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc4100000000000000048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa620000000000000000548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
    HashTT: "642f05c473c2cd79909f9a841e2f30a70bf89b18180af97353ba198789c2b963",
    Ke: "642f05c473c2cd79909f9a841e2f30a7",
    Ka: "0bf89b18180af97353ba198789c2b963",
    KcA: "c6be376fc7cd1301fd0a13adf3e7bffd",
    KcB: "b7243f4ae60440a49b3f8cab3c1fba07",
    cA: "47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b",
    cB: "3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df",
  },
  {
    idA: "server",
    idB: "",
    w: "626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
    x: "07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633",
    pA:
      "04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0",
    y: "b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16",
    pB:
      "040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db",
    K: "0445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe",
    TT:
      "06000000000000007365727665720000000000000000410000000000000004f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b04100000000000000040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db41000000000000000445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe2000000000000000626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
    HashTT: "005184ff460da2ce59062c87733c299c3521297d736598fc0a1127600efa1afb",
    Ke: "005184ff460da2ce59062c87733c299c",
    Ka: "3521297d736598fc0a1127600efa1afb",
    KcA: "f3da53604f0aeecea5a33be7bddf6edf",
    KcB: "9e3f86848736f159bd92b6e107ec6799",
    cA: "bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2",
    cB: "c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec",
  },
  {
    idA: "",
    idB: "",
    w: "7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
    x: "8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473",
    pA:
      "04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66",
    y: "d7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53",
    pB:
      "04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d",
    K: "041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e135543772",
    TT:
      "00000000000000000000000000000000410000000000000004a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66410000000000000004589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d4100000000000000041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e13554377220000000000000007bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
    HashTT: "fc6374762ba5cf11f4b2caa08b2cd1b9907ae0e26e8d6234318d91583cd74c86",
    Ke: "fc6374762ba5cf11f4b2caa08b2cd1b9",
    Ka: "907ae0e26e8d6234318d91583cd74c86",
    KcA: "5dbd2f477166b7fb6d61febbd77a5563",
    KcB: "7689b4654407a5faeffdc8f18359d8a3",
    cA: "dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca",
    cB: "d0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175",
  },
];

/** A full exchange between two fresh sides; the keys of each. */
function exchange(wA: bigint, wB: bigint, aad?: Uint8Array) {
  const ids = aad === undefined
    ? { idA: bytes("sender"), idB: bytes("receiver") }
    : { idA: bytes("sender"), idB: bytes("receiver"), aad };
  const a = spake2Start("A", wA);
  const b = spake2Start("B", wB);
  return { a: a.finish(b.share, ids), b: b.finish(a.share, ids) };
}

Deno.test("M and N are RFC 9382's points for P-256", () => {
  assert.equal(
    SPAKE2_M.toHex(true),
    "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f",
  );
  assert.equal(
    SPAKE2_N.toHex(true),
    "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49",
  );
});

for (const [index, v] of VECTORS.entries()) {
  Deno.test(`both sides reproduce RFC 9382 vector ${index + 1} (A='${v.idA}', B='${v.idB}')`, () => {
    // The vector's TT is the concatenation of its own fields: this is where
    // K and the 8-byte little-endian lengths are checked.
    assert.equal(
      v.TT,
      [bytes(v.idA), bytes(v.idB)].map(hex).concat(v.pA, v.pB, v.K, v.w).map(field).join(""),
    );
    const w = BigInt(`0x${v.w}`);
    const a = spake2Start("A", w, BigInt(`0x${v.x}`));
    const b = spake2Start("B", w, BigInt(`0x${v.y}`));
    assert.equal(hex(a.share), v.pA);
    assert.equal(hex(b.share), v.pB);

    const ids = { idA: bytes(v.idA), idB: bytes(v.idB) };
    const keysA = a.finish(b.share, ids);
    const keysB = b.finish(a.share, { ...ids, aad: new Uint8Array(0) });
    for (const keys of [keysA, keysB]) {
      assert.equal(hex(keys.transcript), v.TT);
      assert.equal(hex(keys.ke), v.Ke);
    }
    assert.equal(hex(keysA.confirmation), v.cA);
    assert.equal(hex(keysB.confirmation), v.cB);
    assert.ok(keysA.verify(unhex(v.cB)));
    assert.ok(keysB.verify(unhex(v.cA)));

    const schedule = spake2Derive(unhex(v.TT));
    assert.equal(hex(schedule.ke) + hex(schedule.ka), v.HashTT);
    assert.deepEqual(
      [schedule.ke, schedule.ka, schedule.kcA, schedule.kcB, schedule.cA, schedule.cB].map(hex),
      [v.Ke, v.Ka, v.KcA, v.KcB, v.cA, v.cB],
    );
  });
}

Deno.test("two sides with the same password agree on ke and accept each other's confirmation", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  const { a, b } = exchange(w, w);
  assert.deepEqual(a.ke, b.ke);
  assert.equal(a.ke.length, 16);
  assert.deepEqual(a.transcript, b.transcript);
  assert.ok(a.verify(b.confirmation));
  assert.ok(b.verify(a.confirmation));
  // Each side's own confirmation is not the one it expects back: no reflection.
  assert.ok(!a.verify(a.confirmation));
  assert.ok(!b.verify(b.confirmation));
});

Deno.test("two sides with different passwords get different keys and reject each other's confirmation", () => {
  const context = bytes("session 42");
  const { a, b } = exchange(
    passwordScalar(bytes("7-tidy-orbit"), context),
    passwordScalar(bytes("7-tidy-orbiT"), context),
  );
  assert.notDeepEqual(a.ke, b.ke);
  assert.equal(a.verify(b.confirmation), false);
  assert.equal(b.verify(a.confirmation), false);
});

Deno.test("the associated data is bound into the confirmation, not into ke", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  const ids = { idA: bytes("sender"), idB: bytes("receiver") };
  const a = spake2Start("A", w);
  const b = spake2Start("B", w);
  const keysA = a.finish(b.share, { ...ids, aad: bytes("v1") });
  const keysB = b.finish(a.share, { ...ids, aad: bytes("v2") });
  assert.deepEqual(keysA.ke, keysB.ke);
  assert.equal(keysA.verify(keysB.confirmation), false);
  assert.equal(keysB.verify(keysA.confirmation), false);
  const same = exchange(w, w, bytes("v1"));
  assert.ok(same.a.verify(same.b.confirmation));
});

Deno.test("verify() rejects a confirmation of the wrong length or with one bit changed", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  const { a, b } = exchange(w, w);
  const flipped = b.confirmation.slice();
  flipped[31] = (flipped[31] ?? 0) ^ 1;
  assert.equal(a.verify(flipped), false);
  assert.equal(a.verify(b.confirmation.subarray(0, 16)), false);
  assert.equal(a.verify(new Uint8Array(0)), false);
});

Deno.test("finish() throws a RangeError on a share that is not a valid P-256 point", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  const ids = { idA: bytes("sender"), idB: bytes("receiver") };
  const a = spake2Start("A", w);
  const valid = spake2Start("B", w).share;
  const offCurve = valid.slice();
  offCurve[64] = (offCurve[64] ?? 0) ^ 1;
  const coordinateTooBig = unhex("04" + "ff".repeat(64));
  const bad = [
    offCurve,
    coordinateTooBig,
    new Uint8Array([0]), // SEC1's encoding of the identity
    new Uint8Array(65), // no 0x04 prefix, and (0, 0) is not on the curve
    valid.subarray(0, 64),
    new Uint8Array([...valid, 0]),
    SPAKE2_N.toBytes(true), // a valid point, but compressed
    new Uint8Array(0),
  ];
  for (const share of bad) {
    assert.throws(() => a.finish(share, ids), RangeError, hex(share));
  }
  // None of those used up the exchange.
  assert.equal(a.finish(valid, ids).ke.length, 16);
});

Deno.test("finish() throws a RangeError when the peer's share makes K the identity", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  const ids = { idA: bytes("sender"), idB: bytes("receiver") };
  // pB = w*N leaves pB - w*N = identity, whatever A's secret.
  assert.throws(
    () => spake2Start("A", w).finish(SPAKE2_N.multiply(w).toBytes(false), ids),
    RangeError,
  );
  assert.throws(
    () => spake2Start("B", w).finish(SPAKE2_M.multiply(w).toBytes(false), ids),
    RangeError,
  );
});

Deno.test("finish() gives keys once per start: a second peer share is refused", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  const ids = { idA: bytes("sender"), idB: bytes("receiver") };
  const a = spake2Start("A", w);
  a.finish(spake2Start("B", w).share, ids);
  assert.throws(() => a.finish(spake2Start("B", w).share, ids), Error);
});

Deno.test("spake2Start() refuses a bad role and scalars out of range", () => {
  assert.throws(() => spake2Start("C" as "A", 1n), RangeError);
  for (const scalar of [0n, N, N + 1n, -1n]) {
    assert.throws(() => spake2Start("A", scalar), RangeError);
    assert.throws(() => spake2Start("B", 1n, scalar), RangeError);
  }
  assert.equal(spake2Start("A", N - 1n, N - 1n).share.length, 65);
});

Deno.test("spake2Start() draws a fresh secret each time: shares differ for the same password", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  const share = spake2Start("A", w).share;
  assert.equal(share.length, 65);
  assert.equal(share[0], 0x04);
  assert.notDeepEqual(spake2Start("A", w).share, share);
});

Deno.test("passwordScalar() is deterministic, in [1, n-1], and depends on password and context", () => {
  const w = passwordScalar(bytes("7-tidy-orbit"), bytes("session 42"));
  assert.equal(passwordScalar(bytes("7-tidy-orbit"), bytes("session 42")), w);
  assert.notEqual(passwordScalar(bytes("7-tidy-orbit"), bytes("session 43")), w);
  assert.notEqual(passwordScalar(bytes("7-tidy-orbiu"), bytes("session 42")), w);
  for (let i = 0; i < 50; i++) {
    const scalar = passwordScalar(bytes(String(i)), new Uint8Array(0));
    assert.ok(scalar >= 1n && scalar < N, String(i));
  }
});
