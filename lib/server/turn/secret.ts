/**
 * Reads the secret shared with the TURN server: from a file the operator
 * names (`--turn-secret-file`, with `--allow-read` for that file alone) or
 * from `SWITCHBOARD_TURN_SECRET` (with `--allow-env` for that variable
 * alone). Never from a flag's value, which anyone on the host sees in `ps`.
 * Messages name files, variables and flags, never the secret.
 *
 * @module
 */

import { MissingPermission, shellWord } from "../../runtime/permissions.ts";

/** The environment variable that holds the TURN secret when no file is named. */
export const TURN_SECRET_ENV = "SWITCHBOARD_TURN_SECRET";

/**
 * The TURN secret, from `file` when given and from the environment otherwise,
 * without surrounding whitespace (a file usually ends with a newline).
 *
 * @throws {MissingPermission} Without `--allow-read=<file>`, or without
 *   `--allow-env=SWITCHBOARD_TURN_SECRET` when no file is named.
 * @throws {Error} When the file cannot be read, or the secret is empty or unset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTurnSecret } from "./secret.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "s3cret\n");
 * assert.equal(await readTurnSecret(file), "s3cret");
 * await Deno.remove(file);
 * await assert.rejects(readTurnSecret(file), /cannot read the TURN secret file/);
 * ```
 */
export async function readTurnSecret(file: string | undefined): Promise<string> {
  if (file !== undefined) return await fromFile(file);
  const status = await Deno.permissions.query({ name: "env", variable: TURN_SECRET_ENV });
  if (status.state !== "granted") {
    throw new MissingPermission(
      `--turn-url needs the TURN secret: name its file with --turn-secret-file FILE ` +
        `(and --allow-read=FILE), or set ${TURN_SECRET_ENV} (and --allow-env=${TURN_SECRET_ENV})`,
    );
  }
  const secret = Deno.env.get(TURN_SECRET_ENV)?.trim();
  if (!secret) {
    throw new Error(`${TURN_SECRET_ENV} is not set (or name a file with --turn-secret-file)`);
  }
  return secret;
}

async function fromFile(file: string): Promise<string> {
  const status = await Deno.permissions.query({ name: "read", path: file });
  if (status.state !== "granted") {
    throw new MissingPermission(
      `--turn-secret-file ${file} needs ${shellWord(`--allow-read=${file}`)}`,
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Error
      ? error.name
      : String(error);
    throw new Error(`cannot read the TURN secret file ${file} (${why})`);
  }
  const secret = text.trim();
  if (secret === "") throw new Error(`the TURN secret file ${file} is empty`);
  return secret;
}
