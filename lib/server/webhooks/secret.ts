/**
 * Where the server gets the secret it signs webhooks with: the file named by
 * `--webhook-secret-file`, or the `SWITCHBOARD_WEBHOOK_SECRET` environment
 * variable; never a flag's value, which any user of the machine can read in
 * the process list. Checked up front: a missing permission is one line
 * naming the flag, never a prompt.
 *
 * @module
 */

import { MissingPermission, shellWord } from "../../runtime/permissions.ts";
import { parseWebhookSecret } from "./signature.ts";

/** The environment variable the webhook secret may come from. */
export const WEBHOOK_SECRET_ENV = "SWITCHBOARD_WEBHOOK_SECRET";

/**
 * Reads the webhook secret.
 *
 * @throws {MissingPermission} Without the permission to read it.
 * @throws {Error} When it is missing or not a secret; the message never quotes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readWebhookSecret } from "./secret.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
 * assert.equal((await readWebhookSecret(file)).length, 24);
 * await Deno.remove(file);
 * ```
 */
export async function readWebhookSecret(file: string | undefined): Promise<Uint8Array> {
  if (file !== undefined) {
    const status = await Deno.permissions.query({ name: "read", path: file });
    if (status.state !== "granted") {
      throw new MissingPermission(
        `--webhook-secret-file ${file} needs ${shellWord(`--allow-read=${file}`)}`,
      );
    }
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
      throw new Error(`cannot read the webhook secret file ${file} (${why})`);
    }
    return parseWebhookSecret(text, file);
  }
  const status = await Deno.permissions.query({ name: "env", variable: WEBHOOK_SECRET_ENV });
  if (status.state !== "granted") {
    throw new MissingPermission(
      `--webhook needs the signing secret: name its file with --webhook-secret-file FILE ` +
        `(and --allow-read=FILE), or set ${WEBHOOK_SECRET_ENV} (and --allow-env=${WEBHOOK_SECRET_ENV})`,
    );
  }
  const value = Deno.env.get(WEBHOOK_SECRET_ENV);
  if (!value?.trim()) {
    throw new Error(`${WEBHOOK_SECRET_ENV} is not set (or name a file with --webhook-secret-file)`);
  }
  return parseWebhookSecret(value, WEBHOOK_SECRET_ENV);
}
