/**
 * The floor: the smallest correct Deno server for Switchboard's job. Every
 * client gets a v4 UUID as its first message, is kept in a map until it goes,
 * and gets one log line when it comes and one when it goes; `/healthz` counts
 * the clients. The benchmark reports Switchboard's figures as ratios to this.
 *
 * ```sh
 * deno run --allow-net bench/baseline_server.ts --port 8765
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Starts the baseline server on `hostname:port` and returns it. */
export function startBaseline(hostname: string, port: number): Deno.HttpServer<Deno.NetAddr> {
  const clients = new Map<string, WebSocket>();
  const startedAt = performance.now();
  return Deno.serve({
    hostname,
    port,
    onListen: (addr) => console.error(`Server listening on ws://${addr.hostname}:${addr.port}`),
  }, (request) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({
        status: "ok",
        clients: clients.size,
        uptime_s: Math.floor((performance.now() - startedAt) / 1000),
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    const id = crypto.randomUUID();
    socket.onopen = () => {
      clients.set(id, socket);
      console.log(`Client ${id} connected`);
      socket.send(JSON.stringify({ type: "your_id", id }));
    };
    socket.onclose = () => {
      if (clients.delete(id)) console.log(`Client ${id} disconnected`);
    };
    return response;
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { host: { type: "string" }, port: { type: "string" } },
  });
  const server = startBaseline(values.host ?? "127.0.0.1", Number(values.port ?? 8765));
  await server.finished;
}
