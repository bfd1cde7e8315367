/**
 * A self-signed certificate for 127.0.0.1 and localhost, made at test time
 * with Debian's `openssl` and removed with its folder: no private key is
 * ever committed. It is marked `CA:FALSE`, since Deno's client refuses a
 * CA certificate as a server's own (`CaUsedAsEndEntity`).
 *
 * @module
 */

/** Where Debian's `openssl` lives. */
export const OPENSSL = "/usr/bin/openssl";

/** A certificate and its key, as files and as text. */
export interface TestCertificate extends AsyncDisposable {
  /** The folder holding both files. */
  dir: string;
  /** The PEM certificate's path. */
  certFile: string;
  /** The PEM private key's path. */
  keyFile: string;
  /** The certificate, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}

/** Makes a fresh certificate in a temporary folder, removed on dispose. */
export async function makeCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-tls-" });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const { success, stderr } = await new Deno.Command(OPENSSL, {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`openssl failed: ${new TextDecoder().decode(stderr)}`);
  }
  return {
    dir,
    certFile,
    keyFile,
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
