import assert from "node:assert/strict";
import { setupLogging } from "../../lib/runtime/logging.ts";
import { sendJson } from "../../lib/runtime/json_socket.ts";
import { LogCapture } from "../support/helpers.ts";

Deno.test("sendJson() sends one JSON text frame to an open socket", () => {
  const sent: string[] = [];
  const socket = { readyState: WebSocket.OPEN, send: (data: string) => sent.push(data) };
  assert.equal(sendJson(socket, { type: "your_id", id: "abc" }), true);
  assert.deepEqual(sent, ['{"type":"your_id","id":"abc"}']);
});

Deno.test("sendJson() sends nothing to a socket that is not open", () => {
  for (const readyState of [WebSocket.CONNECTING, WebSocket.CLOSING, WebSocket.CLOSED]) {
    const socket = {
      readyState,
      send: () => assert.fail("sent to a socket that is not open"),
    };
    assert.equal(sendJson(socket, { type: "x" }), false);
  }
});

Deno.test("sendJson() logs a failed send instead of throwing", () => {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  const socket = {
    readyState: WebSocket.OPEN,
    send: () => {
      throw new DOMException("socket gone", "InvalidStateError");
    },
  };
  assert.equal(sendJson(socket, { type: "x" }), false);
  assert.deepEqual(logs.lines, ["ERROR: Failed to send a message: socket gone"]);
});
