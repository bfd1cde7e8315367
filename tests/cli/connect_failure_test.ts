import assert from "node:assert/strict";
import { describeError, diagnose } from "../../lib/cli/connect_failure.ts";

Deno.test("diagnose() names an unknown host and a refused API key", async () => {
  assert.equal(
    await diagnose("ws://nowhere.invalid/", "dns error: failed to lookup", false),
    "unknown host",
  );
  assert.match(
    await diagnose("ws://h:1/", "Invalid status code: 401 Unauthorized", false),
    /the server wants an API key \(401\)/,
  );
  assert.match(
    await diagnose("ws://h:1/", "Invalid status code: 401 Unauthorized", true),
    /refused the API key/,
  );
});

Deno.test("diagnose() suggests the other scheme when TLS and plain WebSocket are mixed up", async () => {
  assert.equal(
    await diagnose("ws://h:1/x", "invalid HTTP version parsed", false),
    "the server speaks TLS (HTTP could not be parsed): try wss://h:1/x",
  );
  assert.equal(
    await diagnose("wss://h:1/x", "received corrupt message of type InvalidContentType", false),
    "the server does not speak TLS: try ws://h:1/x",
  );
});

Deno.test("diagnose() asks TCP whether anything listens when the handshake found nothing", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  assert.equal(
    await diagnose(`ws://127.0.0.1:${port}/`, "NetworkError: tcp connect error", false),
    "connection refused (is the server running? Start one with: deno task server)",
  );
});

Deno.test("diagnose() passes another failure on without the runtime's prefix", async () => {
  assert.equal(
    await diagnose("ws://h:1/", "NetworkError: failed to connect to WebSocket: boom", false),
    "boom",
  );
  assert.equal(await diagnose("ws://h:1/", "", false), "connection failed");
});

Deno.test("describeError() says an invalid URL is one", () => {
  assert.match(describeError(new DOMException("bad", "SyntaxError")), /^invalid URL \(bad\)$/);
  assert.equal(describeError(new Error("plain")), "plain");
});
