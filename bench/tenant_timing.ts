/**
 * Whether a client can tell another key's client from an id nobody has by
 * how long the server takes to refuse it: alternating `pair_request`s to an
 * id of another key's client (on the other instance) and to random ids, each
 * timed from send to the `unknown_peer` error.
 *
 * @module
 */

import { percentile } from "./stats.ts";

/** Refusal round trips in milliseconds, by kind of target. */
export interface TenantTiming {
  /** Requests to a connected client of another key. */
  otherKey: number[];
  /** Requests to random ids. */
  unknown: number[];
}

/** One client with a key: its socket, its id, and its messages as they come. */
async function keyed(url: string, key: string) {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
  const waiting: ((data: string) => void)[] = [];
  const arrived: string[] = [];
  socket.onmessage = (event) => {
    const resolve = waiting.shift();
    if (resolve) resolve(String(event.data));
    else arrived.push(String(event.data));
  };
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer within 5 s")), 5000);
      const take = (data: string) => {
        clearTimeout(timer);
        resolve(JSON.parse(data));
      };
      const ready = arrived.shift();
      if (ready !== undefined) take(ready);
      else waiting.push(take);
    });
  const first = await next();
  if (first.type !== "your_id") throw new Error(`first message: ${JSON.stringify(first)}`);
  return { socket, id: String(first.id), next };
}

/**
 * Times `n` refusals of each kind, alternating, from a client of `mine` on
 * `urls[0]` to a client of `other` on `urls[1]` and to random ids.
 */
export async function tenantTiming(
  urls: readonly [string, string],
  keys: { mine: string; other: string },
  n: number,
): Promise<TenantTiming> {
  const asker = await keyed(urls[0], keys.mine);
  const stranger = await keyed(urls[1], keys.other);
  const result: TenantTiming = { otherKey: [], unknown: [] };
  try {
    for (let i = 0; i < 2 * n; i++) {
      const toStranger = i % 2 === 0;
      const target = toStranger ? stranger.id : crypto.randomUUID();
      const started = performance.now();
      asker.socket.send(JSON.stringify({ type: "pair_request", target }));
      const answer = await asker.next();
      const ms = performance.now() - started;
      if (answer.code !== "unknown_peer") throw new Error(`answer: ${JSON.stringify(answer)}`);
      (toStranger ? result.otherKey : result.unknown).push(ms);
    }
  } finally {
    asker.socket.close();
    stranger.socket.close();
  }
  return result;
}

/** One line: both medians and p90s, and their difference. */
export function tenantTimingLine(timing: TenantTiming): string {
  const p = (xs: number[], q: number) => percentile(xs, q).toFixed(3);
  const gap = percentile(timing.otherKey, 50) - percentile(timing.unknown, 50);
  return `unknown_peer for another key's client vs an id nobody has, across instances: ` +
    `p50 ${p(timing.otherKey, 50)} vs ${p(timing.unknown, 50)} ms (difference ${
      gap.toFixed(3)
    } ms), p90 ${p(timing.otherKey, 90)} vs ${p(timing.unknown, 90)} ms, ` +
    `${timing.otherKey.length} of each`;
}
