/**
 * The signaling server: HTTP routing, the WebSocket handshake, and the life
 * of one connection, wired to the registry, the protocol and the logger.
 *
 * @module
 */

import { getLogger } from "./deps.ts";
import { checkUpgrade, type Refusal, wantsUpgrade } from "./handshake.ts";
import { type DisconnectReason, Metrics } from "./metrics.ts";
import {
  CloseCode,
  ErrorCode,
  errorMessage,
  parseEnvelope,
  toClientMessage,
  truncate,
  yourId,
} from "./protocol.ts";
import { TokenBucket } from "./rate_limit.ts";
import { Registry } from "./registry.ts";
import { sendJson } from "./send_json.ts";
import { Signaling } from "./signaling.ts";

const logger = getLogger(["switchboard", "server"]);

/** How the server listens and what it tolerates. */
export interface ServerOptions {
  /** The interface to listen on. */
  host: string;
  /** The TCP port; 0 picks a free one. */
  port: number;
  /** Seconds without a pong before a client is dropped (Deno pings). */
  idleTimeout: number;
  /** The largest message accepted, in bytes; larger closes with 1009. */
  maxMessageBytes: number;
  /** Messages per second a client may send in the long run. */
  rateLimit: number;
  /** Messages a client may send in one burst. */
  rateBurst: number;
  /** The most clients registered at once; more are refused with 1013. */
  maxClients: number;
  /** Origins allowed to connect; empty allows any. */
  allowedOrigins: readonly string[];
  /** Seconds a pairing request stays pending before it times out. */
  pairTimeout: number;
}

/** The defaults: the spec's `localhost:8765`, and limits no real client hits. */
export const DEFAULT_SERVER_OPTIONS: Readonly<ServerOptions> = {
  host: "localhost",
  port: 8765,
  idleTimeout: 30,
  maxMessageBytes: 64 * 1024,
  rateLimit: 20,
  rateBurst: 50,
  maxClients: 10_000,
  allowedOrigins: [],
  pairTimeout: 30,
};

/** A server that is listening. */
export interface RunningServer {
  /** The bound address (the real port when `port` was 0). */
  readonly addr: Deno.NetAddr;
  /** `ws://host:port`, for clients. */
  readonly url: string;
  /** The connected clients. */
  readonly registry: Registry<WebSocket>;
  /** The server's counters. */
  readonly metrics: Metrics;
  /** Pairing and relay between clients. */
  readonly signaling: Signaling;
  /**
   * Closes every client with 1001, stops listening, and resolves once every
   * disconnect has been handled. Safe to call more than once.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Starts a server. It is listening when this returns.
 *
 * @example
 * ```ts ignore
 * import { startServer } from "./server.ts";
 * const server = startServer({ port: 0 });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export function startServer(options: Partial<ServerOptions> = {}): RunningServer {
  const config: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const registry = new Registry<WebSocket>();
  const metrics = new Metrics();
  const signaling = new Signaling(registry, { pairTimeoutMs: config.pairTimeout * 1000 });
  const startedAt = performance.now();
  let stopping: Promise<void> | undefined;

  logger.info("Server starting...");
  const httpServer = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: (addr) => {
      logger.info("Server listening on {url}", {
        url: `ws://${formatAddr(addr as Deno.NetAddr)}`,
      });
    },
  }, (request, info) => {
    if (!wantsUpgrade(request)) return serveHttp(request);
    const remoteAddr = formatAddr(info.remoteAddr);
    const refusal = checkUpgrade(request, config.allowedOrigins);
    if (refusal) return refuse(refusal, remoteAddr);
    let upgrade;
    try {
      upgrade = Deno.upgradeWebSocket(request, {
        idleTimeout: config.idleTimeout,
      });
    } catch (error) {
      return refuse({ status: 400, reason: errorText(error) }, remoteAddr);
    }
    metrics.connections++;
    serveConnection(upgrade.socket, remoteAddr);
    return upgrade.response;
  });

  const addr = httpServer.addr;
  const url = `ws://${formatAddr(addr)}`;

  function serveHttp(request: Request): Response {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/healthz") {
      return Response.json({
        status: stopping ? "stopping" : "ok",
        clients: registry.size,
        uptime_s: Math.floor((performance.now() - startedAt) / 1000),
      }, { status: stopping ? 503 : 200 });
    }
    if (request.method === "GET" && path === "/metrics") {
      return new Response(metrics.render(registry.size), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    return new Response(
      "Upgrade Required: this is a WebSocket endpoint (try /healthz or /metrics)\n",
      {
        status: 426,
        headers: { upgrade: "websocket", connection: "Upgrade" },
      },
    );
  }

  function refuse(refusal: Refusal, remoteAddr: string): Response {
    logger.warn("Refused a handshake from {remoteAddr}: {status} {reason}", {
      remoteAddr,
      status: refusal.status,
      reason: refusal.reason,
    });
    return new Response(`${refusal.reason}\n`, {
      status: refusal.status,
      headers: refusal.headers ?? {},
    });
  }

  /** The whole life of one connection: open, register, receive, close. */
  function serveConnection(socket: WebSocket, remoteAddr: string): void {
    let clientId: string | undefined;
    let closingFor: DisconnectReason | undefined;
    let ignored = 0;
    const bucket = new TokenBucket(
      config.rateLimit,
      config.rateBurst,
      performance.now(),
    );
    socket.binaryType = "arraybuffer";

    const closeFor = (code: CloseCode, reason: string): void => {
      closingFor = "limit";
      socket.close(code, reason);
    };

    socket.onopen = () => {
      if (stopping) {
        socket.close(CloseCode.GoingAway, "Server shutting down");
        return;
      }
      if (registry.size >= config.maxClients) {
        logger.warn(
          "Refused a client from {remoteAddr}: server full ({maxClients} clients)",
          { remoteAddr, maxClients: config.maxClients },
        );
        sendJson(
          socket,
          errorMessage(ErrorCode.ServerFull, "The server is full; try again later."),
        );
        closeFor(CloseCode.TryAgainLater, "server full");
        return;
      }
      clientId = registry.register(socket, remoteAddr);
      logger.info("Client {clientId} connected from {remoteAddr}", {
        clientId,
        remoteAddr,
      });
      sendJson(socket, yourId(clientId));
    };

    socket.onmessage = (event: MessageEvent) => {
      metrics.messagesReceived++;
      // Frames already in flight when we closed are counted, not judged:
      // one log line per offence, however hard the client floods.
      if (clientId === undefined || closingFor) {
        ignored++;
        return;
      }
      const data: unknown = event.data;
      const size = typeof data === "string"
        ? byteLength(data, config.maxMessageBytes)
        : (data as ArrayBuffer).byteLength;
      if (size > config.maxMessageBytes) {
        metrics.badMessage("message_too_big");
        logger.warn(
          "Client {clientId} at {remoteAddr} sent {size} bytes (limit {limit}); closing with 1009",
          { clientId, remoteAddr, size, limit: config.maxMessageBytes },
        );
        closeFor(CloseCode.MessageTooBig, "message too big");
        return;
      }
      if (!bucket.take(performance.now())) {
        metrics.badMessage("rate_limited");
        logger.warn(
          "Client {clientId} at {remoteAddr} exceeded {rate} messages/s (burst {burst}); closing with 1008",
          {
            clientId,
            remoteAddr,
            rate: config.rateLimit,
            burst: config.rateBurst,
          },
        );
        closeFor(CloseCode.PolicyViolation, "rate limit exceeded");
        return;
      }
      if (typeof data !== "string") {
        reject(
          clientId,
          ErrorCode.BinaryNotSupported,
          `binary frames are not supported (${size} bytes); send JSON text`,
        );
        return;
      }
      const parsed = parseEnvelope(data);
      if (!parsed.ok) {
        reject(clientId, parsed.code, `${parsed.reason}: ${truncate(data)}`);
        return;
      }
      const checked = toClientMessage(parsed.message);
      if (!checked.ok) {
        reject(clientId, checked.code, checked.reason);
        return;
      }
      const refused = signaling.handle(clientId, checked.message);
      if (refused) reject(clientId, refused.code, refused.reason);
    };

    const reject = (id: string, code: ErrorCode, reason: string): void => {
      metrics.badMessage(code);
      logger.warn("Bad message from client {clientId} at {remoteAddr}: {reason}", {
        clientId: id,
        remoteAddr,
        code,
        reason,
      });
      sendJson(socket, errorMessage(code, reason));
    };

    socket.onerror = () => {
      // A close event always follows; the disconnect is handled there.
    };

    socket.onclose = (event: CloseEvent) => {
      // Deno fires close twice for a ping timeout; unregister only once.
      if (clientId === undefined || !registry.unregister(clientId)) return;
      const reason = closingFor ?? (stopping ? "shutdown" : classify(event));
      metrics.disconnected(reason);
      logger.info(
        "Client {clientId} disconnected (code {code}, {reason}).",
        {
          clientId,
          remoteAddr,
          code: event.code,
          reason,
          ...(ignored > 0 ? { ignoredMessages: ignored } : {}),
        },
      );
      if (ignored > 0) {
        logger.warn(
          "Client {clientId} sent {ignored} more messages after it was told to close.",
          { clientId, remoteAddr, ignored },
        );
      }
      signaling.disconnected(clientId);
    };
  }

  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      logger.info("Shutting down...");
      // Deno closes every WebSocket with 1001 here and waits for each close.
      await httpServer.shutdown();
      signaling.close();
      logger.info("Server stopped.");
    })();
    return stopping;
  }

  return {
    addr,
    url,
    registry,
    metrics,
    signaling,
    shutdown,
    finished: httpServer.finished,
  };
}

/** Formats an address as `ip:port`, bracketing IPv6. */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * Why a client went away, from its close event: a ping timeout is an unclean
 * 1001 from the runtime, a lost TCP connection an unclean 0 or 1006.
 */
export function classify(event: Pick<CloseEvent, "code" | "wasClean">): DisconnectReason {
  if (event.wasClean) return "clean";
  return event.code === CloseCode.GoingAway ? "timeout" : "abrupt";
}

const encoder = new TextEncoder();

// UTF-8 is at most 3 bytes per UTF-16 unit, so most messages skip encoding.
function byteLength(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : encoder.encode(text).length;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
