import assert from "node:assert/strict";
import {
  DEFAULT_SERVER_URL,
  parseClientFlags,
  parseServerFlags,
  UsageError,
} from "../../lib/server/flags.ts";
import { DEFAULT_SERVER_OPTIONS } from "../../lib/server/config.ts";

Deno.test("parseServerFlags() defaults to the spec's localhost:8765", () => {
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
    "--pair-timeout",
    "0.5",
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
    pairTimeout: 0.5,
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

Deno.test("parseClientFlags() defaults to the spec's SERVER_URL", () => {
  assert.deepEqual(parseClientFlags([]), {
    url: DEFAULT_SERVER_URL,
    once: false,
    reconnect: false,
    retryDelay: 0.5,
    maxRetries: 10,
    pair: undefined,
    accept: false,
    answerTimeout: 60,
    webrtc: false,
    p2pTimeout: 15,
    iceUrls: [],
    iceUsername: undefined,
    relayOnly: false,
    apiKeyFile: undefined,
    acceptFiles: false,
    downloadDir: ".",
    maxFileBytes: undefined,
    transferIdle: 30,
    logFormat: "text",
    help: false,
  });
  assert.equal(DEFAULT_SERVER_URL, "ws://localhost:8765");
});

Deno.test("parseClientFlags() reads every flag", () => {
  assert.deepEqual(
    parseClientFlags([
      "--url",
      "ws://example:1",
      "--once",
      "--reconnect",
      "--retry-delay",
      "0.1",
      "--max-retries",
      "3",
      "--pair",
      "abc",
      "--accept",
      "--answer-timeout",
      "2",
      "--webrtc",
      "--p2p-timeout",
      "2.5",
      "--ice-server",
      "turn:turn.example",
      "--ice-username",
      "bob",
      "--relay-only",
      "--api-key-file",
      "key.txt",
      "--accept-files",
      "--download-dir",
      "inbox",
      "--max-file-bytes",
      "1000000",
      "--transfer-idle",
      "5",
      "--log-format",
      "json",
      "-h",
    ]),
    {
      url: "ws://example:1",
      once: true,
      reconnect: true,
      retryDelay: 0.1,
      maxRetries: 3,
      pair: "abc",
      accept: true,
      answerTimeout: 2,
      webrtc: true,
      p2pTimeout: 2.5,
      iceUrls: ["turn:turn.example"],
      iceUsername: "bob",
      relayOnly: true,
      apiKeyFile: "key.txt",
      acceptFiles: true,
      downloadDir: "inbox",
      maxFileBytes: 1_000_000,
      transferIdle: 5,
      logFormat: "json",
      help: true,
    },
  );
  assert.throws(() => parseClientFlags(["--max-retries", "0"]), UsageError);
  assert.throws(() => parseClientFlags(["--answer-timeout", "0"]), UsageError);
});

Deno.test("parseClientFlags() takes WebRTC flags only with --webrtc", () => {
  for (
    const args of [
      ["--relay-only"],
      ["--p2p-timeout", "3"],
      ["--ice-server", "stun:stun.example"],
      ["--accept-files"],
      ["--download-dir", "x"],
      ["--max-file-bytes", "10"],
      ["--transfer-idle", "10"],
    ]
  ) {
    assert.throws(() => parseClientFlags(args), /works only with --webrtc/, args.join(" "));
  }
  assert.throws(() => parseClientFlags(["--webrtc", "--p2p-timeout", "0"]), UsageError);
  assert.throws(() => parseClientFlags(["--webrtc", "--max-file-bytes", "0"]), UsageError);
  assert.throws(() => parseClientFlags(["--webrtc", "--download-dir", " "]), UsageError);
  assert.throws(() => parseClientFlags(["--webrtc", "--transfer-idle", "0"]), UsageError);
});

Deno.test("parseClientFlags() takes only a ws: or wss: URL without a fragment", () => {
  assert.equal(
    parseClientFlags(["--url", "wss://example.com:443/path?q=1"]).url,
    "wss://example.com:443/path?q=1",
  );
  for (const url of ["http://example.com", "example.com:8765", "ws://", "ws://h/#frag", ""]) {
    assert.throws(() => parseClientFlags(["--url", url]), UsageError, url);
  }
});

Deno.test("parseServerFlags() refuses --turn-url together with --redis", () => {
  assert.throws(
    () =>
      parseServerFlags([
        "--redis",
        "redis://127.0.0.1:6379",
        "--turn-url",
        "turn:127.0.0.1:3478",
        "--turn-secret-file",
        "/dev/null",
      ]),
    /--turn-url cannot be combined with --redis yet/,
  );
});

Deno.test("parseServerFlags() refuses --api-keys together with --redis", () => {
  assert.throws(
    () => parseServerFlags(["--redis", "redis://127.0.0.1:6379", "--api-keys", "keys.json"]),
    /--api-keys cannot be combined with --redis yet/,
  );
});
