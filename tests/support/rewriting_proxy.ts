/**
 * A hostile signaling path for tests: a WebSocket proxy in front of a real
 * server that passes every frame on, except that it may rewrite the text
 * frames the server sends to clients. With it a test plays a server that
 * swaps the DTLS fingerprints in the descriptions it relays.
 *
 * @module
 */

/** A running proxy. */
export interface RewritingProxy extends AsyncDisposable {
  /** `ws://127.0.0.1:PORT`: connect clients here instead of to the server. */
  url: string;
  /** How many frames the rewrite changed. */
  readonly rewritten: number;
}

/**
 * Starts a proxy to `upstream` that passes each server → client text frame
 * through `rewrite`.
 */
export function rewritingProxy(
  upstream: string,
  rewrite: (text: string) => string,
): RewritingProxy {
  let rewritten = 0;
  const sockets = new Set<WebSocket>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket: client, response } = Deno.upgradeWebSocket(request);
    const url = new URL(request.url);
    const server = new WebSocket(`${upstream}${url.pathname}${url.search}`);
    sockets.add(client).add(server);
    // What the client says before the server's side opens waits for it.
    const early: (string | ArrayBuffer)[] = [];
    client.onmessage = (event) => {
      if (server.readyState === WebSocket.OPEN) server.send(event.data);
      else early.push(event.data);
    };
    server.onopen = () => {
      for (const data of early.splice(0)) server.send(data);
    };
    server.onmessage = (event) => {
      if (client.readyState !== WebSocket.OPEN) return;
      if (typeof event.data !== "string") return client.send(event.data);
      const changed = rewrite(event.data);
      if (changed !== event.data) rewritten++;
      client.send(changed);
    };
    const closeBoth = () => {
      for (const socket of [client, server]) {
        if (socket.readyState === WebSocket.OPEN) socket.close();
        sockets.delete(socket);
      }
    };
    client.onclose = closeBoth;
    server.onclose = closeBoth;
    client.onerror = () => {};
    server.onerror = () => {};
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    get rewritten() {
      return rewritten;
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.close();
      await server.shutdown();
    },
  };
}

/**
 * Rewrites the fingerprints of any `offer` or `answer` in a server frame, as
 * a server in the middle would to put its own certificate there: the last
 * hex digit of each `a=fingerprint` line changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { swapFingerprints } from "./rewriting_proxy.ts";
 * const frame = JSON.stringify({ type: "offer", sdp: "a=fingerprint:sha-256 AB:CD\r\n", from: "x" });
 * assert.match(JSON.parse(swapFingerprints(frame)).sdp, /AB:CE/);
 * ```
 */
export function swapFingerprints(text: string): string {
  const message = JSON.parse(text);
  if ((message.type !== "offer" && message.type !== "answer") || typeof message.sdp !== "string") {
    return text;
  }
  message.sdp = message.sdp.replace(
    /^(a=fingerprint:\S+ [0-9A-Fa-f:]*)([0-9A-Fa-f])(\r?)$/gm,
    (_: string, head: string, last: string, cr: string) =>
      `${head}${((parseInt(last, 16) + 1) % 16).toString(16).toUpperCase()}${cr}`,
  );
  return JSON.stringify(message);
}
