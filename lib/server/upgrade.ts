/**
 * The WebSocket upgrade path: a handshake is checked (RFC 6455, origin, API
 * key, shutdown, sockets per address) and refused with a plain HTTP answer,
 * or upgraded and handed to a new {@linkcode Connection}.
 *
 * @module
 */

import type { Entered } from "../auth/access.ts";
import { type Denied, SUBPROTOCOL } from "../auth/credentials.ts";
import { resumeRequest } from "../protocol/resume_params.ts";
import { errorText, printable, truncate } from "../runtime/safe_text.ts";
import { type Cidr, type ClientAddress, clientAddress } from "./client_address.ts";
import { Connection, type ServerState } from "./connection.ts";
import { checkUpgrade, offeredSubprotocols, type Refusal } from "./handshake.ts";

/**
 * Answers an upgrade request: `101` with a new connection, or the refusal,
 * counted and logged (capped, since strangers can cause refusals at will).
 *
 * @param server What every connection shares.
 * @param trusted The proxies' ranges (`--trust-proxy`), for the client's address.
 */
export function upgrade(
  server: ServerState,
  trusted: readonly Cidr[],
  request: Request,
  peer: Deno.NetAddr,
): Response | Promise<Response> {
  const { config } = server;
  const client = clientAddress(peer, request.headers, trusted);
  const remoteAddr = client.address;
  const refusal = checkUpgrade(request, config.allowedOrigins);
  if (refusal) return refuse(server, refusal, remoteAddr);
  const checked = server.access.handshake(request.headers);
  // Only a token's signature takes a moment; a key's check and an open server answer at once.
  if (checked instanceof Promise) {
    return checked.then((entered) => admit(server, request, client, entered));
  }
  return admit(server, request, client, checked);
}

/** Upgrades a handshake whose credential (if any) was accepted, unless something else refuses it. */
function admit(
  server: ServerState,
  request: Request,
  client: ClientAddress,
  entered: Entered | Denied,
): Response {
  const { config, sockets } = server;
  const remoteAddr = client.address;
  if ("status" in entered) {
    if (entered.token !== undefined) server.config.webhooks?.tokenRejected(entered.token);
    return refuse(server, entered, remoteAddr);
  }
  // Refused before the upgrade, so no socket exists to get stuck.
  if (server.stopping) {
    return refuse(server, { status: 503, reason: "server shutting down" }, remoteAddr);
  }
  if (!sockets.admits(client.key)) {
    return refuse(server, {
      status: 429,
      reason: `too many connections from ${client.key} (limit ${config.maxClientsPerIp})`,
    }, remoteAddr);
  }
  let upgraded;
  try {
    upgraded = Deno.upgradeWebSocket(request, { idleTimeout: config.idleTimeout });
  } catch (error) {
    const reason = truncate(printable(errorText(error)));
    return refuse(server, { status: 400, reason }, remoteAddr);
  }
  // Browsers fail a handshake whose answer names none of the subprotocols
  // they offered. Set here, not with the runtime's `protocol` option, which
  // refuses a list written without spaces (`switchboard,switchboard.key.K`).
  if (offeredSubprotocols(request).includes(SUBPROTOCOL)) {
    upgraded.response.headers.set("sec-websocket-protocol", SUBPROTOCOL);
  }
  server.metrics.connections++;
  sockets.track(upgraded.socket, client.key, remoteAddr);
  new Connection(
    server,
    upgraded.socket,
    remoteAddr,
    resumeRequest(request.url),
    entered.record,
    client.key,
    entered.token,
  );
  return upgraded.response;
}

function refuse(server: ServerState, refusal: Refusal, remoteAddr: string): Response {
  server.metrics.refused(refusal.status);
  server.refusalLog.warn(
    "Refused a handshake from {remoteAddr}: {status} {reason}",
    "Refused a handshake from {remoteAddr}: {status} {reason} ({skipped} more refused, not logged)",
    { remoteAddr, status: refusal.status, reason: refusal.reason },
  );
  return new Response(`${refusal.reason}\n`, {
    status: refusal.status,
    headers: refusal.headers ?? {},
  });
}
