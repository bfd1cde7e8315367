/**
 * The access token of one connection: when it runs out (a warning, then
 * the close, through `token_lifetime.ts`), and a fresh one the client sends
 * on the open connection (`refresh`), which must be the same user's in the
 * same tenant. The connection says how to send, refuse and close; this
 * decides when.
 *
 * @module
 */

import type { Access } from "../auth/access.ts";
import type { AccessToken } from "../auth/token_claims.ts";
import { getLogger } from "../runtime/deps.ts";
import { printable, truncate } from "../runtime/safe_text.ts";
import { MessageType, type ServerMessage } from "../protocol/messages.ts";
import { TokenLifetime } from "./token_lifetime.ts";

const logger = getLogger(["switchboard", "server"]);

/** What a token session needs of its connection. */
export interface TokenHost {
  /** The client's id once registered, for logs. */
  readonly clientId: string | undefined;
  /** The client's address, for logs. */
  readonly remoteAddr: string;
  /** Whether the connection still serves its registered client (not closed, not resumed elsewhere). */
  current(): boolean;
  /** Sends the client a message. */
  send(message: ServerMessage): void;
  /** Answers the client's `refresh` with `token_refused` and the reason. */
  refuse(reason: string): void;
  /** Closes the connection with 1008: the token expired. */
  expire(): void;
}

/**
 * One connection's access token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accessToken, type AccessToken } from "../auth/token_claims.ts";
 * import { TokenSession } from "./token_session.ts";
 * const token = accessToken({ sub: "ada\u001b", exp: Date.now() / 1000 + 3600 }) as AccessToken;
 * const session = new TokenSession(token, undefined as never, undefined as never);
 * assert.equal(session.user, "ada\\u001b");
 * assert.equal(session.receiveFiles, true);
 * ```
 */
export class TokenSession {
  #token: AccessToken;
  readonly #access: Access;
  readonly #host: TokenHost;
  #lifetime: TokenLifetime | undefined;
  /** The token's `sub`, printable, for logs; never the token. */
  readonly user: string | undefined;

  constructor(token: AccessToken, access: Access, host: TokenHost) {
    this.#token = token;
    this.#access = access;
    this.#host = host;
    this.user = token.sub === undefined ? undefined : truncate(printable(token.sub), 64);
  }

  /** The token the connection came with, whose grants its session keeps. */
  get token(): AccessToken {
    return this.#token;
  }

  /** Whether the client may receive files, as `your_id` tells it. */
  get receiveFiles(): boolean {
    return this.#token.receiveFiles;
  }

  /** Starts the clock once the client is registered; once only. */
  start(): void {
    if (this.#lifetime !== undefined) return;
    const host = this.#host;
    this.#lifetime = new TokenLifetime(this.#token.expiresAt, {
      expiring: (seconds) => host.send({ type: MessageType.TokenExpiring, expires_s: seconds }),
      expired: () => {
        logger.info('Client {clientId} (user "{user}"): access token expired; closing with 1008', {
          clientId: host.clientId,
          user: this.user ?? "",
          remoteAddr: host.remoteAddr,
        });
        host.expire();
      },
    });
  }

  /** Stops the clock for good: the connection is over, or another took its place. */
  stop(): void {
    this.#lifetime?.stop();
  }

  /**
   * Takes a fresh access token for the same user and tenant: the connection
   * lasts until it expires. The session keeps the grants it began with. A
   * refused one leaves the old token in force.
   */
  async refresh(jwt: string): Promise<void> {
    const fresh = await this.#access.verifyToken(jwt);
    const host = this.#host;
    // Gone meanwhile (closed, or resumed elsewhere): the answer has nobody to go to.
    if (!host.current()) return;
    // Compared with the token in force now, which another refresh may have replaced.
    const current = this.#token;
    const refused = "reason" in fresh
      ? fresh.reason
      : fresh.tenant !== current.tenant || fresh.sub !== current.sub
      ? "the fresh token is for another user or tenant"
      : undefined;
    if (refused !== undefined || "reason" in fresh) {
      logger.info("Client {clientId}: fresh access token refused: {reason}", {
        clientId: host.clientId,
        remoteAddr: host.remoteAddr,
        reason: refused,
      });
      return host.refuse(`${refused}`);
    }
    // Its grants stay those its session began with; the fresh token extends its time.
    if (fresh.expiresAt > current.expiresAt) {
      this.#token = fresh;
      this.#lifetime?.renew(fresh.expiresAt);
    }
    host.send({
      type: MessageType.TokenRefreshed,
      expires_s: TokenLifetime.secondsLeft(this.#token.expiresAt),
    });
  }
}

/** The answer to `refresh` on a connection that came with no token. */
export const NO_TOKEN_TO_REFRESH = "this connection did not come with an access token";
