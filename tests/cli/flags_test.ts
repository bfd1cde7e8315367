import assert from "node:assert/strict";
import { CLIENT_USAGE, DEFAULT_SERVER_URL, parseClientFlags } from "../../lib/cli/flags.ts";
import { UsageError } from "../../lib/runtime/args.ts";

Deno.test("parseClientFlags() defaults to the server URL ws://localhost:8765", () => {
  assert.deepEqual(parseClientFlags([]), {
    url: DEFAULT_SERVER_URL,
    once: false,
    reconnect: false,
    retryDelay: 0.5,
    maxRetries: 10,
    pair: undefined,
    code: false,
    to: undefined,
    devicesDir: undefined,
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
    keepPartials: 168,
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
      "--code",
      "--to",
      "desk",
      "--devices-dir",
      "devices",
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
      "--keep-partials",
      "0",
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
      code: true,
      to: "desk",
      devicesDir: "devices",
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
      keepPartials: 0,
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
      ["--keep-partials", "1"],
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

Deno.test("CLIENT_USAGE lists every flag, its value, usage text and default, as users know it", () => {
  assert.equal(
    CLIENT_USAGE,
    [
      "Usage: deno run --allow-net client.ts [options]",
      "",
      "  --url URL                   server to connect to (default ws://localhost:8765)",
      "  --once                      exit right after printing the id",
      "  --reconnect                 retry after a refused connection or a lost one",
      "  --retry-delay SECONDS       wait before the first retry; doubles, to 30 s (default 0.5)",
      "  --max-retries N             retries in a row before giving up (default 10)",
      "  --pair ID|CODE              ask this client to pair as soon as connected, or pair by",
      "                              its code (a code alone as the last argument does the same)",
      "  --accept                    accept pairing requests automatically",
      "  --answer-timeout SECONDS    in piped commands, how long pair and accept wait for",
      "                              their answer before the next command runs (default 60)",
      "  --api-key-file FILE         send the API key in FILE (needs --allow-read=FILE); else",
      "                              SWITCHBOARD_API_KEY, with --allow-env=SWITCHBOARD_API_KEY",
      "  --log-format text|json      log line format (default text)",
      "",
      "WebRTC mode (deno task peer; needs --allow-net --allow-env --allow-sys=networkInterfaces):",
      "  --webrtc                    chat over a peer-to-peer data channel once paired",
      "  --code                      get a code for someone to pair with you (7-tidy-orbit),",
      "                              with its link and a QR code (WebRTC mode)",
      "  --to NAME                   pair with a remembered device once both are connected",
      "  --devices-dir DIR           where remembered devices are kept; needs --allow-read=DIR",
      "                              --allow-write=DIR (deno task peer-devices) (default ~/.config/switchboard)",
      "  --p2p-timeout SECONDS       fall back to the server relay after this (default 15)",
      "  --ice-server URL            a stun: or turn: URL, added to the server's; repeatable",
      "  --ice-username NAME         username for turn: URLs; the password is read from",
      "                              SWITCHBOARD_ICE_CREDENTIAL",
      "  --relay-only                connect through TURN relays only (hides your address)",
      "",
      "Files in WebRTC mode (deno task peer-files; sendfile <path>… needs --allow-read for each path,",
      "receiving needs --allow-read=DIR --allow-write=DIR for the download folder):",
      "  --accept-files              accept file offers automatically",
      "  --download-dir DIR          where received files go, made if missing (default: the",
      "                              folder the command was started in)",
      "  --max-file-bytes N          decline offers larger than N bytes",
      "  --transfer-idle SECONDS     end a transfer that makes no progress this long (default 30)",
      "  --keep-partials HOURS       keep what an interrupted file left in the download folder",
      "                              this long to resume it (at most 20); 0 keeps nothing (default 168)",
      "  -h, --help                  show this help",
      "",
    ].join("\n"),
  );
});

Deno.test("parseClientFlags() refuses a WebRTC flag without --webrtc before reading its value", () => {
  assert.throws(
    () => parseClientFlags(["--p2p-timeout", "0"]),
    { name: "UsageError", message: "--p2p-timeout works only with --webrtc" },
  );
});

Deno.test("parseClientFlags() checks --ice-server and --ice-username together", () => {
  assert.throws(
    () => parseClientFlags(["--webrtc", "--ice-server", "turn:t.example"]),
    {
      name: "UsageError",
      message: "--ice-server turn:t.example needs --ice-username (a TURN server asks for one)",
    },
  );
  assert.throws(
    () => parseClientFlags(["--webrtc", "--ice-username", "bob"]),
    { name: "UsageError", message: "--ice-username goes with a turn: URL in --ice-server" },
  );
});

Deno.test("a code as the last argument pairs by it, unless it is a flag's value", () => {
  assert.equal(parseClientFlags(["--webrtc", "7-tidy-orbit"]).pair, "7-tidy-orbit");
  assert.equal(
    parseClientFlags(["--webrtc", "7 tidy orbit".replaceAll(" ", "-")]).pair,
    "7-tidy-orbit",
  );
  assert.equal(parseClientFlags(["--webrtc", "--pair", "7-tidy-orbit"]).pair, "7-tidy-orbit");
  // Not a code: still a stray argument, refused as before.
  assert.throws(() => parseClientFlags(["--webrtc", "hello"]), UsageError);
  assert.throws(() => parseClientFlags(["--webrtc", "7-tidy"]), UsageError);
  // A code-shaped value of a flag that takes one stays that flag's.
  assert.throws(() => parseClientFlags(["--url", "7-tidy-orbit"]), UsageError);
  assert.throws(() => parseClientFlags(["--code"]), {
    name: "UsageError",
    message: "--code works only with --webrtc",
  });
});
