import assert from "node:assert/strict";
import {
  CODE_FRAGMENT,
  CODE_WORDS,
  codeLink,
  formatCode,
  newPassword,
  parseCode,
  PASSWORD_WORDS,
} from "../../lib/shared/pairing_code.js";

/** A random integer in `[0, below)`. */
const randomBelow = (below: number) => Math.floor(Math.random() * below);

const FIRST = CODE_WORDS[0]!;
const LAST = CODE_WORDS[CODE_WORDS.length - 1]!;

Deno.test("the word list has 256 distinct lowercase words that differ in their first four letters", () => {
  assert.equal(CODE_WORDS.length, 256);
  assert.equal(new Set(CODE_WORDS).size, 256);
  for (const word of CODE_WORDS) assert.match(word, /^[a-z]+$/);
  const prefixes = new Map<string, string>();
  for (const word of CODE_WORDS) {
    const prefix = word.slice(0, 4);
    assert.equal(prefixes.get(prefix), undefined, `${word} and ${prefixes.get(prefix)}`);
    prefixes.set(prefix, word);
  }
  assert.ok(Object.isFrozen(CODE_WORDS));
});

Deno.test("a password has two words, and the code fragment key is code", () => {
  assert.equal(PASSWORD_WORDS, 2);
  assert.equal(CODE_FRAGMENT, "code");
  assert.equal(newPassword().split("-").length, PASSWORD_WORDS);
});

Deno.test("formatCode joins the nameplate and the password with a hyphen", () => {
  assert.equal(formatCode({ nameplate: "7", password: "tidy-orbit" }), "7-tidy-orbit");
  assert.equal(
    formatCode({ nameplate: "123456789", password: `${FIRST}-${LAST}` }),
    `123456789-${FIRST}-${LAST}`,
  );
});

Deno.test("parsing a formatted code gives the code back, for random codes", () => {
  for (let i = 0; i < 1000; i++) {
    const digits = 1 + randomBelow(9);
    const nameplate = String(1 + randomBelow(9)) +
      Array.from({ length: digits - 1 }, () => randomBelow(10)).join("");
    const password = i % 2 === 0 ? newPassword() : Array.from(
      { length: PASSWORD_WORDS },
      () => CODE_WORDS[randomBelow(CODE_WORDS.length)],
    ).join("-");
    const code = { nameplate, password };
    assert.deepEqual(parseCode(formatCode(code)), code, formatCode(code));
  }
});

Deno.test("every word of the list parses in either position", () => {
  for (const [i, word] of CODE_WORDS.entries()) {
    const other = CODE_WORDS[(i + 1) % CODE_WORDS.length]!;
    assert.deepEqual(parseCode(`5-${word}-${other}`), {
      nameplate: "5",
      password: `${word}-${other}`,
    });
    assert.deepEqual(parseCode(`5-${other}-${word}`), {
      nameplate: "5",
      password: `${other}-${word}`,
    });
  }
});

Deno.test("a code typed with capitals, spaces, dots, underscores or surrounding space parses", () => {
  const expected = { nameplate: "7", password: "tidy-orbit" };
  for (
    const typed of [
      "7-tidy-orbit",
      "7-Tidy-Orbit",
      "7-TIDY-ORBIT",
      "7 tidy orbit",
      "7  tidy   orbit",
      "7.tidy.orbit",
      "7_tidy_orbit",
      "7 - tidy - orbit",
      "7-tidy.orbit",
      "  7-tidy-orbit  ",
      "\t7 Tidy orbit\n",
    ]
  ) {
    assert.deepEqual(parseCode(typed), expected, JSON.stringify(typed));
  }
});

Deno.test("a leading zero, a wrong number of words, an unknown word or a UUID is not a code", () => {
  for (
    const text of [
      "",
      "   ",
      "7",
      "07-tidy-orbit",
      "0-tidy-orbit",
      "007-tidy-orbit",
      "1234567890-tidy-orbit",
      "7-tidy",
      "7-tidy-orbit-tidy",
      "7-tidy-orbitz",
      "7-tidy-orb",
      "7-tidy-",
      "-7-tidy-orbit",
      "x-tidy-orbit",
      "7x-tidy-orbit",
      "tidy-orbit-7",
      "tidy-orbit",
      "7-tidy-0rbit",
      "7/tidy/orbit",
      "7-tidy-orbit!",
      "0f8c2d9e-1b7a-4c3e-9d2f-6a5b4c3d2e1f",
      "123e4567-e89b-12d3-a456-426614174000",
    ]
  ) {
    assert.equal(parseCode(text), undefined, JSON.stringify(text));
  }
});

Deno.test("codeLink maps ws to http and wss to https, keeps the host and path, and drops the query", () => {
  const code = "7-tidy-orbit";
  assert.equal(
    codeLink("ws://192.168.1.20:8765/?resumable=1", code),
    "http://192.168.1.20:8765/#code=7-tidy-orbit",
  );
  assert.equal(
    codeLink("wss://example.org/signal/?resumable=1&x=2#old", code),
    "https://example.org/signal/#code=7-tidy-orbit",
  );
  assert.equal(
    codeLink("wss://example.org:8443", code),
    "https://example.org:8443/#code=7-tidy-orbit",
  );
  assert.equal(codeLink("ws://[::1]:8765/", code), "http://[::1]:8765/#code=7-tidy-orbit");
  // A page URL is fine too.
  assert.equal(codeLink("https://example.org/x", code), "https://example.org/x#code=7-tidy-orbit");
  assert.equal(
    codeLink("http://localhost:8765/", code),
    "http://localhost:8765/#code=7-tidy-orbit",
  );
});

Deno.test("the link's fragment carries the code, which parses back", () => {
  for (let i = 0; i < 20; i++) {
    const code = { nameplate: String(1 + randomBelow(999)), password: newPassword() };
    const link = new URL(codeLink("wss://example.org/?token=secret", formatCode(code)));
    assert.equal(link.pathname, "/");
    assert.equal(link.search, "");
    assert.ok(!link.href.includes("secret"));
    const carried = new URLSearchParams(link.hash.slice(1)).get(CODE_FRAGMENT);
    assert.equal(carried, formatCode(code));
    assert.deepEqual(parseCode(carried ?? ""), code);
  }
});

Deno.test("newPassword draws every word position from the whole list", () => {
  const seen = Array.from({ length: PASSWORD_WORDS }, () => new Set<string>());
  let differing = 0;
  for (let i = 0; i < 2000; i++) {
    const words = newPassword().split("-");
    assert.equal(words.length, PASSWORD_WORDS);
    words.forEach((word, position) => {
      assert.ok(CODE_WORDS.includes(word), word);
      seen[position]!.add(word);
    });
    if (words[0] !== words[1]) differing++;
  }
  // 2000 uniform draws from 256 miss on average under one word; 200 is far below.
  for (const [position, words] of seen.entries()) {
    assert.ok(words.size > 200, `position ${position}: ${words.size} distinct words`);
  }
  assert.ok(differing > 1800, `${differing} of 2000 passwords had two different words`);
});
