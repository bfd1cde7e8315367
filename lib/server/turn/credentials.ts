/**
 * Short-lived TURN credentials in coturn's REST-API scheme (`use-auth-secret`):
 * the signaling server shares a secret with the TURN server and gives each
 * client the username `<expiry unix time>:<client id>` and the password
 * `base64(HMAC-SHA1(secret, username))`. The TURN server recomputes the
 * password from the username, and refuses it once the expiry has passed, so
 * no long-term password ever reaches a browser. Pure apart from Web Crypto.
 *
 * @module
 */

import type { IceServer } from "../../protocol/messages.ts";

/** The default lifetime of issued credentials, in seconds. */
export const DEFAULT_TURN_TTL = 3600;

/**
 * The username for `clientId`, valid until `ttlSeconds` after `nowMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { turnUsername } from "./credentials.ts";
 * assert.equal(turnUsername("abc", 3600, 1_700_000_000_500), "1700003600:abc");
 * ```
 */
export function turnUsername(clientId: string, ttlSeconds: number, nowMs: number): string {
  return `${Math.floor(nowMs / 1000) + Math.floor(ttlSeconds)}:${clientId}`;
}

/**
 * Imports `secret` as an HMAC-SHA1 key that cannot be exported again, so the
 * secret's text need not be kept once the key exists.
 */
export function turnKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
}

/**
 * The password for `username`: `base64(HMAC-SHA1(secret, username))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { turnKey, turnPassword } from "./credentials.ts";
 * // printf '%s' 1700000000:alice | openssl dgst -sha1 -hmac s3cret -binary | base64
 * assert.equal(
 *   await turnPassword(await turnKey("s3cret"), "1700000000:alice"),
 *   "TtElzSjT0GdnTQ9xdcRNxx96yQs=",
 * );
 * ```
 */
export async function turnPassword(key: CryptoKey, username: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(username));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

/** What the server needs to issue TURN credentials. */
export interface TurnSettings {
  /** `turn:` and `turns:` URLs, in the order clients should try them. */
  urls: readonly string[];
  /** The secret shared with the TURN server (coturn's `static-auth-secret`). */
  secret: string;
  /** How long issued credentials stay valid, in seconds. */
  ttlSeconds: number;
}

/**
 * Issues credentials for one client at a time: one `RTCIceServer` entry
 * with every TURN URL and a fresh username and password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TurnCredentials } from "./credentials.ts";
 * const turn = await TurnCredentials.create({
 *   urls: ["turn:turn.example.org:3478?transport=udp"],
 *   secret: "s3cret",
 *   ttlSeconds: 600,
 * });
 * assert.deepEqual(await turn.iceServers("alice", 1_699_999_400_000), [{
 *   urls: ["turn:turn.example.org:3478?transport=udp"],
 *   username: "1700000000:alice",
 *   credential: "TtElzSjT0GdnTQ9xdcRNxx96yQs=",
 * }]);
 * ```
 */
export class TurnCredentials {
  readonly #urls: string[];
  readonly #key: CryptoKey;
  readonly #ttlSeconds: number;

  private constructor(urls: readonly string[], key: CryptoKey, ttlSeconds: number) {
    this.#urls = [...urls];
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * @throws {TypeError} When there is no URL, the secret is empty or the
   *   lifetime is not positive.
   */
  static async create(settings: TurnSettings): Promise<TurnCredentials> {
    if (settings.urls.length === 0) throw new TypeError("TURN needs at least one URL");
    if (settings.secret === "") throw new TypeError("the TURN secret is empty");
    if (!(settings.ttlSeconds >= 1)) {
      throw new TypeError("the TURN credential lifetime must be at least 1 s");
    }
    return new TurnCredentials(settings.urls, await turnKey(settings.secret), settings.ttlSeconds);
  }

  /** The TURN entry for `clientId`'s `paired` message, valid from `nowMs`. */
  async iceServers(clientId: string, nowMs: number = Date.now()): Promise<IceServer[]> {
    const username = turnUsername(clientId, this.#ttlSeconds, nowMs);
    const credential = await turnPassword(this.#key, username);
    return [{ urls: [...this.#urls], username, credential }];
  }
}
