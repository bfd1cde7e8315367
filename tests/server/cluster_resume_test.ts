import assert from "node:assert/strict";
import {
  chatLines,
  launchBrowser,
  say,
  SKIP_BROWSER_TESTS,
  waitForLine,
  waitForState,
} from "../support/browser.ts";
import { Child, spawnPeer } from "../support/helpers.ts";
import { Nginx, skipNginx } from "../support/nginx.ts";
import { haveRedis, RedisServer, spawnRedisInstance } from "../support/redis.ts";

// Real processes only: one redis-server, two server.ts instances on it, one
// nginx sending connections to them in turn (round robin, no stickiness, as
// a load balancer may), and the peers as client.ts subprocesses or a page.

const ignore = skipNginx() || !haveRedis();

const ID_LINE = /^\*\*\* Your Client ID: ([0-9a-f-]{36}) \*\*\*$/;

/** A `server.ts --redis` instance (default resume grace) that trusts the nginx on loopback. */
class Instance implements AsyncDisposable {
  private constructor(readonly child: Child, readonly port: number) {}

  static async start(redis: RedisServer): Promise<Instance> {
    const { child, port } = await spawnRedisInstance(redis.url, ["--trust-proxy", "127.0.0.1"]);
    return new Instance(child, port);
  }

  /** Whether the client `id` connected here (not resumed here). */
  connected(id: string): boolean {
    return this.child.stderr.some((line) => line.includes(`Client ${id} connected from`));
  }

  /** Kills it as a crash would (SIGKILL, by pid) and reaps it. */
  async kill(): Promise<void> {
    this.child.process.kill("SIGKILL");
    await this.child.exit();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.child[Symbol.asyncDispose]();
  }
}

/** Redis, two instances on it, and nginx in front of both; disposed in reverse. */
async function clusterBehindNginx() {
  const stack = new AsyncDisposableStack();
  try {
    const redis = stack.use(await RedisServer.start());
    const instances = await Promise.all([Instance.start(redis), Instance.start(redis)]);
    for (const instance of instances) stack.use(instance);
    const nginx = stack.use(await Nginx.start(instances.map((i) => i.port)));
    const moved = stack.move();
    return {
      instances,
      nginx,
      /** The instance `id` connected to, and the other one. */
      on(id: string): { home: Instance; other: Instance } {
        const home = instances.find((i) => i.connected(id));
        assert.ok(home, `no instance logged that client ${id} connected`);
        return { home, other: instances.find((i) => i !== home)! };
      },
      [Symbol.asyncDispose]: () => moved.disposeAsync(),
    };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

/** `*** Data channel open with PEER (N ms, direct) ***`. */
function channelOpen(peer: string): RegExp {
  return new RegExp(`^\\*\\*\\* Data channel open with ${peer} \\(\\d+ ms, direct\\) \\*\\*\\*$`);
}

/** How many of `peer`'s stdout lines match `pattern`. */
function count(peer: Child, pattern: RegExp): number {
  return peer.stdout.filter((line) => pattern.test(line)).length;
}

Deno.test({
  name:
    "a CLI peer with --reconnect whose instance is killed resumes its id and pairing on the other one behind nginx, and its data channel stays open",
  ignore,
  fn: async () => {
    await using cluster = await clusterBehindNginx();
    const url = cluster.nginx.url;
    await using accepter = spawnPeer("--url", url, "--reconnect", "--accept");
    const [, accepterId = ""] = await accepter.waitForLine(ID_LINE, "stdout", 20_000);
    await using asker = spawnPeer("--url", url, "--reconnect", "--pair", accepterId);
    const [, askerId = ""] = await asker.waitForLine(ID_LINE, "stdout", 20_000);
    await asker.waitForLine(channelOpen(accepterId), "stdout", 20_000);
    await accepter.waitForLine(channelOpen(askerId), "stdout", 20_000);
    await asker.type("send before the crash");
    await accepter.waitForLine(new RegExp(`^${askerId}: before the crash$`), "stdout");

    const { home, other } = cluster.on(askerId);
    // Round robin sends the second connection to the other instance: the
    // partner stays up and hears the asker go away and come back.
    assert.equal(cluster.on(accepterId).home, other, "the peers are on different instances");
    const killed = Date.now();
    await home.kill();
    await asker.waitForLine(
      new RegExp(
        `^\\*\\*\\* Reconnected as ${askerId}; still paired with ${accepterId} \\*\\*\\*$`,
      ),
      "stdout",
      15_000,
    );
    console.log(`SIGKILL to "Reconnected" line: ${Date.now() - killed} ms`);
    await accepter.waitForLine(
      new RegExp(`^\\*\\*\\* Peer ${askerId} lost its connection; waiting for it`),
      "stdout",
    );
    await accepter.waitForLine(
      new RegExp(`^\\*\\*\\* Peer ${askerId} is back \\*\\*\\*$`),
      "stdout",
    );
    // It came back through nginx, which can only have sent it to the survivor.
    await other.child.waitForLine(new RegExp(`Client ${askerId} resumed from`));

    await asker.type("send after the crash");
    await accepter.waitForLine(new RegExp(`^${askerId}: after the crash$`), "stdout");
    await accepter.type("send and back");
    await asker.waitForLine(new RegExp(`^${accepterId}: and back$`), "stdout");
    // The same channel all along: never opened again, never fell back to the server.
    assert.equal(count(asker, /Data channel open/), 1, asker.stdout.join("\n"));
    assert.equal(count(accepter, /Data channel open/), 1, accepter.stdout.join("\n"));
    assert.equal(count(asker, /via server|No peer-to-peer channel/), 0, asker.stdout.join("\n"));
    assert.equal(count(accepter, /via server|No peer-to-peer channel/), 0);
    assert.equal(count(asker, ID_LINE), 1, "the asker kept its id");
    assert.equal(count(accepter, /left/), 0, accepter.stdout.join("\n"));
  },
});

Deno.test({
  name:
    "a page whose instance is killed resumes its id and pairing on the other one behind nginx, and its data channel stays open",
  ignore: ignore || SKIP_BROWSER_TESTS,
  // Chromium keeps timers and sockets of its own past a test.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using cluster = await clusterBehindNginx();
    await using browser = await launchBrowser();
    const page = await browser.open(`http://127.0.0.1:${cluster.nginx.port}/`);
    await waitForState(page, "ready");
    const pageId = (await page.textContent("#my-id")) ?? "";
    await using peer = spawnPeer("--url", cluster.nginx.url, "--pair", pageId);
    const [, peerId = ""] = await peer.waitForLine(ID_LINE, "stdout", 20_000);
    await waitForState(page, "pairing");
    await page.click("#requests button:text('Accept')");
    await waitForState(page, "open");
    await peer.waitForLine(channelOpen(pageId), "stdout", 20_000);
    await say(page, "before the crash");
    await peer.waitForLine(new RegExp(`^${pageId}: before the crash$`), "stdout");

    const { home, other } = cluster.on(pageId);
    // The page's socket is the last request it made: round robin sends the
    // peer's to the other instance, which stays up.
    assert.equal(
      cluster.on(peerId).home,
      other,
      "the page and the peer are on different instances",
    );
    const killed = Date.now();
    await home.kill();
    await waitForLine(page, "system", `Reconnected as ${pageId}; still paired with ${peerId}`);
    console.log(`SIGKILL to the page's "Reconnected" line: ${Date.now() - killed} ms`);
    await waitForState(page, "open");
    assert.equal(await page.textContent("#my-id"), pageId);
    await other.child.waitForLine(new RegExp(`Client ${pageId} resumed from`));
    await peer.waitForLine(
      new RegExp(`^\\*\\*\\* Peer ${pageId} lost its connection; waiting for it`),
      "stdout",
    );
    await peer.waitForLine(new RegExp(`^\\*\\*\\* Peer ${pageId} is back \\*\\*\\*$`), "stdout");

    await say(page, "after the crash");
    await peer.waitForLine(new RegExp(`^${pageId}: after the crash$`), "stdout");
    await peer.type("send and back");
    await waitForLine(page, "theirs", "and back");
    await page.screenshot({ path: "/tmp/cluster_page.png", fullPage: true });
    // The same channel all along: the peer never opened another, nor fell back to the server.
    assert.equal(count(peer, /Data channel open/), 1, peer.stdout.join("\n"));
    assert.equal(count(peer, /via server|No peer-to-peer channel/), 0, peer.stdout.join("\n"));
    const system = await chatLines(page, "system");
    assert.equal(
      system.filter((line) => line.includes("Data channel open")).length,
      1,
      `${system}`,
    );
    assert.equal(await page.textContent("#path"), "peer-to-peer");
    assert.deepEqual(browser.errors, []);
  },
});
