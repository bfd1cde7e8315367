import assert from "node:assert/strict";
import { Access } from "../../lib/auth/access.ts";
import { Metrics } from "../../lib/metrics.ts";
import { Registry } from "../../lib/registry.ts";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "../../lib/server/config.ts";
import { classify, Connection, type ServerState } from "../../lib/server/connection.ts";
import { RefusalLog } from "../../lib/server/refusal_log.ts";
import { MemorySessions } from "../../lib/signaling/sessions/memory_sessions.ts";
import { SocketTracker } from "../../lib/server/socket_tracker.ts";

// A connection's life over real sockets (limits, closes, shutdown) is tested
// through the server in start_test.ts; here it is driven with a fake socket.

/** Enough of a WebSocket for a Connection: events in, frames and a close out. */
class FakeSocket extends EventTarget {
  readyState: number = WebSocket.CONNECTING;
  bufferedAmount = 0;
  binaryType = "blob";
  readonly sent: unknown[] = [];
  closedWith: [number, string] | undefined;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code: number, reason: string): void {
    this.closedWith ??= [code, reason];
    this.readyState = WebSocket.CLOSING;
  }

  open(): void {
    this.readyState = WebSocket.OPEN;
    this.dispatchEvent(new Event("open"));
  }

  receive(data: string): void {
    this.dispatchEvent(new MessageEvent("message", { data }));
  }

  closeEvent(code: number, wasClean: boolean): void {
    this.readyState = WebSocket.CLOSED;
    this.dispatchEvent(new CloseEvent("close", { code, wasClean }));
  }
}

/** A server's shared state with stub signaling that records what it is told. */
function serverState(changes: Partial<ServerOptions> = {}) {
  const config = { ...DEFAULT_SERVER_OPTIONS, ...changes };
  const metrics = new Metrics();
  const told: string[] = [];
  const signaling = {
    available: true,
    // Sessions off: every loss ends its session.
    sessions: new MemorySessions(undefined, {
      tenantOf: () => undefined,
      away: () => {},
      back: () => {},
      ended: () => {},
    }),
    joined: () => undefined,
    handle: (id: string, message: { type: string }) => void told.push(`${id} ${message.type}`),
    disconnected: (id: string) => void told.push(`${id} left`),
    close: () => {},
  };
  const state = {
    config,
    registry: new Registry<Connection>(),
    metrics,
    signaling,
    sockets: new SocketTracker(metrics, {
      maxPerAddress: 0,
      openDeadlineMs: 0,
      closeDeadlineMs: 0,
    }),
    stopping: false,
    refusalLog: new RefusalLog(10, 10_000),
    access: new Access(undefined),
  } as unknown as ServerState;
  return { state, told, [Symbol.dispose]: () => state.refusalLog.close() };
}

Deno.test("Connection registers on open, sends your_id, hands messages on, and unregisters on close", () => {
  using server = serverState();
  const { state, told } = server;
  const socket = new FakeSocket();
  new Connection(state, socket as unknown as WebSocket, "192.0.2.1:5000");
  assert.equal(state.registry.size, 0);
  socket.open();
  assert.equal(state.registry.size, 1);
  const [welcome] = socket.sent as { type: string; id: string }[];
  assert.equal(welcome?.type, "your_id");
  const id = welcome.id;
  socket.receive('{"type":"unpair"}');
  socket.receive("{");
  assert.deepEqual(told, [`${id} unpair`]);
  assert.equal((socket.sent[1] as { code: string }).code, "invalid_json");
  socket.closeEvent(1000, true);
  socket.closeEvent(1000, true);
  assert.equal(state.registry.size, 0);
  assert.deepEqual(told, [`${id} unpair`, `${id} left`]);
});

Deno.test("Connection refuses to register past --max-clients: server_full and 1013", () => {
  using server = serverState({ maxClients: 0 });
  const socket = new FakeSocket();
  new Connection(server.state, socket as unknown as WebSocket, "192.0.2.1:5000");
  socket.open();
  assert.equal(server.state.registry.size, 0);
  assert.equal((socket.sent[0] as { code: string }).code, "server_full");
  assert.deepEqual(socket.closedWith, [1013, "server full"]);
});

Deno.test("Connection closes a client that sends too much with 1009 and forgets it at once", () => {
  using server = serverState({ maxMessageBytes: 10 });
  const socket = new FakeSocket();
  new Connection(server.state, socket as unknown as WebSocket, "192.0.2.1:5000");
  socket.open();
  socket.receive(`{"type":"relay","data":"${"x".repeat(20)}"}`);
  assert.deepEqual(socket.closedWith, [1009, "message too big"]);
  assert.equal(server.state.registry.size, 0);
});

Deno.test("classify() tells clean, timeout and abrupt closes apart", () => {
  assert.equal(classify({ code: 1000, wasClean: true }), "clean");
  assert.equal(classify({ code: 1001, wasClean: true }), "clean");
  assert.equal(classify({ code: 1001, wasClean: false }), "timeout");
  assert.equal(classify({ code: 0, wasClean: false }), "abrupt");
  assert.equal(classify({ code: 1006, wasClean: false }), "abrupt");
  assert.equal(classify({ code: 1008, wasClean: true }), "limit");
  assert.equal(classify({ code: 1009, wasClean: false }), "limit");
});
