/**
 * How a client presents its key on the WebSocket handshake, and the check
 * the server makes before upgrading. Pure: a request's headers in, a verdict
 * out. No verdict, log line or response body ever contains the key.
 *
 * - Programs send `Authorization: Bearer <key>`.
 * - Browsers cannot set headers on a WebSocket, so they offer the
 *   subprotocol `switchboard.key.<key>` next to `switchboard`, and the server
 *   answers with `switchboard`.
 *
 * A key in the query string is never read: it would land in proxy and
 * access logs. The server asks `Access` (`access.ts`), which uses this.
 *
 * @module
 */

import type { KeyRecord } from "./key_file.ts";
import type { Keyring } from "./keyring.ts";
import { KEY_SUBPROTOCOL_PREFIX, SUBPROTOCOL } from "../shared/protocol.js";

// The page offers these names too: they are declared once, in the shared protocol.
export { KEY_SUBPROTOCOL_PREFIX, SUBPROTOCOL };

/** The challenge sent with a 401. */
export const WWW_AUTHENTICATE = 'Bearer realm="switchboard"';

/** The key and subprotocols a handshake carries. */
export interface Presented {
  /** The key, from `Authorization` or a `switchboard.key.` subprotocol. */
  key: string | undefined;
  /** Whether the client offered the `switchboard` subprotocol. */
  offersSubprotocol: boolean;
  /** Whether the key came in a subprotocol. */
  keyInSubprotocol: boolean;
}

/**
 * Reads the key and subprotocols from handshake headers. `Authorization`
 * wins when both are there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { presented } from "./credentials.ts";
 * const browser = new Headers({ "sec-websocket-protocol": "switchboard, switchboard.key.sbk_x" });
 * assert.deepEqual(presented(browser), {
 *   key: "sbk_x",
 *   offersSubprotocol: true,
 *   keyInSubprotocol: true,
 * });
 * assert.equal(presented(new Headers({ authorization: "Bearer sbk_y" })).key, "sbk_y");
 * ```
 */
export function presented(headers: Headers): Presented {
  const offered = (headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  const fromProtocol = offered.find((p) => p.startsWith(KEY_SUBPROTOCOL_PREFIX))
    ?.slice(KEY_SUBPROTOCOL_PREFIX.length);
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.get("authorization") ?? "")?.[1];
  const key = bearer ?? (fromProtocol || undefined);
  return {
    key,
    offersSubprotocol: offered.includes(SUBPROTOCOL),
    keyInSubprotocol: bearer === undefined && key !== undefined,
  };
}

/**
 * The refusal of a key or token offered in a subprotocol without
 * `switchboard` next to it: the answer must name a subprotocol the client
 * offered, and only that one may be named.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { misplacedCredential, presented } from "./credentials.ts";
 * const alone = new Headers({ "sec-websocket-protocol": "switchboard.key.sbk_x" });
 * assert.equal(misplacedCredential(presented(alone))?.status, 400);
 * ```
 */
export function misplacedCredential(shown: Presented): Denied | undefined {
  if (!shown.keyInSubprotocol || shown.offersSubprotocol) return undefined;
  return {
    status: 400,
    reason: `offer the subprotocol "${SUBPROTOCOL}" next to the one carrying the key`,
    headers: {},
  };
}

/** A handshake the key check lets through, and whose key it was. */
export interface Admitted {
  /** The key's entry. */
  record: KeyRecord;
}

/** A handshake the key check refuses. */
export interface Denied {
  /** 401 for a missing or unknown key, 400 for a key offered the wrong way. */
  status: 400 | 401;
  /** One line for the response and the log; never the key. */
  reason: string;
  /** `WWW-Authenticate` with a 401. */
  headers: Record<string, string>;
  /** For a refused access token, why (for the `token.rejected` event). */
  token?: string;
}

/**
 * Checks the key a handshake presents against `keyring`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkKey } from "./credentials.ts";
 * import { generateKey, hashKey } from "./key_file.ts";
 * import { Keyring } from "./keyring.ts";
 * const key = generateKey();
 * const keyring = new Keyring([
 *   { label: "acme", sha256: hashKey(key), createdAt: "2026-01-01T00:00:00.000Z" },
 * ]);
 * const ok = checkKey(new Headers({ authorization: `Bearer ${key}` }), keyring);
 * assert.ok("record" in ok && ok.record.label === "acme");
 * const wrong = checkKey(new Headers({ authorization: `Bearer ${generateKey()}` }), keyring);
 * assert.ok("status" in wrong && wrong.status === 401 && !wrong.reason.includes("sbk_"));
 * ```
 */
export function checkKey(
  headers: Headers,
  keyring: Keyring,
  revoked: ReadonlySet<string> = new Set(),
): Admitted | Denied {
  const shown = presented(headers);
  const { key } = shown;
  const challenge = { "www-authenticate": WWW_AUTHENTICATE };
  if (key === undefined) {
    return { status: 401, reason: "API key required", headers: challenge };
  }
  const misplaced = misplacedCredential(shown);
  if (misplaced) return misplaced;
  const record = keyring.find(key);
  // A key revoked elsewhere in the cluster is refused exactly like an unknown one.
  if (record === undefined || revoked.has(record.sha256)) {
    return { status: 401, reason: "API key not valid", headers: challenge };
  }
  return { record };
}
