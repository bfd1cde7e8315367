/**
 * A real coturn for tests: Debian's `turnserver` run as a child process with
 * the REST-API secret (`use-auth-secret`), listening and relaying on
 * 127.0.0.1 only, on a free port with its own relay port range, its files in
 * a temporary folder removed when it stops. Nothing of the package's own
 * service (configuration, database, systemd unit) is used.
 *
 * @module
 */

import { Child } from "./helpers.ts";
import { freePort, installed, onceReady, stopDaemon, waitUntilListening } from "./daemons.ts";

/** Where Debian's `coturn` package installs the server. */
export const TURNSERVER = "/usr/bin/turnserver";

/** The realm the tests' coturn serves. */
export const TURN_REALM = "switchboard.test";

/** Whether coturn is installed. */
export function coturnInstalled(): boolean {
  return installed(TURNSERVER);
}

/**
 * Whether coturn tests must be skipped: only when coturn is missing and this
 * is not CI, where a missing coturn is a failure, never a skip.
 */
export const SKIP_COTURN_TESTS: boolean = (() => {
  if (coturnInstalled()) return false;
  if (Deno.env.get("CI") === "true") return false;
  console.error(
    `Skipping coturn tests: no ${TURNSERVER} (install it with: apt-get install coturn)`,
  );
  return true;
})();

/** The command line of the test coturn in docs/turn.md, for `port` and relay ports `min`–`max`. */
export function coturnArgs(
  dir: string,
  secret: string,
  port: number,
  min: number,
  max: number,
): string[] {
  return [
    "-n", // no configuration file
    "--listening-ip=127.0.0.1",
    "--relay-ip=127.0.0.1",
    `--listening-port=${port}`,
    `--min-port=${min}`,
    `--max-port=${max}`,
    "--use-auth-secret",
    `--static-auth-secret=${secret}`,
    `--realm=${TURN_REALM}`,
    "--allow-loopback-peers",
    "--no-tls",
    "--no-dtls",
    "--no-cli",
    "--log-file=stdout",
    "--simple-log",
    "--verbose",
    `--pidfile=${dir}/turnserver.pid`,
    `--userdb=${dir}/turndb`,
  ];
}

/** A running coturn; disposing of it stops it (by its pid) and removes its folder. */
export class Coturn implements AsyncDisposable {
  private constructor(
    readonly child: Child,
    readonly dir: string,
    readonly port: number,
    readonly secret: string,
  ) {}

  /** Starts coturn with `secret` and waits until it accepts connections. */
  static async start(secret: string = crypto.randomUUID()): Promise<Coturn> {
    if (!coturnInstalled()) {
      throw new Error(`${TURNSERVER} is missing: run .ci/run, or apt-get install -y coturn`);
    }
    const dir = await Deno.makeTempDir({ prefix: "switchboard-coturn-" });
    const port = freePort();
    // Relay ports: a small random window high in the ephemeral range.
    const min = 49152 + Math.floor(Math.random() * 1500) * 10;
    const child = new Child(
      coturnArgs(dir, secret, port, min, min + 9),
      dir,
      false,
      TURNSERVER,
    );
    return onceReady(
      new Coturn(child, dir, port, secret),
      (coturn) => coturn.#waitUntilListening(),
    );
  }

  /** `turn:127.0.0.1:PORT?transport=udp`. */
  get udpUrl(): string {
    return `turn:127.0.0.1:${this.port}?transport=udp`;
  }

  /** `turn:127.0.0.1:PORT?transport=tcp`. */
  get tcpUrl(): string {
    return `turn:127.0.0.1:${this.port}?transport=tcp`;
  }

  /** coturn's log lines so far. */
  get log(): string[] {
    return this.child.stdout;
  }

  #waitUntilListening(): Promise<void> {
    return waitUntilListening(
      this.child,
      this.port,
      "coturn",
      () => Promise.resolve([...this.child.stdout, ...this.child.stderr].join("\n")),
    );
  }

  /** Stops coturn by its process id and removes its folder. */
  [Symbol.asyncDispose](): Promise<void> {
    return stopDaemon(this.child, this.dir);
  }
}
