import assert from "node:assert/strict";
import { OUTLIVES_EXP_MS, TokenLifetime, WARNING_MS } from "../../lib/server/token_lifetime.ts";

/** A lifetime whose events are recorded; the first resolves `first`. */
function recorded(expiresAt: number) {
  const heard: string[] = [];
  const { promise: first, resolve } = Promise.withResolvers<void>();
  const lifetime = new TokenLifetime(expiresAt, {
    expiring: (seconds) => {
      heard.push(`expiring ${seconds}`);
      resolve();
    },
    expired: () => {
      heard.push("expired");
      resolve();
    },
  });
  return { heard, first, lifetime };
}

Deno.test("TokenLifetime warns a minute before the close, which comes the allowance after exp", () => {
  assert.equal(WARNING_MS, 60_000);
  assert.equal(OUTLIVES_EXP_MS, 30_000);
  const expiresAt = Date.now() + 100_000;
  assert.equal(TokenLifetime.secondsLeft(expiresAt), 130);
  assert.equal(TokenLifetime.secondsLeft(Date.now() - 60_000), 0);
});

Deno.test("TokenLifetime with a token already past its allowance closes at once, warned first", async () => {
  const { heard, first, lifetime } = recorded(Date.now() - 31_000);
  await first;
  await new Promise((resolve) => setTimeout(resolve, 0));
  lifetime.stop();
  assert.deepEqual(heard, ["expiring 0", "expired"]);
});

Deno.test("TokenLifetime with a token valid for months waits, rather than wrap the runtime's 32-bit timer", async () => {
  // 30 days is more than 2^31 ms: a timer set with it as it is would fire at once.
  const { heard, first, lifetime } = recorded(Date.now() + 30 * 86_400_000);
  const quiet = await Promise.race([
    first.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 200)),
  ]);
  lifetime.stop();
  assert.ok(quiet, `fired: ${heard.join(", ")}`);
});

Deno.test("TokenLifetime once stopped stays stopped: a late renew does nothing", async () => {
  const { heard, first, lifetime } = recorded(Date.now() + 3_600_000);
  lifetime.stop();
  lifetime.renew(Date.now() - 31_000);
  const quiet = await Promise.race([
    first.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 100)),
  ]);
  assert.ok(quiet, `fired: ${heard.join(", ")}`);
});
