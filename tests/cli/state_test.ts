import assert from "node:assert/strict";
import type { ClientMessage } from "../../lib/protocol/messages.ts";
import { type ClientOptions, ClientState, MAX_REMEMBERED_REQUESTS } from "../../lib/cli/state.ts";

const ID = "4e2a5e4c-3c5b-4a0e-9f67-1f0b1c2d3e4f";

/** A client state on an open connection, recording what it sends and prints. */
function state(options: Partial<ClientOptions> = {}, interactive = false) {
  const printed: string[] = [];
  const sent: ClientMessage[] = [];
  const client = new ClientState(
    {
      url: "ws://127.0.0.1:1/",
      once: false,
      reconnect: false,
      retryDelay: 1,
      maxRetries: 1,
      pair: undefined,
      accept: false,
      ...options,
    },
    (line) => printed.push(line),
    interactive,
  );
  client.connected((message) => {
    sent.push(message);
    return true;
  });
  return { client, printed, sent };
}

Deno.test("ClientState prints the id, and the hint once, for a person at a terminal", () => {
  const { client, printed } = state({}, true);
  assert.equal(client.received({ type: "your_id", id: ID } as never), false);
  assert.deepEqual(printed, [
    `*** Your Client ID: ${ID} ***`,
    "*** Type help for the commands ***",
  ]);
});

Deno.test("ClientState with --once ends the session at the id", () => {
  const { client } = state({ once: true });
  assert.equal(client.received({ type: "your_id", id: ID } as never), true);
});

Deno.test("ClientState with --pair asks as soon as the id is here", () => {
  const { client, sent } = state({ pair: "B" });
  client.received({ type: "your_id", id: ID } as never);
  assert.deepEqual(sent, [{ type: "pair_request", target: "B" }]);
});

Deno.test("ClientState answers a bare reject with the newest of MAX_REMEMBERED_REQUESTS requests", () => {
  const { client, sent, printed } = state();
  client.received({ type: "your_id", id: ID } as never);
  for (let i = 0; i <= MAX_REMEMBERED_REQUESTS; i++) {
    client.received({ type: "pair_request", from: `r${i}` } as never);
  }
  client.run({ kind: "reject", from: undefined });
  assert.deepEqual(sent, [{ type: "pair_reject", from: `r${MAX_REMEMBERED_REQUESTS}` }]);
  assert.ok(printed.includes(`*** Rejected the pair request from r${MAX_REMEMBERED_REQUESTS} ***`));
});

Deno.test("ClientState refuses to pair with itself and to send without a partner", () => {
  const { client, sent, printed } = state();
  client.received({ type: "your_id", id: ID } as never);
  client.run({ kind: "pair", target: ID });
  client.run({ kind: "send", text: "hello" });
  assert.deepEqual(sent, []);
  assert.deepEqual(printed.slice(1), [
    "*** You cannot pair with yourself ***",
    "*** No partner to send to: pair with someone first ***",
  ]);
});

Deno.test("ClientState with --reconnect asks for a resumable session, then resumes with the token", () => {
  const { client } = state({ reconnect: true });
  assert.equal(client.connectUrl(), "ws://127.0.0.1:1/?resumable=1");
  client.received({ type: "session", resume_token: "t-1" } as never);
  assert.equal(client.connectUrl(), "ws://127.0.0.1:1/?resume=t-1");
});

Deno.test("ClientState answers help and an invalid command at once, even before the id", () => {
  const { client, printed } = state();
  assert.equal(client.run({ kind: "invalid", reason: "usage: pair <id>" }), false);
  assert.deepEqual(printed, ["*** usage: pair <id> ***"]);
  client.run({ kind: "help" });
  assert.equal(printed.length, 2);
});
