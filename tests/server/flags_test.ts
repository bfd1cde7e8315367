import assert from "node:assert/strict";
import { parseServerFlags, SERVER_USAGE } from "../../lib/server/flags.ts";
import { UsageError } from "../../lib/runtime/args.ts";
import { DEFAULT_SERVER_OPTIONS } from "../../lib/server/config.ts";

Deno.test("parseServerFlags() defaults to localhost:8765", () => {
  const flags = parseServerFlags([]);
  assert.equal(flags.host, "localhost");
  assert.equal(flags.port, 8765);
  assert.equal(flags.logFormat, "text");
  const { iceServers: _, apiKeys: _k, tls: _t, ...defaults } = DEFAULT_SERVER_OPTIONS;
  assert.deepEqual({ ...flags, logFormat: undefined, help: undefined }, {
    ...defaults,
    iceUrls: [],
    iceUsername: undefined,
    redis: undefined,
    turnUrls: [],
    turnSecretFile: undefined,
    turnTtl: 3600,
    apiKeysFile: undefined,
    tokenKey: undefined,
    tokenSecretFile: undefined,
    tokenIssuer: undefined,
    tokenAudience: undefined,
    webhookUrls: [],
    webhookSecretFile: undefined,
    webhookRetryFor: 300,
    tlsCert: undefined,
    tlsKey: undefined,
    logFormat: undefined,
    help: undefined,
  });
});

Deno.test("parseServerFlags() reads every flag", () => {
  const flags = parseServerFlags([
    "--host=0.0.0.0",
    "--port",
    "0",
    "--idle-timeout",
    "2",
    "--max-message-bytes",
    "1024",
    "--rate-limit",
    "2.5",
    "--rate-burst",
    "3",
    "--max-clients",
    "7",
    "--allowed-origin",
    "https://a.example",
    "--allowed-origin",
    "https://b.example",
    "--embed-origin",
    "http://localhost:3000",
    "--pair-timeout",
    "0.5",
    "--code-ttl",
    "60",
    "--code-rate",
    "5",
    "--max-buffered-bytes",
    "4096",
    "--ice-server",
    "stun:stun.example:3478",
    "--ice-server",
    "turn:turn.example:3478?transport=udp",
    "--ice-username",
    "alice",
    "--no-web",
    "--trust-proxy",
    "127.0.0.1",
    "--trust-proxy",
    "fd00::/8",
    "--max-clients-per-ip",
    "5",
    "--shutdown-timeout",
    "2.5",
    "--handshake-timeout",
    "0.5",
    "--close-timeout",
    "1",
    "--resume-grace",
    "2.5",
    "--resume-queue",
    "8",
    "--api-keys",
    "/etc/switchboard/keys.json",
    "--tls-cert",
    "cert.pem",
    "--tls-key",
    "key.pem",
    "--metrics-listen",
    "[::1]:9100",
    "--log-format",
    "json",
  ]);
  assert.deepEqual(flags, {
    host: "0.0.0.0",
    port: 0,
    idleTimeout: 2,
    maxMessageBytes: 1024,
    rateLimit: 2.5,
    rateBurst: 3,
    maxClients: 7,
    allowedOrigins: ["https://a.example", "https://b.example"],
    embedOrigins: ["http://localhost:3000"],
    pairTimeout: 0.5,
    codeTtl: 60,
    codeRate: 5,
    maxBufferedBytes: 4096,
    iceUrls: ["stun:stun.example:3478", "turn:turn.example:3478?transport=udp"],
    iceUsername: "alice",
    turnUrls: [],
    turnSecretFile: undefined,
    turnTtl: 3600,
    web: false,
    trustProxy: ["127.0.0.1", "fd00::/8"],
    maxClientsPerIp: 5,
    shutdownTimeout: 2.5,
    handshakeTimeout: 0.5,
    closeTimeout: 1,
    resumeGrace: 2.5,
    resumeQueue: 8,
    redis: undefined,
    apiKeysFile: "/etc/switchboard/keys.json",
    tokenKey: undefined,
    tokenSecretFile: undefined,
    tokenIssuer: undefined,
    tokenAudience: undefined,
    webhookUrls: [],
    webhookSecretFile: undefined,
    webhookRetryFor: 300,
    tlsCert: "cert.pem",
    tlsKey: "key.pem",
    metricsListen: { host: "[::1]", port: 9100 },
    logFormat: "json",
    help: false,
  });
});

Deno.test("parseServerFlags() takes --metrics-listen as HOST:PORT, IPv6 in brackets", () => {
  for (
    const [raw, host, port] of [
      ["127.0.0.1:9100", "127.0.0.1", 9100],
      ["localhost:0", "localhost", 0],
      ["[fd00::2]:9100", "[fd00::2]", 9100],
      ["metrics.internal:65535", "metrics.internal", 65535],
    ] as const
  ) {
    assert.deepEqual(parseServerFlags(["--metrics-listen", raw]).metricsListen, { host, port });
  }
  for (const raw of ["9100", ":9100", "::1:9100", "127.0.0.1", "127.0.0.1:65536", "a b:1", ""]) {
    assert.throws(
      () => parseServerFlags(["--metrics-listen", raw]),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          `--metrics-listen takes HOST:PORT, such as 127.0.0.1:9100 or [::1]:9100, got "${raw}"`,
      raw,
    );
  }
});

Deno.test("parseServerFlags() takes --resume-grace 0 as resume off, and defaults to 15 s and 64 messages", () => {
  assert.equal(parseServerFlags(["--resume-grace", "0"]).resumeGrace, 0);
  const defaults = parseServerFlags([]);
  assert.equal(defaults.resumeGrace, 15);
  assert.equal(defaults.resumeQueue, 64);
  for (
    const args of [
      ["--resume-grace", "-1"],
      ["--resume-grace", "3601"],
      ["--resume-grace", "soon"],
      ["--resume-queue", "0"],
      ["--resume-queue", "1.5"],
    ]
  ) {
    assert.throws(() => parseServerFlags(args), UsageError, args.join(" "));
  }
});

Deno.test("parseServerFlags() reads --redis, and refuses a URL that is not redis:// or rediss://", () => {
  assert.equal(
    parseServerFlags(["--redis", "redis://:secret@127.0.0.1:6390/2"]).redis,
    "redis://:secret@127.0.0.1:6390/2",
  );
  assert.throws(() => parseServerFlags(["--redis", "http://127.0.0.1:6379"]), UsageError);
  assert.throws(
    () => parseServerFlags(["--redis", "redis://:secret@h/x"]),
    (error: Error) => error instanceof UsageError && !error.message.includes("secret"),
  );
});

Deno.test("parseServerFlags() reads the TURN flags, the URLs in their order", () => {
  const flags = parseServerFlags([
    "--turn-url",
    "turn:127.0.0.1:3478?transport=udp",
    "--turn-url",
    "turns:turn.example:5349?transport=tcp",
    "--turn-secret-file",
    "/etc/switchboard/turn-secret",
    "--turn-ttl",
    "600",
  ]);
  assert.deepEqual(flags.turnUrls, [
    "turn:127.0.0.1:3478?transport=udp",
    "turns:turn.example:5349?transport=tcp",
  ]);
  assert.equal(flags.turnSecretFile, "/etc/switchboard/turn-secret");
  assert.equal(flags.turnTtl, 600);
});

Deno.test("parseServerFlags() refuses a TURN secret as a flag value and TURN flags without a URL", () => {
  for (
    const [args, message] of [
      [["--turn-secret", "s3cret"], /Unknown option '--turn-secret'/],
      [["--turn-url", "stun:stun.example"], /--turn-url takes a turn: or turns: URL/],
      [["--turn-secret-file", "secret"], /^--turn-secret-file goes with --turn-url$/],
      [["--turn-ttl", "60"], /^--turn-ttl goes with --turn-url$/],
      [["--turn-url", "turn:t.example", "--turn-ttl", "0"], /--turn-ttl takes a whole number/],
      [["--turn-url", "turn:t.example", "--turn-secret-file="], /takes a file name/],
    ] as const
  ) {
    assert.throws(() => parseServerFlags(args), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("parseServerFlags() throws UsageError on bad input", () => {
  for (
    const args of [
      ["--port", "70000"],
      ["--port", "abc"],
      ["--port", "-1"],
      ["--idle-timeout", "0"],
      ["--idle-timeout", "86401"],
      ["--pair-timeout", "3000000"],
      ["--max-buffered-bytes", "10"],
      ["--rate-limit", "0"],
      ["--log-format", "xml"],
      ["--trust-proxy", "10.0.0.0/33"],
      ["--trust-proxy", "localhost"],
      ["--max-clients-per-ip", "-1"],
      ["--shutdown-timeout", "0"],
      ["--close-timeout", "x"],
      ["--unknown"],
      ["stray"],
      ["--ice-server", "http://example.org"],
      ["--ice-server", "turn:turn.example"],
      ["--ice-username", "alice"],
      ["--ice-server", "stun:stun.example", "--ice-username", "alice"],
      ["--tls-cert", "cert.pem"],
      ["--tls-key", "key.pem"],
      ["--api-keys"],
    ]
  ) {
    assert.throws(() => parseServerFlags(args), UsageError, args.join(" "));
  }
});

Deno.test("parseServerFlags() takes --redis together with --api-keys, --turn-url and --resume-grace", () => {
  const flags = parseServerFlags([
    "--redis",
    "redis://127.0.0.1:6379",
    "--api-keys",
    "keys.json",
    "--turn-url",
    "turn:127.0.0.1:3478",
    "--turn-secret-file",
    "/dev/null",
    "--resume-grace",
    "20",
  ]);
  assert.equal(flags.redis, "redis://127.0.0.1:6379");
  assert.equal(flags.apiKeysFile, "keys.json");
  assert.deepEqual(flags.turnUrls, ["turn:127.0.0.1:3478"]);
  assert.equal(flags.resumeGrace, 20);
});

Deno.test("SERVER_USAGE lists every flag, its value, usage text and default, as users know it", () => {
  assert.equal(
    SERVER_USAGE,
    [
      "Usage: deno run --allow-net server.ts [options]",
      "",
      "  --host HOST                 interface to listen on; localhost is 127.0.0.1 and ::1",
      "                              (default localhost)",
      "  --port PORT                 TCP port, 0 for any free one (default 8765)",
      "  --idle-timeout SECONDS      drop a client that stops answering pings (default 30)",
      "  --max-message-bytes BYTES   close with 1009 above this size (default 65536)",
      "  --rate-limit N              messages per second per client (default 20)",
      "  --rate-burst N              messages per client in one burst (default 50)",
      "  --max-clients N             refuse clients past this with 1013 (default 10000)",
      "  --allowed-origin ORIGIN     accept only this Origin; repeatable (default any)",
      "  --embed-origin ORIGIN       let the app at ORIGIN frame the page and hand it access",
      "                              tokens with postMessage; repeatable (default none)",
      "  --pair-timeout SECONDS      a pairing request expires after this (default 30)",
      "  --code-ttl SECONDS          a pairing code's number (nameplate) expires unused after this (default 300)",
      "  --code-rate N               codes claimed or tried a minute per address (twice that at once;",
      "                              twelve times that per API key) (default 10)",
      "  --max-buffered-bytes BYTES  close a client that leaves this much unread (default 1048576)",
      '  --ice-server URL            a stun: or turn: URL sent to both partners in "paired"; repeatable',
      "  --ice-username NAME         username for turn: URLs; the password is read from",
      "                              SWITCHBOARD_ICE_CREDENTIAL (needs --allow-env=SWITCHBOARD_ICE_CREDENTIAL)",
      "  --turn-url URL              a turn: or turns: URL each client gets short-lived",
      '                              credentials for in "paired"; repeatable (werift uses the first)',
      "  --turn-secret-file FILE     the secret shared with the TURN server (coturn's",
      "                              static-auth-secret); needs --allow-read=FILE. Without it the",
      "                              secret is read from SWITCHBOARD_TURN_SECRET",
      "                              (needs --allow-env=SWITCHBOARD_TURN_SECRET)",
      "  --turn-ttl SECONDS          how long issued TURN credentials stay valid (default 3600)",
      "  --no-web                    do not serve the browser page on GET /",
      "  --trust-proxy CIDR          take the client address from X-Forwarded-For or",
      "                              Forwarded when the peer is in this range; repeatable",
      "  --max-clients-per-ip N      WebSockets one address may hold, 0 for no limit (default 0)",
      "  --shutdown-timeout SECONDS  drop what is left this long after a signal (default 10)",
      "  --handshake-timeout SECONDS count an upgrade that has not opened after this as stuck (default 5)",
      "  --close-timeout SECONDS     count a closed client that has not answered after this as stuck (default 5)",
      "  --resume-grace SECONDS      keep a resumable client's id and pairing this long after",
      "                              its connection is lost; 0 turns resume off (default 15)",
      "  --resume-queue N            messages kept for a client meanwhile; more end its session (default 64)",
      "  --redis URL                 share clients with other instances through Redis:",
      "                              redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://; the password",
      "                              may come from SWITCHBOARD_REDIS_PASSWORD instead",
      "                              (needs --allow-env=SWITCHBOARD_REDIS_PASSWORD)",
      "  --api-keys FILE             accept only clients with a key from FILE (needs",
      "                              --allow-read=FILE, or deno task server:keys); SIGHUP reloads it",
      "  --token-key FILE            accept access tokens (JWTs) signed by the public keys in FILE:",
      "                              a JWKS, a JWK or PEM (needs --allow-read=FILE)",
      "  --token-secret-file FILE    or HS256 tokens, with the secret in FILE (needs --allow-read=FILE)",
      "  --token-issuer ISS          refuse access tokens whose iss is not ISS",
      "  --token-audience AUD        refuse access tokens whose aud does not name AUD",
      "  --webhook URL               POST events (clients, pairs, revoked keys, refused tokens) to",
      "                              this http(s) URL, signed the Standard Webhooks way; repeatable",
      "  --webhook-secret-file FILE  the signing secret (whsec_...) is in FILE (needs",
      "                              --allow-read=FILE); without it, SWITCHBOARD_WEBHOOK_SECRET",
      "                              (needs --allow-env=SWITCHBOARD_WEBHOOK_SECRET)",
      "  --webhook-retry-for SECONDS retry each event this long, then drop and count it (default 300)",
      "  --tls-cert FILE             serve wss:// and https:// with this PEM certificate",
      "  --tls-key FILE              and this PEM private key (needs --allow-read=CERT,KEY)",
      "  --metrics-listen HOST:PORT  serve /metrics (and /healthz) there, in plain HTTP, and not on",
      "                              the main port; without it /metrics answers loopback clients only",
      "  --log-format text|json      log line format (default text)",
      "  -h, --help                  show this help",
      "",
      "  keys ...                    manage API keys: deno task keys --help",
      "",
    ].join("\n"),
  );
});

Deno.test("parseServerFlags() reports a broken rule between flags before a bad value", () => {
  assert.throws(
    () => parseServerFlags(["--port", "abc", "--tls-cert", "cert.pem"]),
    { name: "UsageError", message: "--tls-cert and --tls-key go together" },
  );
  assert.throws(
    () => parseServerFlags(["--port", "abc", "--ice-server", "turn:turn.example"]),
    {
      name: "UsageError",
      message: "--ice-server turn:turn.example needs --ice-username (a TURN server asks for one)",
    },
  );
  assert.throws(
    () => parseServerFlags(["--port", "abc", "--ice-server", "http://x"]),
    { name: "UsageError", message: '--ice-server takes a stun: or turn: URL, got "http://x"' },
  );
});

Deno.test("parseServerFlags() takes token flags together as they make sense, and refuses the rest", () => {
  const flags = parseServerFlags([
    "--token-key",
    "keys.json",
    "--token-issuer",
    "https://app.example",
    "--token-audience",
    "switchboard",
  ]);
  assert.equal(flags.tokenKey, "keys.json");
  assert.equal(flags.tokenIssuer, "https://app.example");
  assert.equal(flags.tokenAudience, "switchboard");
  assert.throws(
    () => parseServerFlags(["--token-key", "a.json", "--token-secret-file", "s"]),
    (error: Error) =>
      error instanceof UsageError &&
      error.message === "give --token-key or --token-secret-file, not both",
  );
  assert.throws(
    () => parseServerFlags(["--token-audience", "x"]),
    /--token-audience goes with --token-key or --token-secret-file/,
  );
  for (const bad of ["app.example", "https://app.example/", "ftp://x", "https://a.example/path"]) {
    assert.throws(
      () => parseServerFlags(["--embed-origin", bad]),
      /--embed-origin takes an origin/,
    );
  }
});

Deno.test("parseServerFlags() takes --webhook URLs, and its other flags only with one", () => {
  const flags = parseServerFlags([
    "--webhook",
    "https://hooks.example/a",
    "--webhook",
    "http://127.0.0.1:9000/b",
    "--webhook-secret-file",
    "secret",
    "--webhook-retry-for",
    "60",
  ]);
  assert.deepEqual(flags.webhookUrls, ["https://hooks.example/a", "http://127.0.0.1:9000/b"]);
  assert.equal(flags.webhookSecretFile, "secret");
  assert.equal(flags.webhookRetryFor, 60);
  assert.throws(() => parseServerFlags(["--webhook", "ftp://x"]), /--webhook takes an http/);
  assert.throws(
    () => parseServerFlags(["--webhook-secret-file", "s"]),
    /--webhook-secret-file goes with --webhook/,
  );
  assert.throws(() => parseServerFlags(["--webhook-retry-for", "5"]), /goes with --webhook/);
});
