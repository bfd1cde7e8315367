import assert from "node:assert/strict";
import { join } from "node:path";
import { type Child, spawnPeer, spawnPeerWith, testServer } from "../support/helpers.ts";

// werift leaves timers and sockets behind in the peer processes, never here:
// these tests only spawn processes and talk to them.

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;
const CHANNEL_OPEN = /^\*\*\* Data channel open with /;

/** A peer that may read and write its own devices folder, and nothing else. */
function devicePeer(dir: string, ...args: string[]): Child {
  return spawnPeerWith(
    { permissions: [`--allow-read=${dir}`, `--allow-write=${dir}`] },
    "--devices-dir",
    dir,
    // Last, where a code typed as an argument goes.
    ...args,
  );
}

/** Two peers paired by code, each remembering the other: `laptop` keeps `desk`, `desk` keeps `laptop`. */
async function rememberEachOther(url: string, laptopDir: string, deskDir: string): Promise<void> {
  await using laptop = devicePeer(laptopDir, "--url", url, "--code");
  const [, code = ""] = await laptop.waitForLine(
    /^\*\*\* Your code: (\d+-[a-z]+-[a-z]+) /,
    "stdout",
    15_000,
  );
  await using desk = devicePeer(deskDir, "--url", url, code);
  await laptop.waitForLine(CHANNEL_OPEN, "stdout", 20_000);
  await desk.waitForLine(CHANNEL_OPEN, "stdout", 20_000);
  await laptop.type("remember desk");
  await desk.waitForLine(/wants to remember this device: type remember <name>/, "stdout");
  await desk.type("remember laptop");
  await desk.waitForLine(/^\*\*\* Remembered \S+ as laptop \(key [0-9a-f]{32}\); /, "stdout");
  await laptop.waitForLine(/^\*\*\* Remembered \S+ as desk \(key [0-9a-f]{32}\); /, "stdout");
}

Deno.test("two terminals paired by code remember each other and, started again, meet without a code", async () => {
  await using t = testServer();
  const laptopDir = await Deno.makeTempDir({ prefix: "switchboard-laptop-" });
  const deskDir = await Deno.makeTempDir({ prefix: "switchboard-desk-" });
  try {
    await rememberEachOther(t.url, laptopDir, deskDir);
    // The device key is its owner's alone; the list names the partner with its key.
    assert.equal((await Deno.stat(join(laptopDir, "device-key.json"))).mode! & 0o777, 0o600);
    const devices = JSON.parse(await Deno.readTextFile(join(laptopDir, "devices.json")));
    assert.deepEqual(Object.keys(devices), ["desk"]);
    assert.match(devices.desk.key, /^04[0-9a-f]{128}$/);

    await using laptop = devicePeer(laptopDir, "--url", t.url, "--to", "desk");
    await laptop.waitForLine(
      /^\*\*\* Waiting for desk to come \(meet on it too\)/,
      "stdout",
      15_000,
    );
    await using desk = devicePeer(deskDir, "--url", t.url, "--to", "laptop");
    await desk.waitForLine(
      /^\*\*\* laptop is here \([0-9a-f-]{36}\); checking its key… \*\*\*$/,
      "stdout",
      15_000,
    );
    await laptop.waitForLine(CHANNEL_OPEN, "stdout", 20_000);
    await desk.waitForLine(CHANNEL_OPEN, "stdout", 20_000);
    await desk.type("send no code this time");
    await laptop.waitForLine(/: no code this time$/, "stdout");
    // The server saw a rendezvous, never a key or a secret.
    const secret = devices.desk.secret as string;
    assert.ok(!t.logs.lines.some((line) => line.includes(secret)));
  } finally {
    await Deno.remove(laptopDir, { recursive: true });
    await Deno.remove(deskDir, { recursive: true });
  }
});

Deno.test("a remembered device whose key changed is refused, loudly, and nothing connects", async () => {
  await using t = testServer();
  const laptopDir = await Deno.makeTempDir({ prefix: "switchboard-laptop-" });
  const deskDir = await Deno.makeTempDir({ prefix: "switchboard-desk-" });
  try {
    await rememberEachOther(t.url, laptopDir, deskDir);
    // The desk is set up again: a new key, the old record of the laptop kept.
    await Deno.remove(join(deskDir, "device-key.json"));
    await using laptop = devicePeer(laptopDir, "--url", t.url, "--to", "desk");
    await laptop.waitForLine(/^\*\*\* Waiting for desk/, "stdout", 15_000);
    await using desk = devicePeer(deskDir, "--url", t.url, "--to", "laptop");
    await laptop.waitForLine(
      /^\*\*\* REFUSED: the key of desk is not the one you remembered\. Someone may be pretending to be desk/,
      "stdout",
      20_000,
    );
    await desk.waitForLine(
      /^\*\*\* Refused by laptop: it did not accept this device's key/,
      "stdout",
    );
    for (const peer of [laptop, desk]) {
      assert.ok(!peer.stdout.some((line) => CHANNEL_OPEN.test(line)), "nothing connected");
    }
  } finally {
    await Deno.remove(laptopDir, { recursive: true });
    await Deno.remove(deskDir, { recursive: true });
  }
});

Deno.test("without its folder's permissions, remembering says which flags in one line; forget and devices answer", async () => {
  await using t = testServer();
  await using bare = spawnPeer("--url", t.url, "--devices-dir", "/tmp/switchboard-nowhere");
  await bare.waitForLine(ID_LINE, "stdout", 15_000);
  await bare.type("devices");
  await bare.waitForLine(
    /^\*\*\* Remembering devices needs --allow-read=\/tmp\/switchboard-nowhere --allow-write=\/tmp\/switchboard-nowhere \(or run: deno task peer-devices\) \*\*\*$/,
    "stdout",
  );
  const dir = await Deno.makeTempDir({ prefix: "switchboard-devices-" });
  try {
    await Deno.writeTextFile(
      join(dir, "devices.json"),
      JSON.stringify({
        desk: { key: `04${"ab".repeat(64)}`, secret: "cd".repeat(32), since: "x" },
      }),
    );
    await using peer = devicePeer(dir, "--url", t.url);
    await peer.waitForLine(ID_LINE, "stdout", 15_000);
    await peer.type("devices");
    await peer.waitForLine(/^\*\*\* desk: key [0-9a-f]{32}, since x \*\*\*$/, "stdout");
    await peer.type("remember desk");
    await peer.waitForLine(/^\*\*\* remember works while paired by code/, "stdout");
    await peer.type("forget desk");
    await peer.waitForLine(/^\*\*\* Forgot desk \*\*\*$/, "stdout");
    await peer.type("meet desk");
    await peer.waitForLine(
      /^\*\*\* No remembered device is named desk; devices lists them \*\*\*$/,
      "stdout",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
