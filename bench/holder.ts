/**
 * The victim in the abrupt mode: opens clients, says `holding N` on stdout
 * once they have their ids, and idles until it is killed.
 *
 * ```sh
 * deno run --allow-net bench/holder.ts PORT N CONCURRENCY
 * ```
 *
 * @module
 */

import { type Errors, openClients } from "./load.ts";

if (import.meta.main) {
  const [port, n, concurrency] = Deno.args.map(Number);
  const errors: Errors = {};
  const clients = await openClients(port ?? 0, n ?? 0, concurrency ?? 100, errors);
  if (Object.keys(errors).length > 0) console.error(`holder errors: ${JSON.stringify(errors)}`);
  console.log(`holding ${clients.length}`);
  // Bounded: the benchmark kills this process, and a day is far past any run.
  await new Promise((resolve) => setTimeout(resolve, 86_400_000));
}
