export * from "npm:@logtape/logtape@^2.4.2";
export { validate as validateUuid, version as uuidVersion } from "npm:uuid@^14.0.3";

/** The WebRTC library's module, for types. */
export type Werift = typeof import("npm:werift@0.25.2");

// A specifier in a variable is not followed when a program starts: the plain
// client never downloads or loads the WebRTC library, only WebRTC mode does.
const WERIFT = "npm:werift@0.25.2";

/**
 * Loads the WebRTC library (pure TypeScript, so it runs inside Deno's
 * permission sandbox). Only WebRTC mode calls this.
 */
export function loadWerift(): Promise<Werift> {
  return import(WERIFT);
}

/** The Redis client library's module, for types. */
export type RedisModule = typeof import("npm:@redis/client@6.3.1");

// Like the WebRTC library: only a server started with --redis loads it.
const REDIS = "npm:@redis/client@6.3.1";

/** Loads the Redis client library. Only a server started with `--redis` calls this. */
export function loadRedis(): Promise<RedisModule> {
  return import(REDIS);
}

/** The JOSE library's module (JWT verification on Web Crypto), for types. */
export type JoseModule = typeof import("npm:jose@6.2.19");

/** A JWS protected header, as the JOSE library's key resolvers take it. */
export type JwsHeader = import("npm:jose@6.2.19").JWSHeaderParameters;

// Like the others: only a server that verifies access tokens loads it.
const JOSE = "npm:jose@6.2.19";

/** Loads the JOSE library. Only a server started with a token key or secret calls this. */
export function loadJose(): Promise<JoseModule> {
  return import(JOSE);
}
