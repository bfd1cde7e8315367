import assert from "node:assert/strict";
import { formatAddr, ListenError, Listeners, listenHosts } from "../../lib/server/listeners.ts";
import { eventually } from "../support/hostile.ts";

/** Whether this host has an IPv6 loopback; `.ci/isolated` has one. */
function hasIpv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    if (Deno.env.get("CI") === "true") throw new Error("CI=true but ::1 cannot be listened on");
    console.warn("Skipping IPv6 loopback tests: ::1 cannot be listened on here.");
    return false;
  }
}

const noIpv6 = !hasIpv6Loopback();

const hello = () => new Response("hello");

Deno.test("listenHosts() makes localhost both loopbacks, and takes anything else as it is", () => {
  assert.deepEqual(listenHosts("localhost"), ["127.0.0.1", "::1"]);
  assert.deepEqual(listenHosts("LOCALHOST"), ["127.0.0.1", "::1"]);
  assert.deepEqual(listenHosts("127.0.0.1"), ["127.0.0.1"]);
  assert.deepEqual(listenHosts("[::1]"), ["::1"]);
  assert.deepEqual(listenHosts("::"), ["::"]);
  assert.deepEqual(listenHosts("signal.example"), ["signal.example"]);
});

Deno.test({
  name: "Listeners.open() on localhost and port 0 listens on 127.0.0.1 and ::1 on one free port",
  ignore: noIpv6,
  fn: async () => {
    const listeners = Listeners.open({ host: "localhost", port: 0, handler: hello });
    try {
      const [v4, v6] = listeners.addrs;
      assert.equal(v4?.hostname, "127.0.0.1");
      assert.equal(v6?.hostname, "::1");
      assert.equal(v4.port, v6.port);
      for (const host of ["127.0.0.1", "[::1]"]) {
        assert.equal(await (await fetch(`http://${host}:${v4.port}/`)).text(), "hello");
      }
    } finally {
      await listeners.shutdown();
      await listeners.finished;
    }
  },
});

Deno.test({
  name:
    "Listeners.open() on localhost with ::1 taken on that port fails naming [::1], and lets 127.0.0.1 go",
  ignore: noIpv6,
  fn: async () => {
    const taken = Deno.listen({ hostname: "::1", port: 0 });
    const port = taken.addr.port;
    try {
      assert.throws(
        () => Listeners.open({ host: "localhost", port, handler: hello }),
        (error: unknown) =>
          error instanceof ListenError && error.address === `[::1]:${port}` &&
          /Address already in use/.test(error.reason),
      );
      // Another program on ::1 would get the browsers that try it first: so
      // nothing stays listening on 127.0.0.1 either.
      await eventually(
        () => {
          try {
            Deno.listen({ hostname: "127.0.0.1", port }).close();
            return true;
          } catch {
            return false;
          }
        },
        5000,
        `127.0.0.1:${port} to be free again`,
      );
    } finally {
      taken.close();
    }
  },
});

Deno.test("Listeners.open() names the address it cannot listen on", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.throws(
      () => Listeners.open({ host: "127.0.0.1", port: taken.addr.port, handler: hello }),
      (error: unknown) =>
        error instanceof ListenError && error.address === `127.0.0.1:${taken.addr.port}` &&
        error.message === `${error.address}: ${error.reason}`,
    );
  } finally {
    taken.close();
  }
});

Deno.test("formatAddr() brackets IPv6 addresses", () => {
  assert.equal(formatAddr({ transport: "tcp", hostname: "127.0.0.1", port: 80 }), "127.0.0.1:80");
  assert.equal(formatAddr({ transport: "tcp", hostname: "::1", port: 80 }), "[::1]:80");
});
