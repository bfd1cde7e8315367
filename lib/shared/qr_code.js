// This module is browser compatible.
// @ts-check
/**
 * QR codes of a text (in practice, the pairing link with its code, such as
 * `http://192.168.1.20:8765/#code=7-tidy-orbit`), drawn so that a phone can
 * scan it: as lines of Unicode half blocks for the terminal, and as an SVG
 * for the page. Both draw the same modules, from {@linkcode qrMatrix}; the
 * encoding itself (versions, masks, error correction) is `@paulmillr/qr`'s.
 *
 * @module
 */

import { encodeQR } from "./deps.js";

/**
 * The quiet zone (light margin) around the terminal drawing, in modules.
 * The QR standard asks for 4; 2 is what phone scanners need in practice
 * (and `@paulmillr/qr`'s own default), and each module saved on every side
 * saves a line and two columns: the code of a 60-character link then fits a
 * 24-line terminal with room for the text around it. The page has no such
 * shortage and keeps the full {@linkcode SVG_QUIET_ZONE}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qrMatrix, qrTerminal, TERMINAL_QUIET_ZONE } from "./qr_code.js";
 * const size = qrMatrix("hello").length;
 * const width = qrTerminal("hello").split("\n")[0]?.length;
 * assert.equal(width, size + 2 * TERMINAL_QUIET_ZONE);
 * ```
 */
export const TERMINAL_QUIET_ZONE = 2;

/**
 * The quiet zone around the SVG drawing, in modules: the 4 the QR standard
 * asks for, as a page has the room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qrMatrix, qrSvg, SVG_QUIET_ZONE } from "./qr_code.js";
 * const size = qrMatrix("hello").length + 2 * SVG_QUIET_ZONE;
 * assert.ok(qrSvg("hello").includes(`viewBox="0 0 ${size} ${size}"`));
 * ```
 */
export const SVG_QUIET_ZONE = 4;

/**
 * The modules of the QR code of `text`, row by row, without a quiet zone:
 * `true` is a dark module. The error correction is "medium" (15% of the code
 * may be lost): a phone pointed at a screen meets glare and moiré, and the
 * "low" level would save only a version for a short link. The smallest
 * version that holds the text is used, so the matrix is square with an odd
 * side of 21 to 177.
 *
 * @param {string} text The text to encode, as UTF-8 where it is not plain
 * digits or upper-case letters.
 * @returns {boolean[][]} A square matrix; `matrix[y][x]` is the module in
 * row `y`, column `x`.
 * @throws {Error} When the text is too long for any QR code (about 2300
 * bytes at this error correction).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qrMatrix } from "./qr_code.js";
 * const matrix = qrMatrix("http://192.168.1.20:8765/#code=7-tidy-orbit");
 * assert.equal(matrix.length, 33); // version 4: 4·4 + 17 modules a side
 * assert.ok(matrix.every((row) => row.length === matrix.length));
 * // The top left finder pattern starts with seven dark modules.
 * assert.deepEqual(matrix[0]?.slice(0, 8), [true, true, true, true, true, true, true, false]);
 * ```
 */
export function qrMatrix(text) {
  // The library's rows may hold `undefined` for an undrawn module in its
  // types; it checks that every module was drawn, and the copy makes each
  // a real boolean, in arrays the caller may change freely.
  return encodeQR(text, "raw", { ecc: "medium", border: 0 }).map((row) =>
    row.map((module) => module === true)
  );
}

/**
 * The modules of `text`'s QR code surrounded by `quietZone` light modules.
 *
 * @param {string} text
 * @param {number} quietZone
 * @returns {boolean[][]}
 */
function withQuietZone(text, quietZone) {
  const matrix = qrMatrix(text);
  const side = matrix.length + 2 * quietZone;
  /** @type {boolean[]} */
  const light = new Array(side).fill(false);
  /** @type {boolean[]} */
  const margin = new Array(quietZone).fill(false);
  return [
    ...Array.from({ length: quietZone }, () => [...light]),
    ...matrix.map((row) => [...margin, ...row, ...margin]),
    ...Array.from({ length: quietZone }, () => [...light]),
  ];
}

/**
 * Options of {@linkcode qrTerminal}.
 *
 * @typedef {object} QrTerminalOptions
 * @property {boolean} [invert] Draw the dark modules as blocks instead of the
 * light ones, for a terminal with dark text on a light background.
 */

/**
 * The QR code of `text` as lines of the half blocks `▀`, `▄`, `█` and
 * spaces, two rows of modules to a line, so that the modules come out about
 * square (a terminal cell is about twice as tall as wide) and the code takes
 * half the lines. The lines are joined by `"\n"`, with none at the end, and
 * all have the same length (spaces at their ends are part of the drawing).
 *
 * Polarity: terminals usually print light text on a dark background, while
 * phone scanners look for dark modules on a light ground. So, by default,
 * the blocks (printed in the text colour) are the LIGHT modules and the
 * quiet zone, and spaces (the background) are the DARK modules; a code drawn
 * the other way round shows light modules on dark, which many scanners do
 * not read. `{ invert: true }` draws dark modules as blocks, for dark text
 * on a light background. The quiet zone is {@linkcode TERMINAL_QUIET_ZONE}
 * modules. The matrix has an odd number of rows, so the last line's lower
 * half is left to the background: the drawing ends exactly at the quiet
 * zone.
 *
 * @param {string} text The text to encode, such as a link.
 * @param {QrTerminalOptions} [options]
 * @returns {string} The drawing, without colour codes.
 * @throws {Error} When the text is too long for any QR code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qrTerminal } from "./qr_code.js";
 * const lines = qrTerminal("http://192.168.1.20:8765/#code=7-tidy-orbit").split("\n");
 * // 33 modules and a quiet zone of 2 on each side: 37 columns, 37 rows in 19 lines.
 * assert.equal(lines.length, 19);
 * assert.ok(lines.every((line) => line.length === 37 && /^[▀▄█ ]+$/.test(line)));
 * // The top line is quiet zone only: light, so full blocks.
 * assert.equal(lines[0], "█".repeat(37));
 * // Inverted, the quiet zone is the background.
 * assert.equal(qrTerminal("hello", { invert: true }).split("\n")[0], " ".repeat(25));
 * ```
 */
export function qrTerminal(text, options = {}) {
  const blockIsDark = options.invert === true;
  const rows = withQuietZone(text, TERMINAL_QUIET_ZONE);
  /** @type {string[]} */
  const lines = [];
  for (let y = 0; y < rows.length; y += 2) {
    const top = rows[y] ?? [];
    const bottom = rows[y + 1];
    let line = "";
    for (let x = 0; x < top.length; x++) {
      const upper = top[x] === blockIsDark;
      // Past the last row is the terminal's background, never a block.
      const lower = bottom !== undefined && bottom[x] === blockIsDark;
      line += upper ? (lower ? "█" : "▀") : (lower ? "▄" : " ");
    }
    lines.push(line);
  }
  return lines.join("\n");
}

/** @type {Record<string, string>} */
const XML_ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * `text` as XML character data or attribute value: the five special
 * characters as references, and the characters XML cannot hold at all (most
 * controls, lone surrogates, U+FFFE and U+FFFF) as U+FFFD, so that no text
 * makes the SVG malformed or adds markup to it.
 *
 * @param {string} text
 * @returns {string}
 */
function escapeXml(text) {
  let escaped = "";
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const allowed = code === 0x9 || code === 0xa || code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    escaped += allowed ? (XML_ENTITIES[character] ?? character) : "\uFFFD";
  }
  return escaped;
}

/**
 * The QR code of `text` as a standalone SVG document: a white square and the
 * dark modules as one path, in a `viewBox` of one unit per module with a
 * quiet zone of {@linkcode SVG_QUIET_ZONE}. It sets no width or height, so
 * the page's CSS sizes it; `shape-rendering="crispEdges"` keeps adjacent
 * modules from showing anti-aliased seams at any size. The white square is
 * part of the drawing so the code stays dark on light in a dark theme. The
 * `<title>` holds the text, escaped, for screen readers and as a tooltip.
 *
 * Each run of dark modules in a row is one rectangle, `M{x} {y}h{n}v1h-{n}z`,
 * in absolute coordinates that include the quiet zone.
 *
 * @param {string} text The text to encode, such as a link.
 * @returns {string} The SVG markup.
 * @throws {Error} When the text is too long for any QR code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qrSvg } from "./qr_code.js";
 * const svg = qrSvg("http://192.168.1.20:8765/#code=7-tidy-orbit");
 * assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 41 41"'));
 * assert.ok(svg.includes("<title>http://192.168.1.20:8765/#code=7-tidy-orbit</title>"));
 * // The top left finder pattern's first row: seven dark modules after the quiet zone.
 * assert.ok(svg.includes('d="M4 4h7v1h-7z'));
 * assert.ok(qrSvg(`a<b & "c"`).includes("<title>a&lt;b &amp; &quot;c&quot;</title>"));
 * ```
 */
export function qrSvg(text) {
  const matrix = qrMatrix(text);
  const side = matrix.length + 2 * SVG_QUIET_ZONE;
  let path = "";
  matrix.forEach((row, y) => {
    for (let x = 0; x < row.length;) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (row[x]) x++;
      const run = x - start;
      path += `M${start + SVG_QUIET_ZONE} ${y + SVG_QUIET_ZONE}h${run}v1h-${run}z`;
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}">` +
    `<title>${escapeXml(text)}</title>` +
    `<rect width="${side}" height="${side}" fill="#fff"/>` +
    `<path d="${path}" fill="#000" shape-rendering="crispEdges"/>` +
    `</svg>`;
}
