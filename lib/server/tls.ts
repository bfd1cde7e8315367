/**
 * The certificate and private key the server serves TLS with, read from PEM
 * files after checking, up front, that this process may read them.
 *
 * @module
 */

import { requirePaths } from "../auth/key_file_io.ts";
import type { TlsFiles } from "./config.ts";
import { errorText } from "../runtime/safe_text.ts";

/**
 * Reads `--tls-cert` and `--tls-key`.
 *
 * @throws {MissingPermission} Without `--allow-read` for both files.
 * @throws {Error} When a file cannot be read or holds no PEM block; the
 *   message names the file, never its contents.
 */
export async function readTlsFiles(certPath: string, keyPath: string): Promise<TlsFiles> {
  await requirePaths([certPath, keyPath], ["read"], "reading --tls-cert and --tls-key");
  const read = async (path: string, what: string): Promise<string> => {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw new Error(`cannot read ${path}: ${errorText(error)}`);
    }
    if (!/-----BEGIN [A-Z ]+-----/.test(text)) throw new Error(`${path} holds no PEM ${what}`);
    return text;
  };
  return { cert: await read(certPath, "certificate"), key: await read(keyPath, "private key") };
}
