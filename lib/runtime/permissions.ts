/**
 * Permissions a capability needs, checked up front with
 * `Deno.permissions.query`, so a missing one is one line naming the flag:
 * never a prompt, never a hang halfway through.
 *
 * @module
 */

/** A permission and the flag that grants it. */
export interface Needed {
  /** What to ask `Deno.permissions.query` about. */
  descriptor: Deno.PermissionDescriptor;
  /** The flag a user adds to grant it. */
  flag: string;
}

/**
 * What WebRTC mode needs besides the network: the WebRTC library's logging
 * dependency reads the whole environment, and without the interface list it
 * gathers no ICE candidates and waits forever.
 */
export const WEBRTC_PERMISSIONS: readonly Needed[] = [
  { descriptor: { name: "net" }, flag: "--allow-net" },
  { descriptor: { name: "env" }, flag: "--allow-env" },
  { descriptor: { name: "sys", kind: "networkInterfaces" }, flag: "--allow-sys=networkInterfaces" },
];

/**
 * The flags of `needed` that this process was not given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingFlags } from "./permissions.ts";
 * // Doc tests run with every permission.
 * assert.deepEqual(await missingFlags([{ descriptor: { name: "net" }, flag: "--allow-net" }]), []);
 * ```
 */
export async function missingFlags(needed: readonly Needed[]): Promise<string[]> {
  const missing: string[] = [];
  for (const { descriptor, flag } of needed) {
    const status = await Deno.permissions.query(descriptor);
    if (status.state !== "granted") missing.push(shellWord(flag));
  }
  return missing;
}

/**
 * `word` as one shell word, so a flag naming a path with a space can be
 * pasted as it is shown: quoted only when it has to be.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellWord } from "./permissions.ts";
 * assert.equal(shellWord("--allow-read=/srv/files"), "--allow-read=/srv/files");
 * assert.equal(shellWord("--allow-read=/home/me/My Files"), "'--allow-read=/home/me/My Files'");
 * assert.equal(shellWord("--allow-read=it's"), "'--allow-read=it'\\''s'");
 * ```
 */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A permission the process lacks; the message names the flag. */
export class MissingPermission extends Error {
  /** @param message What is missing, naming the flag. */
  constructor(message: string) {
    super(message);
    this.name = "MissingPermission";
  }
}

/**
 * Reads a secret from the environment variable `name`, after checking that
 * this process may read it.
 *
 * @throws {MissingPermission} Without `--allow-env=<name>`.
 * @throws {Error} When the variable is unset or empty; the message names the
 * variable, never a value.
 */
export async function readSecretEnv(name: string): Promise<string> {
  const status = await Deno.permissions.query({ name: "env", variable: name });
  if (status.state !== "granted") {
    throw new MissingPermission(`reading ${name} needs --allow-env=${name}`);
  }
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
