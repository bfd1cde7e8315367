import assert from "node:assert/strict";
import type { KeyRecord } from "../../lib/auth/key_file.ts";
import { setupLogging } from "../../lib/runtime/logging.ts";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "../../lib/server/config.ts";
import { isLoopback, logAccess, logListening } from "../../lib/server/start_log.ts";
import { LogCapture } from "../support/helpers.ts";

function logged(write: () => void): string[] {
  const logs = new LogCapture();
  setupLogging({ sink: logs.sink });
  write();
  return logs.lines;
}

const options = (changes: Partial<ServerOptions>): ServerOptions => ({
  ...DEFAULT_SERVER_OPTIONS,
  ...changes,
});

const at = (hostname: string, port = 8765): Deno.NetAddr => ({ transport: "tcp", hostname, port });

Deno.test("logListening() names every address and the page's URL, localhost for a wildcard host", () => {
  assert.deepEqual(
    logged(() =>
      logListening(options({ host: "localhost" }), [at("127.0.0.1"), at("::1")], undefined)
    ),
    [
      "INFO: Server listening on ws://127.0.0.1:8765 and ws://[::1]:8765; the page is at http://localhost:8765/",
    ],
  );
  assert.deepEqual(
    logged(() => logListening(options({ host: "::" }), [at("::")], undefined)),
    ["INFO: Server listening on ws://[::]:8765; the page is at http://localhost:8765/"],
  );
});

Deno.test("logListening() leaves the page out with --no-web and names a metrics listener", () => {
  assert.deepEqual(
    logged(() =>
      logListening(options({ host: "127.0.0.1", web: false }), [at("127.0.0.1")], [
        at("127.0.0.1", 9090),
      ])
    ),
    [
      "INFO: Server listening on ws://127.0.0.1:8765; /metrics is at http://127.0.0.1:9090/metrics",
    ],
  );
});

Deno.test("logAccess() says the server is open, or how many keys it takes", () => {
  assert.deepEqual(logged(() => logAccess(options({}))), [
    "INFO: Open to any client that can reach it: no --api-keys, no --token-key",
  ]);
  const keys: KeyRecord[] = [{ label: "acme", sha256: "0".repeat(64), createdAt: "" }];
  assert.deepEqual(logged(() => logAccess(options({ apiKeys: keys }))), [
    "INFO: Clients need an API key (keys loaded: 1)",
  ]);
});

Deno.test("logAccess() warns about keys over plain ws:// on a host that is not loopback", () => {
  const lines = logged(() => logAccess(options({ apiKeys: [], host: "0.0.0.0" })));
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /^WARNING: API keys without TLS on 0\.0\.0\.0: anyone on the network/);
});

Deno.test("isLoopback() knows localhost, 127.0.0.0/8 and ::1, and nothing else", () => {
  for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"]) {
    assert.ok(isLoopback(host), host);
  }
  for (const host of ["0.0.0.0", "::", "192.168.1.5", "example.com"]) {
    assert.ok(!isLoopback(host), host);
  }
});
