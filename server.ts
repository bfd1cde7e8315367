/**
 * Switchboard's signaling server.
 *
 * ```sh
 * deno run --allow-net server.ts --port 8765
 * deno run --allow-net --allow-read=keys.json server.ts --api-keys keys.json
 * deno task keys new --label acme
 * ```
 *
 * @module
 */

import type { KeyRecord } from "./lib/auth/key_file.ts";
import { readKeyFile } from "./lib/auth/key_file_io.ts";
import { runKeysCommand } from "./lib/auth/keys_command.ts";
import { parseServerFlags, SERVER_USAGE, type ServerFlags } from "./lib/server/flags.ts";
import { readTokenKeys } from "./lib/auth/token_keys.ts";
import { TokenVerifier } from "./lib/auth/tokens.ts";
import { readWebhookSecret } from "./lib/server/webhooks/secret.ts";
import { Webhooks } from "./lib/server/webhooks/webhooks.ts";
import { UsageError, usageError } from "./lib/runtime/args.ts";
import { getLogger } from "./lib/runtime/deps.ts";
import { setupLogging } from "./lib/runtime/logging.ts";
import { errorText } from "./lib/runtime/safe_text.ts";
import {
  ICE_CREDENTIAL_ENV,
  iceServersFromUrls,
  needsCredential,
} from "./lib/protocol/ice_servers.ts";
import type { TlsFiles } from "./lib/server/config.ts";
import { readSecretEnv } from "./lib/runtime/permissions.ts";
import { ListenError, type RunningServer, startServer } from "./lib/server/start.ts";
import type { SignalingFactory } from "./lib/signaling/service.ts";
import { parseRedisUrl, REDIS_PASSWORD_ENV } from "./lib/signaling/redis/url.ts";
import { TurnCredentials } from "./lib/server/turn/credentials.ts";
import { readTurnSecret } from "./lib/server/turn/secret.ts";
import { readTlsFiles } from "./lib/server/tls.ts";
import { runUntilSignalled } from "./lib/server/signals.ts";

const logger = getLogger(["switchboard", "server"]);

export { type RunningServer, type ServerOptions, startServer } from "./lib/server/start.ts";
export { SignalStopper } from "./lib/server/signals.ts";

/**
 * Runs the server until SIGINT or SIGTERM, then shuts it down gracefully;
 * a second signal exits at once with 130. With `--api-keys`, SIGHUP reloads
 * the keys file; without, it is logged and changes nothing. `server.ts keys
 * ...` manages keys files instead.
 *
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "keys") {
    return await runKeysCommand(args.slice(1), {
      stdout: (line) => console.log(line),
      stderr: (line) => console.error(line),
    });
  }
  let flags;
  try {
    flags = parseServerFlags(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(usageError(SERVER_USAGE, error.message));
    return 2;
  }
  if (flags.help) {
    console.log(SERVER_USAGE);
    return 0;
  }
  setupLogging({ format: flags.logFormat });
  let credential: string | undefined;
  if (needsCredential(flags.iceUrls)) {
    try {
      credential = await readSecretEnv(ICE_CREDENTIAL_ENV);
    } catch (error) {
      logger.error("Cannot start: {error}", { error: errorText(error) });
      return 1;
    }
  }
  const iceServers = iceServersFromUrls(flags.iceUrls, flags.iceUsername, credential);
  let turn: TurnCredentials | undefined;
  if (flags.turnUrls.length > 0) {
    try {
      turn = await TurnCredentials.create({
        urls: flags.turnUrls,
        secret: await readTurnSecret(flags.turnSecretFile),
        ttlSeconds: flags.turnTtl,
      });
    } catch (error) {
      logger.error("Cannot start: {error}", { error: errorText(error) });
      return 1;
    }
    logger.info("Issuing TURN credentials valid for {ttl} s for {urls}.", {
      ttl: flags.turnTtl,
      urls: flags.turnUrls.join(" "),
    });
  }
  let shared: { signaling?: SignalingFactory } = {};
  let closeStore = (): Promise<void> => Promise.resolve();
  if (flags.redis !== undefined) {
    const target = parseRedisUrl(flags.redis);
    try {
      // The store module and the Redis client load only here.
      const { connectRedisStore } = await import("./lib/signaling/redis/store.ts");
      const password = target.password ?? await optionalEnv(REDIS_PASSWORD_ENV);
      const store = await connectRedisStore({ target, password });
      shared = { signaling: store.signaling };
      closeStore = store.close;
      logger.info("Sharing clients through Redis at {url} as instance {instance}", {
        url: target.display,
        instance: store.instance,
      });
    } catch (error) {
      logger.error("Cannot use Redis at {url}: {error}", {
        url: target.display,
        error: redisHint(errorText(error)),
      });
      return 1;
    }
  }
  let apiKeys: KeyRecord[] | undefined;
  let tls: TlsFiles | undefined;
  let tokens: TokenVerifier | undefined;
  let webhooks: Webhooks | undefined;
  try {
    if (flags.apiKeysFile !== undefined) {
      apiKeys = await readKeyFile(flags.apiKeysFile, "--api-keys");
    }
    tokens = await tokenVerifier(flags);
    if (flags.webhookUrls.length > 0) {
      webhooks = new Webhooks({
        urls: flags.webhookUrls,
        secret: await readWebhookSecret(flags.webhookSecretFile),
        retryForMs: flags.webhookRetryFor * 1000,
      });
      logger.info("Sending events to webhook {receivers}, each retried for {seconds} s.", {
        receivers: webhooks.names.join(", "),
        seconds: flags.webhookRetryFor,
      });
    }
    if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
      tls = await readTlsFiles(flags.tlsCert, flags.tlsKey);
    }
  } catch (error) {
    logger.error("Cannot start: {error}", { error: errorText(error) });
    return 1;
  }
  let server: RunningServer;
  try {
    server = startServer({ ...flags, iceServers, turn, apiKeys, tls, tokens, webhooks }, shared);
  } catch (error) {
    webhooks?.stop();
    await closeStore();
    if (error instanceof ListenError) {
      logger.error("Cannot listen on {address}: {error}", {
        address: error.address,
        error: error.reason,
      });
    } else {
      logger.error("Cannot start: {error}", { error: errorText(error) });
    }
    return 1;
  }
  return await runUntilSignalled(server, flags.apiKeysFile);
}

/**
 * The access token check the flags ask for, with its key or secret read
 * (and the JOSE library loaded) only then; `undefined` without token flags.
 */
async function tokenVerifier(flags: ServerFlags): Promise<TokenVerifier | undefined> {
  const source = flags.tokenKey !== undefined
    ? { flag: "--token-key" as const, file: flags.tokenKey }
    : flags.tokenSecretFile !== undefined
    ? { flag: "--token-secret-file" as const, file: flags.tokenSecretFile }
    : undefined;
  if (source === undefined) return undefined;
  const keys = await readTokenKeys(source);
  const verifier = await TokenVerifier.create(keys, {
    issuer: flags.tokenIssuer,
    audience: flags.tokenAudience,
  });
  if (flags.tokenIssuer === undefined && flags.tokenAudience === undefined) {
    logger.warn(
      "Access tokens are accepted without --token-issuer or --token-audience: any token the key signs counts, even one minted for another service",
    );
  }
  logger.info("Accepting access tokens verified with {what}{rules}.", {
    what: keys.kind === "secret"
      ? "an HS256 secret"
      : `${keys.keys.length === 1 ? "1 public key" : `${keys.keys.length} public keys`}`,
    rules: [
      flags.tokenIssuer === undefined ? "" : `, iss ${JSON.stringify(flags.tokenIssuer)}`,
      flags.tokenAudience === undefined ? "" : `, aud ${JSON.stringify(flags.tokenAudience)}`,
    ].join(""),
  });
  return verifier;
}

/** An environment variable's value when this process may read it; never a prompt. */
async function optionalEnv(name: string): Promise<string | undefined> {
  const status = await Deno.permissions.query({ name: "env", variable: name });
  return status.state === "granted" ? Deno.env.get(name) || undefined : undefined;
}

/** Redis's answer, with where a missing password goes. */
function redisHint(error: string): string {
  return /NOAUTH|WRONGPASS|AUTH/.test(error)
    ? `${error} (give the password in the URL or in ${REDIS_PASSWORD_ENV}, with --allow-env=${REDIS_PASSWORD_ENV})`
    : error;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
