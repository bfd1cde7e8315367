/**
 * Connects an instance to Redis and builds its shared signaling: the one
 * place that wires a {@linkcode RedisLink} to a {@linkcode RedisSignaling}.
 * `server.ts` calls this when `--redis` is given; nothing else knows.
 *
 * @module
 */

import type { SignalingFactory } from "../service.ts";
import { RedisLink } from "./link.ts";
import { DEFAULT_HEARTBEAT, type HeartbeatOptions, RedisSignaling } from "./redis_signaling.ts";
import type { RedisTarget } from "./url.ts";

/** How to reach Redis and how long to wait for it. */
export interface RedisStoreOptions {
  /** The parsed `--redis` URL. */
  target: RedisTarget;
  /** A password from the environment, used when the URL has none. */
  password?: string | undefined;
  /** The longest any Redis call may take, in ms. */
  timeoutMs?: number;
  /** The longest connecting at start may take, in ms. */
  connectTimeoutMs?: number;
  /** Heartbeat timing; the defaults notice a dead instance within 2 s. */
  heartbeat?: HeartbeatOptions;
}

/** A connected store, ready to give a server its signaling. */
export interface RedisStore {
  /** This instance's id in Redis. */
  readonly instance: string;
  /** Builds the server's signaling on this store; call once. */
  readonly signaling: SignalingFactory;
  /** Disconnects when the server never started. */
  close(): Promise<void>;
}

/** The default limit on every Redis call, in ms. */
export const DEFAULT_REDIS_TIMEOUT_MS = 2000;

/** The default limit on connecting at start, in ms: a busy machine's first connection is slow. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * Connects, subscribes, and enters this instance in Redis.
 *
 * @throws {Error} When Redis is unreachable or refuses within the timeout;
 * the message never holds the password.
 */
export async function connectRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const instance = crypto.randomUUID();
  const heartbeat = options.heartbeat ?? DEFAULT_HEARTBEAT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  let signaling: RedisSignaling | undefined;
  const link = await RedisLink.connect({
    target: options.target,
    password: options.password,
    instance,
    timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    onEvent: (payload) => signaling?.receive(payload),
    onLost: (reason) => signaling?.linkLost(reason),
  });
  let revoked: string[];
  try {
    const entered = await link.call("enter", [instance, String(heartbeat.ttlMs)]);
    revoked = entered.slice(1).map(String);
  } catch (error) {
    await link.close();
    throw error;
  }
  return {
    instance,
    signaling: (registry, signalingOptions) => {
      if (signaling) throw new Error("this Redis store already serves a server");
      signaling = new RedisSignaling(
        registry,
        link,
        instance,
        signalingOptions,
        heartbeat,
        revoked,
      );
      return signaling;
    },
    close: () => link.close(),
  };
}
