import assert from "node:assert/strict";
import {
  addressKey,
  type Cidr,
  clientAddress,
  clientIp,
  forwardedHops,
  inRange,
  parseCidr,
  parseIp,
} from "../../lib/server/client_address.ts";

function cidrs(...texts: string[]): Cidr[] {
  return texts.map((text) => {
    const range = parseCidr(text);
    assert.ok(range, text);
    return range;
  });
}

Deno.test("parseIp() reads IPv4 and IPv6 in their usual spellings", () => {
  assert.deepEqual(parseIp("0.0.0.0"), { family: 4, value: 0n });
  assert.deepEqual(parseIp("255.255.255.255"), { family: 4, value: 0xffffffffn });
  assert.deepEqual(parseIp("::"), { family: 6, value: 0n });
  assert.deepEqual(parseIp("::1"), { family: 6, value: 1n });
  assert.deepEqual(parseIp("2001:db8::"), { family: 6, value: 0x20010db8n << 96n });
  assert.deepEqual(
    parseIp("2001:DB8:0:0:0:0:0:1"),
    { family: 6, value: (0x20010db8n << 96n) | 1n },
  );
  assert.deepEqual(parseIp("64:ff9b::192.0.2.1"), {
    family: 6,
    value: (0x64ff9bn << 96n) | 0xc0000201n,
  });
});

Deno.test("parseIp() folds IPv4-mapped IPv6 into IPv4", () => {
  assert.deepEqual(parseIp("::ffff:127.0.0.2"), parseIp("127.0.0.2"));
  assert.deepEqual(parseIp("::ffff:7f00:2"), parseIp("127.0.0.2"));
});

Deno.test("parseIp() refuses what is not an address", () => {
  for (
    const text of [
      "",
      "unknown",
      "_hidden",
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "01.2.3.4",
      "1.2.3.4 ",
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7::8",
      "12345::",
      "fe80::1%eth0",
      "[::1]",
      "::1.2.3",
    ]
  ) {
    assert.equal(parseIp(text), undefined, JSON.stringify(text));
  }
});

Deno.test("parseCidr() takes IPv4 and IPv6 ranges and bare addresses", () => {
  assert.deepEqual(parseCidr("10.0.0.0/8"), { family: 4, value: 0x0a000000n, prefix: 8 });
  assert.deepEqual(parseCidr("127.0.0.1"), { family: 4, value: 0x7f000001n, prefix: 32 });
  assert.deepEqual(parseCidr("0.0.0.0/0"), { family: 4, value: 0n, prefix: 0 });
  assert.deepEqual(parseCidr("fd00::/8"), { family: 6, value: 0xfdn << 120n, prefix: 8 });
  assert.deepEqual(parseCidr("::1"), { family: 6, value: 1n, prefix: 128 });
  assert.deepEqual(parseCidr("::ffff:10.0.0.0/104"), {
    family: 4,
    value: 0x0a000000n,
    prefix: 8,
  });
});

Deno.test("parseCidr() refuses bad prefixes and bad addresses", () => {
  for (
    const text of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "x/8"]
  ) {
    assert.equal(parseCidr(text), undefined, text);
  }
  assert.equal(parseCidr("::ffff:10.0.0.0/95"), undefined);
});

Deno.test("inRange() compares only the prefix bits, and never across families", () => {
  const [ten, one, v6] = cidrs("10.0.0.0/8", "127.0.0.1", "2001:db8::/32");
  assert.equal(inRange(parseIp("10.255.255.255")!, ten!), true);
  assert.equal(inRange(parseIp("9.255.255.255")!, ten!), false);
  assert.equal(inRange(parseIp("127.0.0.1")!, one!), true);
  assert.equal(inRange(parseIp("127.0.0.2")!, one!), false);
  assert.equal(inRange(parseIp("2001:db8:ffff::1")!, v6!), true);
  assert.equal(inRange(parseIp("2001:db9::1")!, v6!), false);
  assert.equal(inRange(parseIp("::a00:1")!, ten!), false);
  assert.equal(inRange(parseIp("1.2.3.4")!, cidrs("::/0")[0]!), false);
  assert.equal(inRange(parseIp("1.2.3.4")!, cidrs("0.0.0.0/0")[0]!), true);
});

Deno.test("forwardedHops() reads X-Forwarded-For, and Forwarded when it is absent", () => {
  assert.deepEqual(
    forwardedHops(new Headers({ "x-forwarded-for": " 1.1.1.1 ,2.2.2.2,, [::1]:80, 3.3.3.3:8080" })),
    ["1.1.1.1", "2.2.2.2", "::1", "3.3.3.3"],
  );
  assert.deepEqual(
    forwardedHops(
      new Headers({
        forwarded:
          'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", for=unknown, proto=https',
      }),
    ),
    ["192.0.2.60", "2001:db8:cafe::17", "unknown"],
  );
  assert.deepEqual(
    forwardedHops(new Headers({ "x-forwarded-for": "1.1.1.1", forwarded: "for=2.2.2.2" })),
    ["1.1.1.1"],
  );
  assert.deepEqual(forwardedHops(new Headers()), []);
});

Deno.test("forwardedHops() keeps a quoted comma or semicolon inside one value", () => {
  assert.deepEqual(
    forwardedHops(new Headers({ forwarded: 'for="a,b;c";by=x, for=9.9.9.9' })),
    ["a,b;c", "9.9.9.9"],
  );
});

Deno.test("clientIp() ignores forwarding headers from an untrusted peer", () => {
  const headers = new Headers({ "x-forwarded-for": "203.0.113.7", forwarded: "for=1.2.3.4" });
  assert.equal(clientIp("198.51.100.1", headers, []), "198.51.100.1");
  assert.equal(clientIp("198.51.100.1", headers, cidrs("127.0.0.0/8")), "198.51.100.1");
});

Deno.test("clientIp() takes the rightmost address that is not a trusted proxy", () => {
  const trusted = cidrs("127.0.0.1", "10.0.0.0/8");
  const xff = (value: string) => new Headers({ "x-forwarded-for": value });
  assert.equal(clientIp("127.0.0.1", xff("203.0.113.7"), trusted), "203.0.113.7");
  // A client that forges the header only adds to its left.
  assert.equal(clientIp("127.0.0.1", xff("6.6.6.6, 203.0.113.7"), trusted), "203.0.113.7");
  // Two proxies in a row, both trusted.
  assert.equal(
    clientIp("127.0.0.1", xff("6.6.6.6, 203.0.113.7, 10.1.1.1"), trusted),
    "203.0.113.7",
  );
  // Every hop trusted: the leftmost is the best there is.
  assert.equal(clientIp("127.0.0.1", xff("10.0.0.9, 10.1.1.1"), trusted), "10.0.0.9");
  // No header from a trusted proxy: the proxy is the client.
  assert.equal(clientIp("127.0.0.1", new Headers(), trusted), "127.0.0.1");
  assert.equal(clientIp("127.0.0.1", xff("::FFFF:203.0.113.7"), trusted), "203.0.113.7");
  assert.equal(clientIp("127.0.0.1", xff("2001:DB8::7"), trusted), "2001:db8::7");
});

Deno.test("clientIp() falls back to the peer when the client's hop is not an address", () => {
  const trusted = cidrs("127.0.0.1");
  for (const value of ["unknown", "1.1.1.1, _hidden", "x\u001b[2J", "1.1.1.1, "]) {
    const expected = value === "1.1.1.1, " ? "1.1.1.1" : "127.0.0.1";
    assert.equal(
      clientIp("127.0.0.1", new Headers({ "x-forwarded-for": value }), trusted),
      expected,
      JSON.stringify(value),
    );
  }
  assert.equal(
    clientIp("127.0.0.1", new Headers({ forwarded: "for=unknown" }), trusted),
    "127.0.0.1",
  );
});

Deno.test("clientIp() reads Forwarded for= through a trusted proxy", () => {
  const headers = new Headers({ forwarded: 'for=6.6.6.6, for="[2001:db8::7]:4711"' });
  assert.equal(clientIp("::1", headers, cidrs("::1")), "2001:db8::7");
});

Deno.test("clientAddress() logs a direct peer as ip:port and a forwarded client as its ip", () => {
  const peer = { hostname: "127.0.0.1", port: 40000 };
  const forwarded = new Headers({ "x-forwarded-for": "127.0.0.2" });
  assert.deepEqual(clientAddress(peer, new Headers(), []), {
    address: "127.0.0.1:40000",
    key: "127.0.0.1",
  });
  assert.deepEqual(clientAddress(peer, forwarded, []), {
    address: "127.0.0.1:40000",
    key: "127.0.0.1",
  });
  assert.deepEqual(clientAddress(peer, forwarded, cidrs("127.0.0.1")), {
    address: "127.0.0.2",
    key: "127.0.0.2",
  });
  assert.deepEqual(clientAddress(peer, new Headers(), cidrs("127.0.0.1")), {
    address: "127.0.0.1:40000",
    key: "127.0.0.1",
  });
});

Deno.test("addressKey() groups an IPv6 /64 and spells IPv4 one way", () => {
  assert.equal(addressKey("::ffff:10.0.0.1"), "10.0.0.1");
  assert.equal(addressKey("2001:db8:1:2::5"), "20010db800010002/64");
  assert.notEqual(addressKey("2001:db8:1:2::5"), addressKey("2001:db8:1:3::5"));
  assert.equal(addressKey("not an address"), "not an address");
});
