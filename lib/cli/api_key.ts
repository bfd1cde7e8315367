/**
 * Where the command-line client gets its API key or access token: a file
 * named by `--api-key-file` (either), the `SWITCHBOARD_API_KEY` environment
 * variable, or `SWITCHBOARD_TOKEN` (an access token an app's backend
 * minted); never a flag's value, which any user of the machine can read in
 * the process list.
 *
 * @module
 */

import { errorText } from "../runtime/safe_text.ts";
import { isApiKey } from "../protocol/api_key_format.ts";
import { looksLikeToken } from "../protocol/token_format.ts";
import { missingFlags, MissingPermission } from "../runtime/permissions.ts";

/** The environment variable the client reads its key from. */
export const API_KEY_ENV = "SWITCHBOARD_API_KEY";

/** The environment variable the client reads an access token from. */
export const TOKEN_ENV = "SWITCHBOARD_TOKEN";

/**
 * The client's API key, if it has one: from `file` when given (an error if
 * it cannot be read), else from `SWITCHBOARD_API_KEY` when this process may
 * read that variable and it is set.
 *
 * @throws {MissingPermission} When `file` is given without `--allow-read`.
 * @throws {Error} When the file cannot be read, or what it or the variable
 *   holds is not a key; the message never quotes it.
 */
export async function readApiKey(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    const missing = await missingFlags([
      { descriptor: { name: "read", path: file }, flag: `--allow-read=${file}` },
    ]);
    if (missing.length > 0) {
      throw new MissingPermission(`--api-key-file ${file} needs ${missing[0]}`);
    }
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      throw new Error(`cannot read ${file}: ${errorText(error)}`);
    }
    return checked(text.trim(), file);
  }
  for (const variable of [API_KEY_ENV, TOKEN_ENV]) {
    const status = await Deno.permissions.query({ name: "env", variable });
    if (status.state !== "granted") continue;
    const value = Deno.env.get(variable)?.trim();
    if (value) return checked(value, variable);
  }
  return undefined;
}

/**
 * What a client says after the server refused its handshake with 401.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unauthorizedReason } from "./api_key.ts";
 * assert.match(unauthorizedReason(false), /SWITCHBOARD_API_KEY/);
 * assert.match(unauthorizedReason(true), /refused the API key/);
 * ```
 */
export function unauthorizedReason(sentKey: boolean, sentToken = false): string {
  if (sentToken) {
    return "the server refused the access token (401: expired, or not for this server; its log says which)";
  }
  return sentKey
    ? "the server refused the API key (401: not valid, or revoked)"
    : `the server wants an API key (401): set ${API_KEY_ENV} and allow it with ` +
      `--allow-env=${API_KEY_ENV}, or use --api-key-file FILE with --allow-read=FILE`;
}

function checked(key: string, source: string): string {
  if (source === TOKEN_ENV ? !looksLikeToken(key) : !isApiKey(key) && !looksLikeToken(key)) {
    throw new Error(
      source === TOKEN_ENV
        ? `${source} does not hold an access token (a JWT: three base64url parts)`
        : `${source} does not hold a Switchboard API key (sbk_ and 43 characters) or an access token`,
    );
  }
  return key;
}
