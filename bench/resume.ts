/**
 * Resume across instances: a real `client.ts --reconnect` behind nginx (two
 * instances sharing one Redis, round robin), paired with a partner on the
 * other instance; the instance the client is on is SIGKILLed, and the time
 * from the kill to the client's "Reconnected" line is measured. The killed
 * instance is started again on its port before the next run.
 *
 * @module
 */

import { Nginx } from "../tests/support/nginx.ts";
import type { BenchKeys } from "./keys.ts";
import { LineProcess } from "./webrtc_lines.ts";
import { health, type ServerProcess, type ServerSpec, startServer, waitUntil } from "./servers.ts";
import { type BenchClient, connectClient } from "./ws_client.ts";

const root = new URL("../", import.meta.url).pathname;

/** What one run measured; `error` says why it failed, when it did. */
export interface ResumeRun {
  /** SIGKILL → the client's "Reconnected … still paired" line, in ms. */
  ms?: number;
  /** Whether the partner heard `peer_reconnecting` and then `peer_back`. */
  partnerTold: boolean;
  /** Why the run failed. */
  error?: string;
}

/** The next message's type from `client`, within `ms`. */
async function nextType(client: BenchClient, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const text = await Promise.race([
    client.text(),
    new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), ms)),
  ]).finally(() => clearTimeout(timer));
  if (text === "timeout") throw new Error(`no message within ${ms} ms`);
  if (text === undefined) throw new Error("the server closed the partner");
  return String(JSON.parse(text).type);
}

/** How big a resume run is. */
export interface ResumeOptions {
  /** Kills to time. */
  runs: number;
  /** The instances' spec: `--redis` and `--api-keys` on. */
  spec: ServerSpec;
  /** The key clients present. */
  keys: BenchKeys;
  /** Where server logs (and the client's key file) go. */
  logDir: string;
  /** Progress notes; silent by default. */
  progress?: (line: string) => void;
}

const ID_LINE = /^\*\*\* Your Client ID: (\S+) \*\*\*$/;

/**
 * Runs `runs` kills. A run that fails (no id, no pairing, no reconnect
 * within 15 s) is recorded with its reason and the next one starts.
 */
export async function runResumeBench(options: ResumeOptions): Promise<ResumeRun[]> {
  const instances: ServerProcess[] = [
    await startServer(options.spec, undefined, options.logDir),
    await startServer(options.spec, undefined, options.logDir),
  ];
  // The CLI reads its key from a file here, as an operator's script would.
  const keyFile = await Deno.makeTempFile({
    dir: options.logDir,
    prefix: "switchboard-bench-key-",
  });
  await Deno.writeTextFile(keyFile, `${options.keys.key}\n`);
  const runs: ResumeRun[] = [];
  let balancer: Nginx | undefined;
  try {
    // Round robin, no stickiness, nginx's defaults for a dead upstream: a refused
    // connection moves to the next server and marks the dead one down for 10 s.
    balancer = await Nginx.start(instances.map((i) => i.port));
    for (let n = 1; n <= options.runs; n++) {
      options.progress?.(`resume run ${n}/${options.runs}`);
      const run = await resumeOnce(instances, balancer.port, keyFile, options);
      runs.push(run.result);
      // The killed instance comes back on its port, so nginx finds it again.
      const i = run.killed;
      if (i !== undefined) {
        instances[i] = await startServer(
          options.spec,
          undefined,
          options.logDir,
          instances[i]!.port,
        );
      }
    }
  } finally {
    await balancer?.[Symbol.asyncDispose]();
    await Promise.all(instances.map((i) => i.stop()));
    await Deno.remove(keyFile).catch(() => {});
  }
  return runs;
}

/** One kill; says which instance it killed, if it got that far. */
async function resumeOnce(
  instances: ServerProcess[],
  balancerPort: number,
  keyFile: string,
  options: ResumeOptions,
): Promise<{ result: ResumeRun; killed?: number }> {
  // Each run starts with no one connected, so the client's instance is the one that counts 1.
  await waitUntil(
    "both instances to have no clients",
    async () =>
      (await Promise.all(instances.map((i) => health(i.port)))).every((h) => h.clients === 0),
    10_000,
    20,
  );
  await using client = new LineProcess([
    Deno.execPath(),
    "run",
    "--frozen",
    "--allow-net",
    `--allow-read=${keyFile}`,
    `${root}client.ts`,
    "--url",
    `ws://127.0.0.1:${balancerPort}`,
    "--reconnect",
    "--accept",
    "--api-key-file",
    keyFile,
  ]);
  let partner: BenchClient | undefined;
  let killed: number | undefined;
  try {
    const id = (await client.waitFor(ID_LINE, { timeoutMs: 20_000, what: "the client's id" }))
      .match[1]!;
    let on = -1;
    await waitUntil(
      "the client to show on one instance",
      async () => {
        const counts = await Promise.all(
          instances.map(async (i) => (await health(i.port)).clients),
        );
        on = counts.indexOf(1);
        return on >= 0 && counts.reduce((a, b) => a + b, 0) === 1;
      },
      5_000,
      10,
    );
    const other = instances[1 - on]!;
    partner = await connectClient(other.port, 10_000, options.keys.header);
    await partner.send(JSON.stringify({ type: "pair_request", target: id }));
    const paired = await nextType(partner, 10_000);
    if (paired !== "paired") throw new Error(`the partner got ${paired}, not paired`);
    await client.waitFor(/^\*\*\* Paired with /, {
      timeoutMs: 10_000,
      what: "the client's pairing",
    });
    const started = performance.now();
    killed = on;
    await instances[on]!.kill();
    const { at } = await client.waitFor(
      new RegExp(`^\\*\\*\\* Reconnected as ${id}; still paired with ${partner.id} \\*\\*\\*$`),
      { timeoutMs: 15_000, what: "the client's Reconnected line", failOn: /Could not resume/ },
    );
    const told = [await nextType(partner, 5_000), await nextType(partner, 5_000)];
    return {
      result: {
        ms: at - started,
        partnerTold: told[0] === "peer_reconnecting" && told[1] === "peer_back",
      },
      killed,
    };
  } catch (error) {
    return {
      result: { partnerTold: false, error: error instanceof Error ? error.message : String(error) },
      ...(killed === undefined ? {} : { killed }),
    };
  } finally {
    await partner?.close(2000);
  }
}
