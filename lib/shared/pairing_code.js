// This module is browser compatible.
// @ts-check
/**
 * Pairing codes such as `7-tidy-orbit`: a **nameplate** (the number, which
 * the server uses to bring the two sides together) and a **password** (the
 * words, which never leave the two devices). The side that asks for a code
 * makes the password itself; the server only hands out the number.
 *
 * Two words from 256 give 65,536 passwords. That is enough because nobody
 * can test a guess offline: each guess costs a nameplate, which one wrong
 * password spends on both sides (see `code_exchange.js`).
 *
 * @module
 */

/**
 * The words of passwords: 256 short, common English words, all different
 * in their first four letters.
 */
export const CODE_WORDS = Object.freeze([
  "acid",
  "acorn",
  "actor",
  "adobe",
  "agent",
  "alarm",
  "album",
  "alley",
  "amber",
  "angle",
  "ankle",
  "apple",
  "apron",
  "arena",
  "armor",
  "arrow",
  "aspen",
  "atlas",
  "attic",
  "audio",
  "award",
  "bacon",
  "badge",
  "bagel",
  "baker",
  "banjo",
  "barn",
  "basil",
  "beach",
  "beard",
  "beast",
  "bench",
  "berry",
  "bike",
  "bingo",
  "birch",
  "bison",
  "blade",
  "blank",
  "blaze",
  "bloom",
  "board",
  "boat",
  "bonus",
  "boots",
  "bread",
  "brick",
  "brook",
  "wagon",
  "brush",
  "buddy",
  "bugle",
  "bunny",
  "cabin",
  "cable",
  "camel",
  "candy",
  "canoe",
  "cargo",
  "cedar",
  "chalk",
  "charm",
  "chess",
  "chief",
  "chili",
  "cider",
  "civic",
  "claim",
  "clay",
  "cliff",
  "clock",
  "cloud",
  "coach",
  "cobra",
  "cocoa",
  "comet",
  "coral",
  "couch",
  "crane",
  "creek",
  "crisp",
  "crown",
  "cube",
  "curry",
  "daisy",
  "dance",
  "delta",
  "denim",
  "depot",
  "desk",
  "diary",
  "dingo",
  "disco",
  "dock",
  "dough",
  "drum",
  "eagle",
  "easel",
  "echo",
  "elbow",
  "elder",
  "ember",
  "empty",
  "equal",
  "fable",
  "fancy",
  "feast",
  "fern",
  "ferry",
  "fiber",
  "field",
  "flame",
  "flute",
  "focus",
  "fox",
  "frame",
  "frost",
  "fudge",
  "gecko",
  "giant",
  "glove",
  "goose",
  "grape",
  "gravy",
  "habit",
  "hazel",
  "heron",
  "honey",
  "hotel",
  "husky",
  "igloo",
  "index",
  "iris",
  "ivory",
  "jelly",
  "jewel",
  "jolly",
  "judge",
  "juice",
  "kayak",
  "kiwi",
  "koala",
  "label",
  "lemon",
  "level",
  "lilac",
  "lime",
  "linen",
  "lion",
  "lizard",
  "lobby",
  "locket",
  "lotus",
  "lunar",
  "magnet",
  "mango",
  "maple",
  "marble",
  "meadow",
  "melon",
  "metro",
  "mint",
  "mirror",
  "mocha",
  "modem",
  "monkey",
  "moose",
  "mosaic",
  "motor",
  "mouse",
  "muffin",
  "museum",
  "nectar",
  "needle",
  "nickel",
  "noble",
  "noodle",
  "north",
  "nutmeg",
  "oasis",
  "ocean",
  "olive",
  "onion",
  "opera",
  "orbit",
  "otter",
  "oven",
  "owl",
  "paddle",
  "panda",
  "paper",
  "parrot",
  "pasta",
  "peach",
  "pebble",
  "pencil",
  "pepper",
  "piano",
  "pickle",
  "pilot",
  "pixel",
  "pizza",
  "planet",
  "plum",
  "polar",
  "pony",
  "poppy",
  "potato",
  "prism",
  "puzzle",
  "quail",
  "quartz",
  "quest",
  "quilt",
  "rabbit",
  "radar",
  "radio",
  "raven",
  "recipe",
  "relay",
  "ribbon",
  "robot",
  "rocket",
  "rodeo",
  "rover",
  "ruby",
  "saddle",
  "salad",
  "salmon",
  "sandal",
  "satin",
  "scarf",
  "silver",
  "skate",
  "sketch",
  "slope",
  "snow",
  "sofa",
  "solar",
  "spider",
  "spoon",
  "squash",
  "stamp",
  "tidy",
  "tiger",
  "toast",
  "tomato",
  "topaz",
  "tulip",
  "tundra",
  "turtle",
  "velvet",
  "violin",
  "walnut",
  "yogurt",
  "zebra",
]);

/** How many words a password has. */
export const PASSWORD_WORDS = 2;

/** The fragment key of a page link that carries a code: `/#code=7-tidy-orbit`. */
export const CODE_FRAGMENT = "code";

/**
 * A code, split.
 *
 * @typedef {object} PairingCode
 * @property {string} nameplate The number, as the server knows it.
 * @property {string} password The words, joined by `-`: never sent to the server.
 */

/**
 * A new password of {@linkcode PASSWORD_WORDS} random words (Web Crypto's
 * random numbers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CODE_WORDS, newPassword } from "./pairing_code.js";
 * const words = newPassword().split("-");
 * assert.equal(words.length, 2);
 * assert.ok(words.every((word) => CODE_WORDS.includes(word)));
 * ```
 *
 * @returns {string}
 */
export function newPassword() {
  const picks = crypto.getRandomValues(new Uint8Array(PASSWORD_WORDS));
  return [...picks].map((pick) => CODE_WORDS[pick]).join("-");
}

/**
 * The code as people see and type it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCode } from "./pairing_code.js";
 * assert.equal(formatCode({ nameplate: "7", password: "tidy-orbit" }), "7-tidy-orbit");
 * ```
 *
 * @param {PairingCode} code
 * @returns {string}
 */
export function formatCode(code) {
  return `${code.nameplate}-${code.password}`;
}

/**
 * Reads a code as a person typed it: spaces, dots or underscores for
 * hyphens and capitals are fine; a word not in the list, a missing word or a
 * number with a leading zero is not a code (`undefined`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCode } from "./pairing_code.js";
 * assert.deepEqual(parseCode(" 7 Tidy orbit "), { nameplate: "7", password: "tidy-orbit" });
 * assert.equal(parseCode("7-tidy"), undefined);
 * assert.equal(parseCode("7-tidy-orbitz"), undefined);
 * assert.equal(parseCode("0f8c2d9e-1b7a-4c3e-9d2f-6a5b4c3d2e1f"), undefined);
 * ```
 *
 * @param {string} text
 * @returns {PairingCode | undefined}
 */
export function parseCode(text) {
  const parts = text.trim().toLowerCase().split(/[\s\-._]+/);
  if (parts.length !== PASSWORD_WORDS + 1) return undefined;
  const [nameplate = "", ...words] = parts;
  if (!/^[1-9]\d{0,8}$/.test(nameplate)) return undefined;
  if (!words.every((word) => CODE_WORDS.includes(word))) return undefined;
  return { nameplate, password: words.join("-") };
}

/**
 * Whether `text` was meant as a code, even a mistyped one: a number, then a
 * separator and a letter (an id is a UUID, which this never takes). Such
 * text is never sent to the server as an id, since that would hand it the
 * code's password: it is a code, or it is refused where it was typed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { looksLikeCode } from "./pairing_code.js";
 * assert.equal(looksLikeCode("7-tidy-orbitt"), true);
 * assert.equal(looksLikeCode(" 7 tidy"), true);
 * assert.equal(looksLikeCode("12345678-1234-4abc-8def-123456789abc"), false);
 * assert.equal(looksLikeCode("b5e1c0de"), false);
 * ```
 *
 * @param {string} text
 * @returns {boolean}
 */
export function looksLikeCode(text) {
  const trimmed = text.trim();
  if (/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(trimmed)) return false;
  return /^\d+[\s\-._]+[a-z]/i.test(trimmed);
}

/** What a person is told when what they typed looks like a code but is not one. */
export const NOT_A_CODE =
  "not a code: a code is a number and two words from the list, such as 7-tidy-orbit";

/**
 * The page's link for a code: the code rides in the fragment, which a
 * browser never sends to a server, so only the person who opens the link
 * (and the page, in that browser) ever reads its password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeLink } from "./pairing_code.js";
 * assert.equal(
 *   codeLink("ws://192.168.1.20:8765/?resumable=1", "7-tidy-orbit"),
 *   "http://192.168.1.20:8765/#code=7-tidy-orbit",
 * );
 * assert.equal(
 *   codeLink("wss://example.org/switchboard/", "7-tidy-orbit"),
 *   "https://example.org/switchboard/#code=7-tidy-orbit",
 * );
 * assert.equal(codeLink("wss://example.org/", "7-tidy-orbit"), "https://example.org/#code=7-tidy-orbit");
 * ```
 *
 * @param {string} serverUrl The server's WebSocket or page URL.
 * @param {string} code The code, formatted.
 * @returns {string}
 */
export function codeLink(serverUrl, code) {
  const url = new URL(serverUrl);
  const scheme = url.protocol === "wss:" || url.protocol === "https:" ? "https:" : "http:";
  // The path stays: behind a proxy the page may live under a prefix, as the WebSocket does.
  return `${scheme}//${url.host}${url.pathname}#${CODE_FRAGMENT}=${encodeURIComponent(code)}`;
}
