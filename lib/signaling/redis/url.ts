/**
 * The `--redis` URL: checked when the flags are parsed, its password kept
 * apart so that it never reaches a log line. Pure: no network, no environment.
 *
 * @module
 */

/** Where Redis is, as the server connects to it. */
export interface RedisTarget {
  /** The URL without its password, for the client library. */
  url: string;
  /** The password the URL carried, if any. */
  password: string | undefined;
  /** The URL for log lines and messages: `redis://host:port/db`, never a password. */
  display: string;
}

/** The environment variable a password may come from instead of the URL. */
export const REDIS_PASSWORD_ENV = "SWITCHBOARD_REDIS_PASSWORD";

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS).
 *
 * @throws {TypeError} When `raw` is not such a URL; the message never
 * repeats a password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "./url.ts";
 * const target = parseRedisUrl("redis://:s3cret@127.0.0.1:6380/2");
 * assert.equal(target.password, "s3cret");
 * assert.equal(target.url, "redis://127.0.0.1:6380/2");
 * assert.equal(target.display, "redis://127.0.0.1:6380/2");
 * assert.throws(() => parseRedisUrl("http://127.0.0.1"), TypeError);
 * ```
 */
export function parseRedisUrl(raw: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`not a redis:// or rediss:// URL: "${withoutPassword(raw)}"`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(
      `not a redis:// or rediss:// URL (scheme ${url.protocol}): "${withoutPassword(raw)}"`,
    );
  }
  if (url.hostname === "") throw new TypeError("the Redis URL has no host");
  if (!/^(\/\d{0,2})?$/.test(url.pathname) || url.search !== "" || url.hash !== "") {
    throw new TypeError(
      `the Redis URL takes a database number as its only path, got "${url.pathname}${url.search}${url.hash}"`,
    );
  }
  const password = url.password === "" ? undefined : decodeURIComponent(url.password);
  url.password = "";
  const clean = url.href.replace(/\/$/, "");
  // A username without a password leaves a bare "@"; drop the user for display too.
  url.username = "";
  return { url: clean, password, display: url.href.replace(/\/$/, "") };
}

/** `raw` with anything between `//` and `@` masked, for error messages. */
function withoutPassword(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, "//***@");
}
