/**
 * Every documented way to start the server in each mode (open, keys, TLS,
 * keys and TLS) works with exactly the permissions it documents: the
 * commands of docs/keys-and-tls.md and `deno.json`'s tasks, run as written from a folder
 * that holds the files.
 */

import assert from "node:assert/strict";
import { formatKeyFile, generateKey, hashKey } from "../../lib/auth/key_file.ts";
import { ROOT } from "../support/helpers.ts";
import { fromElsewhere, readmeCommands, ShellCommand } from "../support/readme.ts";
import { makeCertificate } from "../support/tls_cert.ts";

const SECTION = "Running the server in each mode";
const GUIDE = "docs/keys-and-tls.md";

/** A folder with a keys file, a certificate and its key, by the names the tasks read. */
async function modeFolder() {
  const cert = await makeCertificate();
  const key = generateKey();
  await Deno.writeTextFile(
    `${cert.dir}/switchboard-keys.json`,
    formatKeyFile([{ label: "acme", sha256: hashKey(key), createdAt: new Date().toISOString() }]),
  );
  return { dir: cert.dir, key, [Symbol.asyncDispose]: () => cert[Symbol.asyncDispose]() };
}

/** What a server started in each mode says about keys and TLS. */
function expected(command: string): { scheme: string; access: RegExp } {
  const keys = /--api-keys|server:keys/.test(command);
  const tls = /--tls-cert|:tls|\+tls/.test(command);
  return {
    scheme: tls ? "wss" : "ws",
    access: keys ? /INFO: Clients need an API key \(keys loaded: 1\)/ : /INFO: Open to any client/,
  };
}

Deno.test("deno.json has a task for each mode that reads files, and each grants read access to exactly the files it names", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  for (const name of ["server:keys", "server:tls", "server:keys+tls"]) {
    const task: string = tasks[name];
    assert.ok(task, `no task ${name}`);
    const granted = task.match(/--allow-read=(\S+)/)?.[1]?.split(",") ?? [];
    const named = [...task.matchAll(/--(?:api-keys|tls-cert|tls-key) (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(granted.toSorted(), named.toSorted(), name);
    assert.doesNotMatch(task, /--allow-(write|env|run|sys|all)|-A\b/, name);
  }
});

Deno.test("each documented task for a server mode starts the server in that mode from the folder that holds its files, and SIGHUP reaches it", async () => {
  const commands = (await readmeCommands(SECTION, GUIDE)).filter((c) => c.startsWith("deno task"));
  assert.deepEqual(commands, [
    "deno task server",
    "deno task server:keys",
    "deno task server:tls",
    "deno task server:keys+tls",
  ]);
  await using folder = await modeFolder();
  for (const command of commands) {
    const { scheme, access } = expected(command);
    await using server = new ShellCommand(
      `exec ${fromElsewhere(command, 0)} --host 127.0.0.1 --port 0`,
      folder.dir,
    );
    await server.waitForLine(new RegExp(`Server listening on ${scheme}://127\\.0\\.0\\.1:\\d+`));
    await server.waitForLine(access);
    if (command.includes("keys")) {
      // To the task's process, as an operator would send it.
      server.process.kill("SIGHUP");
      await server.waitForLine(/INFO: Reloaded switchboard-keys\.json: 1 key;/);
    }
    assert.deepEqual(server.stderr.filter((l) => /ERROR|WARN/.test(l)), [], command);
  }
});

Deno.test("each documented one-liner for files elsewhere starts the server in its mode with the permissions it grants", async () => {
  const commands = (await readmeCommands(SECTION, GUIDE)).filter((c) => c.startsWith("deno run"));
  assert.equal(commands.length, 3, commands.join("\n"));
  await using folder = await modeFolder();
  const env = {
    KEYS: `${folder.dir}/switchboard-keys.json`,
    CERT: `${folder.dir}/cert.pem`,
    KEY: `${folder.dir}/key.pem`,
  };
  for (const command of commands) {
    const { scheme, access } = expected(command);
    // Run from the checkout, as written; the variables name the files.
    await using server = new ShellCommand(
      `exec ${command} --host 127.0.0.1 --port 0`,
      ROOT,
      env,
    );
    await server.waitForLine(new RegExp(`Server listening on ${scheme}://127\\.0\\.0\\.1:\\d+`));
    await server.waitForLine(access);
    assert.deepEqual(server.stderr.filter((l) => /ERROR|WARN/.test(l)), [], command);
  }
});

Deno.test("deno task server --api-keys F stops with one line saying which permission it lacks, as the README says", async () => {
  await using folder = await modeFolder();
  await using server = new ShellCommand(
    `exec ${fromElsewhere("deno task server", 0)} --port 0 --api-keys switchboard-keys.json`,
    folder.dir,
  );
  assert.equal((await server.exit()).code, 1);
  assert.match(
    server.stderr.join("\n"),
    /ERROR: Cannot start: --api-keys switchboard-keys\.json needs --allow-read=switchboard-keys\.json$/m,
  );
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assert.ok(readme.includes("`--api-keys F needs --allow-read=F`"));
});
