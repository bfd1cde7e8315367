import assert from "node:assert/strict";
import { runSession } from "../../lib/cli/session.ts";

/** A WebSocket server that does `onOpen` with each socket it accepts. */
function server(onOpen: (socket: WebSocket) => void) {
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onopen = () => onOpen(socket);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${http.addr.port}`,
    [Symbol.asyncDispose]: () => http.shutdown(),
  };
}

const hooks = (signal = new AbortController().signal) => ({
  signal,
  onOpen: () => {},
  onMessage: () => false,
});

Deno.test("runSession() reports an invalid URL as a failure, never a throw", async () => {
  const end = await runSession("not a url", hooks());
  assert.equal(end.kind, "failed");
  assert.match((end as { reason: string }).reason, /^invalid URL/);
});

Deno.test("runSession() reports the server's normal close as closed, with its reason", async () => {
  await using s = server((socket) => socket.close(1000, "bye"));
  assert.deepEqual(await runSession(s.url, hooks()), { kind: "closed", code: 1000, reason: "bye" });
});

Deno.test("runSession() reports another close as dropped", async () => {
  await using s = server((socket) => socket.close(4001, "gone"));
  assert.deepEqual(await runSession(s.url, hooks()), {
    kind: "dropped",
    code: 4001,
    reason: "gone",
  });
});

Deno.test("runSession() hands over known messages and stops cleanly when asked to", async () => {
  await using s = server((socket) => {
    socket.send("not json");
    socket.send(JSON.stringify({ type: "your_id", id: "4e2a5e4c-3c5b-4a0e-9f67-1f0b1c2d3e4f" }));
  });
  const types: string[] = [];
  const end = await runSession(s.url, {
    ...hooks(),
    onMessage: (message) => {
      types.push(message.type);
      return true;
    },
  });
  assert.deepEqual(end, { kind: "stopped" });
  assert.deepEqual(types, ["your_id"]);
});

Deno.test("runSession() stops with a clean close when its signal aborts", async () => {
  const stop = new AbortController();
  await using s = server(() => stop.abort());
  assert.deepEqual(await runSession(s.url, hooks(stop.signal)), { kind: "stopped" });
});
