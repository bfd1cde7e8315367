import assert from "node:assert/strict";
import { type ClientOptions, runClient } from "../../lib/cli/run.ts";
import { MAX_QUEUED_COMMANDS } from "../../lib/cli/script.ts";
import { MAX_REMEMBERED_REQUESTS } from "../../lib/cli/state.ts";
import { setupLogging } from "../../lib/runtime/logging.ts";
import {
  Child,
  LogCapture,
  spawnServer,
  TestClient,
  testServer,
  within,
} from "../support/helpers.ts";
import { makeCertificate } from "../support/tls_cert.ts";

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

/** `deno run --allow-net --no-prompt client.ts ...args`: nothing but the network. */
function spawnClient(...args: string[]): Child {
  return new Child(["run", "--allow-net", "--no-prompt", "client.ts", ...args]);
}

/** As `spawnClient`, with a stdin to type commands into. */
function spawnTypedClient(...args: string[]): Child {
  return new Child(["run", "--allow-net", "--no-prompt", "client.ts", ...args], undefined, true);
}

/** A port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("client --once prints exactly the id line on stdout and exits 0", async () => {
  await using t = testServer();
  await using client = spawnClient("--once", "--url", t.url);
  const status = await client.exit();
  assert.equal(status.code, 0, client.stderr.join("\n"));
  assert.equal(client.stdout.length, 1);
  const id = client.stdout[0]?.match(ID_LINE)?.[1];
  assert.ok(id, client.stdout[0]);
  await t.logs.waitFor(new RegExp(`Client ${id} disconnected \\(code 1000, clean\\)`));
  const log = client.stderr.join("\n");
  assert.match(log, /INFO: Connecting to server at ws:\/\/127\.0\.0\.1:\d+\.\.\./);
  assert.match(log, /INFO: Connected to server\./);
  assert.deepEqual(client.stderr.slice(-2).map((l) => l.replace(/^\S+ /, "")), [
    "INFO: Disconnecting...",
    "INFO: Client shut down.",
  ]);
});

Deno.test("client stays connected until Ctrl+C, then closes with 1000 and exits 0", async () => {
  await using t = testServer();
  await using client = spawnClient("--url", t.url);
  const [, id] = await client.waitForLine(ID_LINE, "stdout");
  client.process.kill("SIGINT");
  assert.equal((await client.exit()).code, 0);
  await t.logs.waitFor(new RegExp(`Client ${id} disconnected \\(code 1000, clean\\)`));
  assert.match(client.stderr.join("\n"), /Disconnecting\.\.\.\n.*Client shut down\.$/);
});

Deno.test("client exits 1 with one clear line when the connection is refused, asking whether the server runs", async () => {
  const url = `ws://127.0.0.1:${closedPort()}`;
  await using client = spawnClient("--url", url);
  assert.equal((await client.exit()).code, 1);
  const log = client.stderr.join("\n");
  assert.match(
    log,
    new RegExp(
      `ERROR: Failed to connect to ${url}: connection refused \\(is the server running\\? Start one with: deno task server\\)$`,
      "m",
    ),
  );
  assert.match(log, /Disconnecting\.\.\.\n.*Client shut down\.$/);
  assert.doesNotMatch(log, /^\s+at /m, "no stack trace");
  assert.deepEqual(client.stdout, []);
});

Deno.test("client pointed with ws:// at a TLS server says to try wss://", async () => {
  await using cert = await makeCertificate();
  await using t = testServer({ tls: { cert: cert.cert, key: cert.key } });
  const url = `ws://127.0.0.1:${t.port}`;
  await using client = spawnClient("--url", url);
  assert.equal((await client.exit()).code, 1);
  assert.match(
    client.stderr.join("\n"),
    new RegExp(
      `ERROR: Failed to connect to ${url}: the server speaks TLS \\(HTTP could not be parsed\\): try wss://127\\.0\\.0\\.1:${t.port}$`,
      "m",
    ),
  );
});

Deno.test("client pointed with wss:// at a plain server says to try ws://", async () => {
  await using t = testServer();
  const url = `wss://127.0.0.1:${t.port}/`;
  await using client = spawnClient("--url", url);
  assert.equal((await client.exit()).code, 1);
  assert.match(
    client.stderr.join("\n"),
    new RegExp(
      `ERROR: Failed to connect to ${url}: the server does not speak TLS: try ws://127\\.0\\.0\\.1:${t.port}/$`,
      "m",
    ),
  );
});

Deno.test("client exits 1 with 'unknown host' for a name that does not resolve", async () => {
  await using client = spawnClient("--url", "ws://no-such-host.invalid:8765");
  assert.equal((await client.exit()).code, 1);
  assert.match(client.stderr.join("\n"), /Failed to connect to .*: unknown host$/m);
});

Deno.test("client exits 1 with the unexpected-close line, code 1006, when the server process dies", async () => {
  const server = await spawnServer();
  await using _ = server.child;
  await using client = spawnClient("--url", server.url);
  await client.waitForLine(ID_LINE, "stdout");
  server.child.process.kill("SIGKILL");
  assert.equal((await client.exit()).code, 1);
  const log = client.stderr.join("\n");
  // Deno reports 0 for a connection that ended without a close frame; RFC 6455 calls it 1006.
  assert.match(log, /ERROR: Connection closed unexpectedly: code 1006 reason \(none\)$/m);
  assert.doesNotMatch(log, /^\s+at /m, "no stack trace");
});

Deno.test("client logs unhandled types and invalid JSON, keeps going, and shows a server error once, on stdout", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      socket.send('{"type":"mystery"}');
      socket.send("not json");
      socket.send('{"type":"error","code":"x","message":"boom"}');
      socket.send('{"type":"your_id","id":"4e2a5e4c-3c5b-4a0e-9f67-1f0b1c2d3e4f"}');
    };
    return response;
  });
  try {
    await using client = spawnClient("--once", "--url", `ws://127.0.0.1:${server.addr.port}`);
    assert.equal((await client.exit()).code, 0);
    assert.deepEqual(client.stdout, [
      "*** Error (x): boom ***",
      "*** Your Client ID: 4e2a5e4c-3c5b-4a0e-9f67-1f0b1c2d3e4f ***",
    ]);
    const log = client.stderr.join("\n");
    assert.match(log, /WARNING: Unhandled message type: mystery$/m);
    assert.match(log, /ERROR: Invalid message from server \(not valid JSON\): not json$/m);
    assert.doesNotMatch(log, /boom/, "an error shown to the user is not logged again");
  } finally {
    await server.shutdown();
  }
});

Deno.test("the server logs a client process that died as code 1006, abrupt, as the client would", async () => {
  await using t = testServer();
  await using client = spawnClient("--url", t.url);
  const [, id] = await client.waitForLine(ID_LINE, "stdout");
  client.process.kill("SIGKILL");
  await client.exit();
  await t.logs.waitFor(new RegExp(`Client ${id} disconnected \\(code 1006, abrupt\\)\\.`));
});

Deno.test("client --reconnect reconnects to a restarted server and prints a new id", async () => {
  const first = await spawnServer();
  await using client = spawnClient("--reconnect", "--retry-delay", "0.05", "--url", first.url);
  const [, firstId] = await client.waitForLine(ID_LINE, "stdout");
  first.child.process.kill("SIGKILL");
  await first.child.exit();
  await client.waitForLine(/Connection closed unexpectedly/);
  await client.waitForLine(/Reconnecting in [\d.]+ s \(retry 1 of 10\)/);
  // The same port again: the client must find the new server there.
  const second = await spawnServer([], first.port);
  const [, secondId] = await client.waitForLine(ID_LINE, "stdout", 10_000, 2);
  assert.notEqual(secondId, firstId);
  // A good connection starts the count again: the next loss is retry 1 once more.
  second.child.process.kill("SIGKILL");
  await second.child.exit();
  await client.waitForLine(/Reconnecting in [\d.]+ s \(retry 1 of 10\)/, "stderr", 10_000, 2);
  client.process.kill("SIGINT");
  assert.equal((await client.exit()).code, 0);
});

Deno.test("client --reconnect gives up after --max-retries refused attempts", async () => {
  const url = `ws://127.0.0.1:${closedPort()}`;
  await using client = spawnClient(
    "--reconnect",
    "--retry-delay",
    "0.01",
    "--max-retries",
    "3",
    "--url",
    url,
  );
  assert.equal((await client.exit()).code, 1);
  const log = client.stderr.join("\n");
  // The first attempt and three retries.
  assert.equal(log.match(/Failed to connect to .*: connection refused/g)?.length, 4);
  assert.match(log, /Reconnecting in [\d.]+ s \(retry 3 of 3\)/);
  assert.doesNotMatch(log, /retry 4 of/);
  assert.match(log, /ERROR: Giving up after 4 attempts\./);
});

Deno.test("runClient() stops retrying and returns 0 when aborted", async () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const stop = new AbortController();
  const printed: string[] = [];
  const done = runClient(
    {
      url: `ws://127.0.0.1:${closedPort()}`,
      once: false,
      reconnect: true,
      retryDelay: 60,
      maxRetries: 10,
      pair: undefined,
      accept: false,
    },
    { print: (line) => printed.push(line), signal: stop.signal, random: () => 0 },
  );
  // --retry-delay 60 waits a minute (and up to half again) before the first retry.
  await logs.waitFor(/Reconnecting in 60 s \(retry 1 of 10\)/);
  stop.abort();
  assert.equal(await within(done, 5000, "runClient to return"), 0);
  assert.deepEqual(printed, []);
});

Deno.test("client refuses a --url that is not ws:// or wss:// with usage and exit 2, without connecting", async () => {
  for (const url of ["http://127.0.0.1:1", "127.0.0.1:8765", "ws://", "ws://h/#x"]) {
    await using client = spawnClient("--reconnect", "--url", url);
    assert.equal((await client.exit()).code, 2, url);
    const log = client.stderr.join("\n");
    assert.match(log, /^--url /m, url);
    assert.match(log, /Usage: deno run --allow-net client\.ts/);
    assert.doesNotMatch(log, /Connecting|Reconnecting/);
  }
});

Deno.test("client rejects an unknown flag with usage and exit 2", async () => {
  await using client = spawnClient("--bogus");
  assert.equal((await client.exit()).code, 2);
  assert.match(client.stderr.join("\n"), /Usage: deno run --allow-net client\.ts/);
});

/** The options runClient takes, for `url`, with nothing switched on. */
function clientOptions(url: string): ClientOptions {
  return {
    url,
    once: false,
    reconnect: false,
    retryDelay: 0.5,
    maxRetries: 10,
    pair: undefined,
    accept: false,
  };
}

/**
 * A real WebSocket server that plays a script to one client: `onOpen` gets the
 * socket once open, every message the client sends is recorded, parsed, and
 * `closed` resolves when the connection ends (after every message it carried).
 */
function scriptedServer(onOpen: (socket: WebSocket) => void) {
  const received: Record<string, unknown>[] = [];
  let closed = (): void => {};
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onopen = () => onOpen(socket);
    socket.onmessage = (event) => received.push(JSON.parse(event.data));
    socket.onclose = () => closed();
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    received,
    server,
    closed: new Promise<void>((resolve) => closed = resolve),
  };
}

/** Resolves once `predicate` holds for a printed line. */
function printer() {
  const printed: string[] = [];
  let wake = (): void => {};
  return {
    printed,
    print: (line: string) => {
      printed.push(line);
      wake();
    },
    async until(predicate: (line: string) => boolean): Promise<void> {
      while (!printed.some(predicate)) {
        await within(new Promise<void>((resolve) => wake = resolve), 5000, "a printed line");
      }
    },
  };
}

/** Runs the client at `url` with `input` for its typed lines; resolves once the input ends it. */
function runToEndOfInput(
  url: string,
  out: ReturnType<typeof printer>,
  input: AsyncIterable<string>,
): Promise<number> {
  return within(
    runClient(clientOptions(url), {
      print: out.print,
      signal: new AbortController().signal,
      input,
    }),
    5000,
    "runClient to quit at the end of input",
  );
}

const ID = "4e2a5e4c-3c5b-4a0e-9f67-1f0b1c2d3e4f";

Deno.test("client runs commands piped before the id once it arrives, then quits at the end of input", async () => {
  await using t = testServer();
  const target = await TestClient.connect(t.url);
  await using _ = target.client;
  await using client = spawnTypedClient("--url", t.url);
  // Written and closed at once: the client reads these before its connection opens.
  await client.type(`pair ${target.id}`);
  await client.process.stdin.close();
  const request = await target.client.next() as { type: string; from: string };
  assert.equal(request.type, "pair_request");
  // The script waits for the answer before it ends.
  target.client.send({ type: "pair_reject", from: request.from });
  assert.equal((await client.exit()).code, 0, client.stderr.join("\n"));
  const id = client.stdout[0]?.match(ID_LINE)?.[1];
  assert.equal(id, request.from, client.stdout.join("\n"));
  assert.deepEqual(client.stdout.slice(1).filter((line) => !/ Asked /.test(line)), [
    "*** Type help for the commands ***",
    `*** Pair request to ${target.id} ended (rejected) ***`,
  ]);
  await t.logs.waitFor(new RegExp(`Client ${id} disconnected \\(code 1000, clean\\)`));
});

Deno.test("client runs a piped quit only after the commands queued before it", async () => {
  await using t = testServer();
  const target = await TestClient.connect(t.url);
  await using _ = target.client;
  await using client = spawnTypedClient("--url", t.url);
  await client.type(`pair ${target.id}\nquit`);
  // Input stays open: it is the quit that ends the client, once the pair is answered.
  const request = await target.client.next() as { type: string; from: string };
  assert.equal(request.type, "pair_request");
  target.client.send({ type: "pair_reject", from: request.from });
  assert.equal((await client.exit()).code, 0, client.stderr.join("\n"));
  assert.doesNotMatch(client.stdout.join("\n"), /Not connected/);
});

Deno.test("runClient() reads no further input while MAX_QUEUED_COMMANDS commands wait, and drops none", async () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  let release = (): void => {};
  const inputRead = new Promise<void>((resolve) => release = resolve);
  const script = scriptedServer(async (socket) => {
    await inputRead;
    socket.send(JSON.stringify({ type: "your_id", id: ID }));
  });
  try {
    const out = printer();
    let readOnBeforeTheId = false;
    const input = async function* () {
      for (let i = 0; i < MAX_QUEUED_COMMANDS; i++) yield `pair t${i}`;
      // The queue is full once this line is taken: the id may come now.
      release();
      yield `pair t${MAX_QUEUED_COMMANDS}`;
      // Asked for more only once the id emptied the queue.
      readOnBeforeTheId = !out.printed.some((line) => ID_LINE.test(line));
      yield `pair t${MAX_QUEUED_COMMANDS + 1}`;
    };
    const code = await runToEndOfInput(script.url, out, input());
    assert.equal(code, 0);
    assert.equal(readOnBeforeTheId, false, "input was read on while the queue was full");
    assert.deepEqual(out.printed.filter((line) => /dropped/.test(line)), []);
    await within(script.closed, 5000, "the client to close");
    assert.deepEqual(
      script.received.map((m) => m.target),
      Array.from({ length: MAX_QUEUED_COMMANDS + 2 }, (_, i) => `t${i}`),
    );
  } finally {
    await script.server.shutdown();
  }
});

Deno.test("runClient() remembers the latest MAX_REMEMBERED_REQUESTS requests for a bare reject", async () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const count = MAX_REMEMBERED_REQUESTS + 1;
  const script = scriptedServer((socket) => {
    socket.send(JSON.stringify({ type: "your_id", id: ID }));
    for (let i = 0; i < count; i++) {
      socket.send(JSON.stringify({ type: "pair_request", from: `r${i}` }));
    }
  });
  try {
    const out = printer();
    const input = async function* () {
      await out.until((line) => line.includes(`Pair request from r${count - 1} `));
      for (let i = 0; i < count; i++) yield "reject";
    };
    const code = await runToEndOfInput(script.url, out, input());
    assert.equal(code, 0);
    await within(script.closed, 5000, "the client to close");
    // Newest first; the oldest, r0, was forgotten to stay within the cap.
    assert.deepEqual(
      script.received.map((m) => m.from),
      Array.from({ length: MAX_REMEMBERED_REQUESTS }, (_, i) => `r${count - 1 - i}`),
    );
    assert.equal(
      out.printed.filter((line) => line === "*** No pair request to answer ***").length,
      1,
    );
  } finally {
    await script.server.shutdown();
  }
});

Deno.test("runClient() forgets a request the server cancelled, so a bare accept takes a live one", async () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const script = scriptedServer((socket) => {
    socket.send(JSON.stringify({ type: "your_id", id: ID }));
    socket.send(JSON.stringify({ type: "pair_request", from: "r1" }));
    socket.send(JSON.stringify({ type: "pair_request", from: "r2" }));
    socket.send(JSON.stringify({ type: "pair_cancelled", from: "r2", reason: "timeout" }));
  });
  try {
    const out = printer();
    const input = async function* () {
      await out.until((line) => line.includes("withdrawn"));
      yield "accept";
    };
    const code = await runToEndOfInput(script.url, out, input());
    assert.equal(code, 0);
    await within(script.closed, 5000, "the client to close");
    assert.deepEqual(script.received, [{ type: "pair_accept", from: "r1" }]);
    assert.ok(out.printed.includes("*** Pair request from r2 withdrawn (timeout) ***"));
  } finally {
    await script.server.shutdown();
  }
});

Deno.test("client logs 'Connected to server.' only once it has an id, not when a full server opens and refuses", async () => {
  await using t = testServer({ maxClients: 1 });
  const first = await TestClient.connect(t.url);
  await using _ = first.client;
  await using client = spawnClient("--url", t.url);
  assert.equal((await client.exit()).code, 1);
  assert.deepEqual(client.stdout, [
    "*** Error (server_full): The server is full; try again later. ***",
  ]);
  const log = client.stderr.join("\n");
  assert.match(log, /Connection closed unexpectedly: code 1013/);
  assert.doesNotMatch(log, /Connected to server/);
});
