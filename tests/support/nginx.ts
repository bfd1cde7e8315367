/**
 * A real nginx in front of a server, for tests: Debian's `nginx` run as a
 * child process with its own configuration, prefix, pid file and logs in a
 * temporary folder (removed when it stops), on a free loopback port. The
 * configuration is the one in docs/nginx.md, with shorter
 * timeouts so tests need not wait.
 *
 * @module
 */

import { Child } from "./helpers.ts";
import { freePort, installed, onceReady, stopDaemon, waitUntilListening } from "./daemons.ts";

/** Where Debian installs nginx. */
export const NGINX = "/usr/sbin/nginx";

/** Whether nginx is installed. */
export function nginxInstalled(): boolean {
  return installed(NGINX);
}

/**
 * Whether nginx tests must be skipped: only when nginx is missing and this
 * is not CI, where a missing nginx is a failure, never a skip.
 */
export function skipNginx(): boolean {
  if (nginxInstalled()) return false;
  if (Deno.env.get("CI") === "true") {
    throw new Error(`CI=true but ${NGINX} is missing: run .ci/run, or apt-get install -y nginx`);
  }
  console.warn(`Skipping nginx tests: ${NGINX} is missing (sudo apt-get install -y nginx).`);
  return true;
}

/** The timeouts a test's nginx uses, in seconds. */
export interface NginxTimeouts {
  /** Time to send a whole request head. */
  header: number;
  /** Time between two reads of a request body. */
  body: number;
  /** How long an idle keep-alive connection stays open. */
  keepalive: number;
  /** How long a proxied connection may stay silent (both ways). */
  proxy: number;
}

/**
 * The configuration for `nginx -p prefix`: listening on `host:port`,
 * proxying to the server on `upstream`, or to several servers in turn
 * (nginx's default round robin, no stickiness, as docs/redis.md runs a
 * cluster).
 */
export function nginxConfig(
  prefix: string,
  port: number,
  upstream: number | readonly number[],
  t: NginxTimeouts,
  host = "127.0.0.1",
): string {
  const servers = typeof upstream === "number"
    ? ""
    : `  upstream switchboard {\n${
      upstream.map((p) => `    server 127.0.0.1:${p};\n`).join("")
    }  }\n\n`;
  const target = typeof upstream === "number" ? `127.0.0.1:${upstream}` : "switchboard";
  return `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 1024; }
http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;

  map $http_upgrade $connection_upgrade {
    default upgrade;
    "" close;
  }

  limit_conn_zone $binary_remote_addr zone=per_ip:1m;

  client_header_timeout ${t.header}s;
  client_body_timeout ${t.body}s;
  keepalive_timeout ${t.keepalive}s;
  send_timeout ${t.proxy}s;
  limit_conn per_ip 100;

${servers}  server {
    listen ${host}:${port};
    location / {
      proxy_pass http://${target};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout ${t.proxy}s;
      proxy_send_timeout ${t.proxy}s;
    }
  }
}
`;
}

/** A running nginx; disposing of it stops it and removes its folder. */
export class Nginx implements AsyncDisposable {
  private constructor(
    readonly child: Child,
    readonly prefix: string,
    readonly port: number,
  ) {}

  /**
   * Starts nginx in front of the server on `upstream` (or the servers, in
   * turn) and waits until it accepts connections: on 127.0.0.1, or on every
   * address with `host` `0.0.0.0`, so a client can come from an address
   * that is not loopback.
   */
  static async start(
    upstream: number | readonly number[],
    timeouts: Partial<NginxTimeouts> = {},
    host = "127.0.0.1",
  ): Promise<Nginx> {
    const prefix = await Deno.makeTempDir({ prefix: "switchboard-nginx-" });
    // Workers may run as another user; they need to reach the prefix.
    await Deno.chmod(prefix, 0o755);
    const port = freePort();
    const config = `${prefix}/nginx.conf`;
    await Deno.writeTextFile(
      config,
      nginxConfig(prefix, port, upstream, {
        header: 1,
        body: 1,
        keepalive: 1,
        proxy: 60,
        ...timeouts,
      }, host),
    );
    const child = new Child(
      ["-p", prefix, "-c", config, "-e", `${prefix}/error.log`],
      prefix,
      false,
      NGINX,
    );
    return onceReady(new Nginx(child, prefix, port), (nginx) => nginx.#waitUntilListening());
  }

  /** `ws://127.0.0.1:PORT`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Lines of nginx's access log. */
  async accessLog(): Promise<string[]> {
    const text = await Deno.readTextFile(`${this.prefix}/access.log`).catch(() => "");
    return text.split("\n").filter((line) => line !== "");
  }

  #waitUntilListening(): Promise<void> {
    return waitUntilListening(
      this.child,
      this.port,
      "nginx",
      async () =>
        (await Deno.readTextFile(`${this.prefix}/error.log`).catch(() => "")) +
        this.child.stderr.join("\n"),
    );
  }

  /** Stops nginx (by its pid) and removes its folder. */
  [Symbol.asyncDispose](): Promise<void> {
    return stopDaemon(this.child, this.prefix);
  }
}
