import assert from "node:assert/strict";
import { Metrics } from "../../lib/metrics.ts";

Deno.test("render() writes every family with HELP and TYPE", () => {
  const text = new Metrics().render(0);
  for (
    const [name, type] of [
      ["switchboard_clients", "gauge"],
      ["switchboard_connections_total", "counter"],
      ["switchboard_disconnections_total", "counter"],
      ["switchboard_messages_received_total", "counter"],
      ["switchboard_bad_messages_total", "counter"],
    ]
  ) {
    assert.match(text, new RegExp(`^# HELP ${name} .+$`, "m"));
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, "m"));
  }
  assert.ok(text.endsWith("\n"));
});

Deno.test("render() reports the counters and labels them", () => {
  const metrics = new Metrics();
  metrics.connections = 3;
  metrics.messagesReceived = 7;
  metrics.disconnected("clean");
  metrics.disconnected("clean");
  metrics.disconnected("timeout");
  metrics.badMessage("invalid_json");
  const text = metrics.render(1);
  assert.match(text, /^switchboard_clients 1$/m);
  assert.match(text, /^switchboard_connections_total 3$/m);
  assert.match(text, /^switchboard_messages_received_total 7$/m);
  assert.match(text, /^switchboard_disconnections_total\{reason="clean"\} 2$/m);
  assert.match(text, /^switchboard_disconnections_total\{reason="timeout"\} 1$/m);
  assert.match(text, /^switchboard_disconnections_total\{reason="abrupt"\} 0$/m);
  assert.match(text, /^switchboard_bad_messages_total\{code="invalid_json"\} 1$/m);
});

Deno.test("render() escapes label values", () => {
  const metrics = new Metrics();
  metrics.badMessage('a"b\\c\nd');
  assert.match(
    metrics.render(0),
    /^switchboard_bad_messages_total\{code="a\\"b\\\\c\\nd"\} 1$/m,
  );
});

Deno.test("render() counts server-full refusals and refused requests by code", () => {
  const metrics = new Metrics();
  metrics.serverFull = 4;
  metrics.refusedRequest("not_paired");
  metrics.refusedRequest("not_paired");
  const text = metrics.render(0);
  assert.match(text, /^# TYPE switchboard_server_full_total counter$/m);
  assert.match(text, /^switchboard_server_full_total 4$/m);
  assert.match(text, /^switchboard_refused_requests_total\{code="not_paired"\} 2$/m);
});

Deno.test("render() reports held sockets, unopened handshakes and unanswered closes", () => {
  const metrics = new Metrics();
  metrics.sockets = 4;
  metrics.handshakesUnopened = 2;
  metrics.closeTimeouts = 1;
  const text = metrics.render(1);
  assert.match(text, /^# TYPE switchboard_sockets gauge$/m);
  assert.match(text, /^switchboard_sockets 4$/m);
  assert.match(text, /^# TYPE switchboard_handshakes_unopened_total counter$/m);
  assert.match(text, /^switchboard_handshakes_unopened_total 2$/m);
  assert.match(text, /^# TYPE switchboard_close_timeouts_total counter$/m);
  assert.match(text, /^switchboard_close_timeouts_total 1$/m);
});
