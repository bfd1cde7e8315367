import assert from "node:assert/strict";
import { formatKeyFile, generateKey, hashKey } from "../../lib/auth/key_file.ts";
import { isLoopbackIp, metricsReadable } from "../../lib/server/metrics_access.ts";
import { parseCidr } from "../../lib/server/client_address.ts";
import { Child, testServer } from "../support/helpers.ts";
import { Nginx, skipNginx } from "../support/nginx.ts";

/** An address of this host that is not loopback: a client "elsewhere" comes from it. */
const PUBLIC = Deno.networkInterfaces()
  .find((i) => i.family === "IPv4" && !i.address.startsWith("127."))?.address;

function skipWithoutPublic(): boolean {
  if (PUBLIC !== undefined) return false;
  if (Deno.env.get("CI") === "true") {
    throw new Error("CI=true but this host has no IPv4 address besides loopback (.ci/isolated)");
  }
  console.warn("Skipping: no IPv4 address besides loopback to be a client elsewhere from.");
  return true;
}

const noPublic = skipWithoutPublic();

const acme = {
  label: "acme-secret-label",
  sha256: hashKey(generateKey()),
  createdAt: "2026-01-01T00:00:00.000Z",
};

/** GET `url` with `headers`; the status and the body. */
async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.text() };
}

/** Forwarding headers a client elsewhere might forge to look local. */
const FORGED: Record<string, string>[] = [
  {},
  { "x-forwarded-for": "127.0.0.1" },
  { "x-forwarded-for": "::1" },
  { forwarded: "for=127.0.0.1" },
  { "x-real-ip": "127.0.0.1" },
];

Deno.test("metricsReadable() admits a loopback peer, or a loopback client named by a trusted loopback proxy, only", () => {
  const trusted = [parseCidr("127.0.0.1")!];
  const h = (headers: Record<string, string> = {}) => new Headers(headers);
  const cases: [string, Headers, typeof trusted, boolean][] = [
    ["127.0.0.1", h(), [], true],
    ["127.0.0.2", h(), [], true],
    ["::1", h(), [], true],
    ["::ffff:127.0.0.1", h(), [], true],
    ["192.0.2.7", h(), [], false],
    ["fd00::2", h(), [], false],
    // A proxy on this machine forwarding a client: not trusted, so not believed.
    ["127.0.0.1", h({ "x-forwarded-for": "127.0.0.1" }), [], false],
    ["127.0.0.1", h({ "x-real-ip": "127.0.0.1" }), trusted, false],
    // Trusted: the client it names decides.
    ["127.0.0.1", h({ "x-forwarded-for": "127.0.0.1" }), trusted, true],
    ["127.0.0.1", h({ "x-forwarded-for": "203.0.113.9" }), trusted, false],
    ["127.0.0.1", h({ "x-forwarded-for": "127.0.0.1, 203.0.113.9" }), trusted, false],
    ["127.0.0.1", h({ forwarded: 'for="[::1]:5000"' }), trusted, true],
    ["127.0.0.1", h({ forwarded: "for=_hidden" }), trusted, false],
    ["127.0.0.1", h({ "x-forwarded-for": "unknown, 127.0.0.1" }), trusted, false],
    // A trusted proxy elsewhere is not this machine, whatever it says.
    ["192.0.2.7", h({ "x-forwarded-for": "127.0.0.1" }), [parseCidr("192.0.2.0/24")!], false],
  ];
  for (const [peer, headers, ranges, readable] of cases) {
    assert.equal(
      metricsReadable(peer, headers, ranges),
      readable,
      `${peer} ${JSON.stringify([...headers])}`,
    );
  }
});

Deno.test("isLoopbackIp() knows 127.0.0.0/8 and ::1, in any spelling, and nothing else", () => {
  for (const ip of ["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopbackIp(ip), ip);
  }
  for (const ip of ["128.0.0.1", "10.0.0.1", "::", "::2", "fe80::1", "localhost", "127.1", ""]) {
    assert.ok(!isLoopbackIp(ip), ip);
  }
});

Deno.test({
  name:
    "/metrics answers a client elsewhere with 403, forged forwarding headers or not, while /healthz answers it",
  ignore: noPublic,
  fn: async () => {
    for (const trustProxy of [[], [PUBLIC!, "127.0.0.1"]]) {
      await using t = testServer({ host: "0.0.0.0", apiKeys: [acme], trustProxy });
      const remote = `http://${PUBLIC}:${t.port}`;
      for (const headers of FORGED) {
        const { status, body } = await get(`${remote}/metrics`, headers);
        assert.equal(status, 403, JSON.stringify({ trustProxy, headers }));
        assert.equal(
          body,
          "Forbidden: /metrics answers clients on this machine only (see --metrics-listen)\n",
        );
      }
      assert.equal(
        (await get(`${remote}/metrics`, { "x-forwarded-for": "127.0.0.1" })).status,
        403,
      );
      assert.equal((await get(`${remote}/healthz`)).status, 200);
      // A client on this machine reads it, tenants and all.
      const local = await get(`http://127.0.0.1:${t.port}/metrics`);
      assert.equal(local.status, 200);
      assert.match(local.body, /^switchboard_key_clients\{key="acme-secret-label"\} 0$/m);
    }
  },
});

Deno.test({
  name:
    "/metrics through nginx is refused to a client elsewhere, forged X-Forwarded-For or not, with or without --trust-proxy",
  ignore: noPublic || skipNginx(),
  fn: async () => {
    for (const trustProxy of [[], ["127.0.0.1"]]) {
      await using t = testServer({ apiKeys: [acme], trustProxy });
      await using nginx = await Nginx.start(t.port, {}, "0.0.0.0");
      const remote = `http://${PUBLIC}:${nginx.port}`;
      for (const headers of FORGED) {
        const { status, body } = await get(`${remote}/metrics`, headers);
        assert.equal(status, 403, JSON.stringify({ trustProxy, headers }));
        assert.doesNotMatch(body, /acme|switchboard_/);
      }
      assert.equal((await get(`${remote}/healthz`)).status, 200);
      // Through nginx from this machine: believed only when nginx is trusted.
      const local = await get(`http://127.0.0.1:${nginx.port}/metrics`);
      assert.equal(local.status, trustProxy.length > 0 ? 200 : 403);
    }
  },
});

Deno.test("with --metrics-listen, /metrics and /healthz are on that address and the main port has no /metrics", async () => {
  await using t = testServer({ apiKeys: [acme], metricsListen: { host: "127.0.0.1", port: 0 } });
  const metricsPort = t.server.metricsAddr!.port;
  assert.notEqual(metricsPort, t.port);
  assert.equal((await get(`http://127.0.0.1:${t.port}/metrics`)).status, 404);
  assert.equal((await get(`http://127.0.0.1:${t.port}/healthz`)).status, 200);
  const scraped = await get(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(scraped.status, 200);
  assert.match(scraped.body, /^switchboard_key_clients\{key="acme-secret-label"\} 0$/m);
  const health = await get(`http://127.0.0.1:${metricsPort}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(JSON.parse(health.body).status, "ok");
  // Nothing else lives there: no page, no WebSocket.
  assert.equal((await get(`http://127.0.0.1:${metricsPort}/`)).status, 404);
  assert.ok(
    t.logs.lines.includes(
      `INFO: Server listening on ws://127.0.0.1:${t.port}; the page is at http://127.0.0.1:${t.port}/; /metrics is at http://127.0.0.1:${metricsPort}/metrics`,
    ),
    t.logs.lines.join("\n"),
  );
});

Deno.test("server.ts --metrics-listen on a port in use stops with one line naming the address", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await using child = new Child([
      "run",
      "--allow-net",
      "--no-prompt",
      "server.ts",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--metrics-listen",
      `127.0.0.1:${taken.addr.port}`,
    ]);
    assert.equal((await child.exit()).code, 1);
    const errors = child.stderr.filter((l) => /ERROR/.test(l));
    assert.equal(errors.length, 1, child.stderr.join("\n"));
    assert.match(
      errors[0]!,
      new RegExp(
        `ERROR: Cannot listen on 127\\.0\\.0\\.1:${taken.addr.port} \\(--metrics-listen\\): Address already in use`,
      ),
    );
  } finally {
    taken.close();
  }
});

Deno.test("a keys file's labels reach /metrics for loopback only: server.ts as a process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-metrics-" });
  try {
    const file = `${dir}/keys.json`;
    await Deno.writeTextFile(file, formatKeyFile([acme]));
    await using child = new Child([
      "run",
      "--allow-net",
      `--allow-read=${file}`,
      "--no-prompt",
      "server.ts",
      "--host",
      "0.0.0.0",
      "--port",
      "0",
      "--api-keys",
      file,
    ]);
    const [, port] = await child.waitForLine(/Server listening on ws:\/\/0\.0\.0\.0:(\d+)/);
    assert.equal((await get(`http://127.0.0.1:${port}/metrics`)).status, 200);
    if (PUBLIC !== undefined) {
      const { status, body } = await get(`http://${PUBLIC}:${port}/metrics`);
      assert.equal(status, 403);
      assert.doesNotMatch(body, /acme/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
