import assert from "node:assert/strict";
import { join } from "node:path";
import {
  badDeviceName,
  defaultDevicesDir,
  DeviceStore,
  MAX_DEVICE_NAME,
  type RememberedDevice,
} from "../../../lib/cli/devices/store.ts";

const LAPTOP: RememberedDevice = {
  key: "04" + "ab".repeat(64),
  secret: "11".repeat(32),
  since: "2025-01-02T03:04:05.000Z",
};
const DESK: RememberedDevice = {
  key: "04" + "cd".repeat(64),
  secret: "22".repeat(32),
  since: "2025-02-03T04:05:06.000Z",
};

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (entry) => entry.name)).sort();
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test("defaultDevicesDir() is under XDG_CONFIG_HOME when set and not empty, else under HOME/.config", () => {
  assert.equal(
    defaultDevicesDir({ XDG_CONFIG_HOME: "/cfg", HOME: "/home/ana" }),
    "/cfg/switchboard",
  );
  assert.equal(defaultDevicesDir({ HOME: "/home/ana" }), "/home/ana/.config/switchboard");
  assert.equal(
    defaultDevicesDir({ XDG_CONFIG_HOME: "", HOME: "/home/ana" }),
    "/home/ana/.config/switchboard",
  );
});

Deno.test("badDeviceName() refuses empty, blank, too long and control or bidi characters", () => {
  assert.equal(MAX_DEVICE_NAME, 40);
  assert.match(badDeviceName("") ?? "", /needs a name/);
  assert.match(badDeviceName("   ") ?? "", /needs a name/);
  assert.match(badDeviceName("a".repeat(41)) ?? "", /at most 40 characters/);
  for (const name of ["bad\u0007", "tab\there", "new\nline", "del\u007f", "c1\u0085"]) {
    assert.match(badDeviceName(name) ?? "", /control/, JSON.stringify(name));
  }
  // A right-to-left override makes "phone\u202Etxt.exe" show as "phoneexe.txt".
  assert.match(badDeviceName("phone\u202Etxt.exe") ?? "", /control/);
  assert.match(badDeviceName("a\u2066b") ?? "", /control/);
});

Deno.test("badDeviceName() accepts an ordinary name of 1 to 40 characters, counted as characters", () => {
  assert.equal(badDeviceName("Ana's phone"), undefined);
  assert.equal(badDeviceName("a"), undefined);
  assert.equal(badDeviceName("a".repeat(40)), undefined);
  // 40 characters, 80 UTF-16 code units.
  assert.equal(badDeviceName("\u{1F4F1}".repeat(40)), undefined);
  assert.equal(badDeviceName("Café de Ana"), undefined);
});

Deno.test("key() makes device-key.json for its owner alone, and the same key comes back after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-store-" });
  try {
    const store = new DeviceStore(dir);
    assert.equal(store.dir, dir);
    const first = await store.key();
    assert.match(first.publicHex, /^04[0-9a-f]{128}$/);
    const path = join(dir, "device-key.json");
    assert.equal(await mode(path), 0o600);
    assert.equal((await store.key()).publicHex, first.publicHex);
    // A new process reads the same file.
    const restarted = await new DeviceStore(dir).key();
    assert.equal(restarted.publicHex, first.publicHex);
    assert.deepEqual(await names(dir), ["device-key.json"]);
    // Another folder, another device.
    const elsewhere = await Deno.makeTempDir({ prefix: "switchboard-store-" });
    try {
      assert.notEqual((await new DeviceStore(elsewhere).key()).publicHex, first.publicHex);
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("key() gives a non-extractable private key whose signatures verify with its public key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-store-" });
  try {
    for (const store of [new DeviceStore(dir), new DeviceStore(dir)]) {
      const { privateKey, publicHex } = await store.key();
      assert.equal(privateKey.extractable, false);
      assert.deepEqual(privateKey.usages, ["sign"]);
      await assert.rejects(crypto.subtle.exportKey("jwk", privateKey));
      const publicKey = await crypto.subtle.importKey(
        "raw",
        fromHex(publicHex),
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      );
      const signing = { name: "ECDSA", hash: "SHA-256" };
      const data = new TextEncoder().encode("switchboard device test");
      const signature = await crypto.subtle.sign(signing, privateKey, data);
      assert.equal(await crypto.subtle.verify(signing, publicKey, signature, data), true);
      const other = new TextEncoder().encode("switchboard device tesT");
      assert.equal(await crypto.subtle.verify(signing, publicKey, signature, other), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remember, devices and forget round-trip through devices.json, for its owner alone, with no .tmp left", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-store-" });
  try {
    const store = new DeviceStore(dir);
    assert.deepEqual(await store.devices(), {});
    await store.remember("laptop", LAPTOP);
    await store.remember("Ana's desk", DESK);
    assert.deepEqual(await names(dir), ["devices.json"]);
    assert.equal(await mode(join(dir, "devices.json")), 0o600);
    assert.deepEqual(await new DeviceStore(dir).devices(), { laptop: LAPTOP, "Ana's desk": DESK });

    // Remembered again under the same name: replaced.
    await store.remember("laptop", DESK);
    assert.deepEqual(await store.devices(), { laptop: DESK, "Ana's desk": DESK });

    assert.equal(await store.forget("laptop"), true);
    assert.deepEqual(await store.devices(), { "Ana's desk": DESK });
    assert.equal(await store.forget("laptop"), false);
    assert.equal(await store.forget("nobody"), false);
    assert.equal(await store.forget("toString"), false);
    assert.deepEqual(await store.devices(), { "Ana's desk": DESK });
    assert.deepEqual(await names(dir), ["devices.json"]);
    assert.equal(await mode(join(dir, "devices.json")), 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a devices.json that is not an object reads as no devices", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-store-" });
  try {
    const store = new DeviceStore(dir);
    for (const text of ["[]", "null", "42", '"laptop"']) {
      await Deno.writeTextFile(join(dir, "devices.json"), text);
      assert.deepEqual(await store.devices(), {}, text);
    }
    await Deno.writeTextFile(join(dir, "devices.json"), "{ not json");
    await assert.rejects(store.devices(), SyntaxError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a folder that does not exist yet is made, for its owner alone, on the first write only", async () => {
  const root = await Deno.makeTempDir({ prefix: "switchboard-store-" });
  try {
    const dir = join(root, "config", "switchboard");
    const store = new DeviceStore(dir);
    assert.deepEqual(await store.devices(), {});
    assert.equal(await store.forget("laptop"), false);
    await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);

    await store.remember("laptop", LAPTOP);
    assert.equal((await Deno.stat(dir)).isDirectory, true);
    assert.equal(await mode(dir), 0o700);
    assert.deepEqual(await store.devices(), { laptop: LAPTOP });

    const keyDir = join(root, "other");
    await new DeviceStore(keyDir).key();
    assert.deepEqual(await names(keyDir), ["device-key.json"]);
    assert.equal(await mode(join(keyDir, "device-key.json")), 0o600);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("allowed() passes when the process may read and write the folder", async () => {
  // Tests run with -A, so this can only show the check passes; the refusal, with
  // the flags it names, is tested with a real subprocess in tests/cli/devices_test.ts.
  const dir = await Deno.makeTempDir({ prefix: "switchboard-store-" });
  try {
    await new DeviceStore(dir).allowed();
    await new DeviceStore(join(dir, "not-yet")).allowed();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
