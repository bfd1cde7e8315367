/**
 * Webhook receivers for the benchmark's churn: one that answers every
 * delivery at once (its rate is the delivery rate), one that never answers
 * (signaling must not notice), and the servers that send to each, with
 * their signing secret in a file.
 *
 * @module
 */

import { type ServerSpec, SWITCHBOARD } from "./servers.ts";

/** The receivers, the servers sending to them, and what the fast one got. */
export interface BenchWebhooks {
  /** The server sending to the receiver that never answers, then the one to the fast receiver. */
  readonly specs: readonly ServerSpec[];
  /** Deliveries the fast receiver accepted, and when the first and last came (ms). */
  readonly delivered: { count: number; first: number; last: number };
  /** Stops both receivers, releases what the stalled one holds, removes the file. */
  stop(): Promise<void>;
}

/** Starts the receivers and writes the secret into `dir`. */
export async function startBenchWebhooks(dir: string): Promise<BenchWebhooks> {
  const secretFile = await Deno.makeTempFile({ dir, prefix: "switchboard-bench-webhook-" });
  const secret = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeTextFile(secretFile, `whsec_${btoa(String.fromCharCode(...secret))}`);
  const delivered = { count: 0, first: 0, last: 0 };
  const fast = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.body?.cancel();
    const now = performance.now();
    if (delivered.count++ === 0) delivered.first = now;
    delivered.last = now;
    return new Response(null, { status: 204 });
  });
  const held: (() => void)[] = [];
  const stalled = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async () => {
      await new Promise<void>((resolve) => held.push(resolve));
      return new Response(null, { status: 503 });
    },
  );
  const sending = (name: string, port: number): ServerSpec => ({
    name,
    args: (p) => [
      ...SWITCHBOARD.args(p),
      "--webhook",
      `http://127.0.0.1:${port}/events`,
      "--webhook-secret-file",
      secretFile,
    ],
    permissions: [`--allow-read=${secretFile}`],
  });
  return {
    specs: [
      sending("Switchboard-webhook-stalled", stalled.addr.port),
      sending("Switchboard-webhook", fast.addr.port),
    ],
    delivered,
    async stop() {
      for (const release of held.splice(0)) release();
      await Promise.all([fast.shutdown(), stalled.shutdown()]);
      await Deno.remove(secretFile).catch(() => {});
    },
  };
}
