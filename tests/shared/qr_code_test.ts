import assert from "node:assert/strict";
// The decoder is for tests only, so it stays out of the program's deps.js
// (and its browser bundle); pinned to the encoder's version.
// deno-lint-ignore no-import-prefix
import decodeQR from "npm:@paulmillr/qr@0.3.0/decode.js";
import {
  qrMatrix,
  qrSvg,
  qrTerminal,
  SVG_QUIET_ZONE,
  TERMINAL_QUIET_ZONE,
} from "../../lib/shared/qr_code.js";

const LINK = "http://192.168.1.20:8765/#code=7-tidy-orbit";
// 62 characters: a pairing link with a host name, a port and a long code.
const LONG_LINK = "https://switchboard.example.net:8443/#code=42-tidy-orbit-lemon";
const SPECIAL = `a<b>&"c"'d'`;

/** Pixels a module is wide in the images handed to the decoder. */
const SCALE = 4;

/**
 * An RGBA image of `dark` (true = black), each module `SCALE` pixels square,
 * inside `margin` modules of `marginIsDark` colour: what a camera would see.
 */
function toImage(dark: boolean[][], margin: number, marginIsDark: boolean) {
  const rows = dark.length + 2 * margin;
  const columns = (dark[0]?.length ?? 0) + 2 * margin;
  const width = columns * SCALE;
  const height = rows * SCALE;
  const data = new Uint8Array(width * height * 4);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const y = Math.floor(py / SCALE) - margin;
      const x = Math.floor(px / SCALE) - margin;
      const isDark = dark[y]?.[x] ?? marginIsDark;
      const i = (py * width + px) * 4;
      data.fill(isDark ? 0 : 255, i, i + 3);
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/** The module rows of a terminal drawing: true where a half block is drawn. */
function parseTerminal(drawing: string): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of drawing.split("\n")) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const character of line) {
      top.push(character === "█" || character === "▀");
      bottom.push(character === "█" || character === "▄");
    }
    rows.push(top, bottom);
  }
  return rows;
}

/** The dark modules of an SVG drawing, with its quiet zone, and the SVG's parts. */
function parseSvg(svg: string) {
  const match = svg.match(
    /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d+) \1"><title>([^<]*)<\/title><rect width="\1" height="\1" fill="#fff"\/><path d="([^"]*)" fill="#000" shape-rendering="crispEdges"\/><\/svg>$/,
  );
  assert.ok(match, `unexpected SVG: ${svg.slice(0, 200)}`);
  const side = Number(match[1]);
  const title = match[2] ?? "";
  const path = match[3] ?? "";
  const dark = Array.from({ length: side }, () => new Array<boolean>(side).fill(false));
  const rectangle = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/y;
  let step;
  let end = 0;
  while ((step = rectangle.exec(path)) !== null) {
    end = rectangle.lastIndex;
    const [x, y, run, back] = step.slice(1).map(Number) as [number, number, number, number];
    assert.equal(back, run, "each rectangle closes on itself");
    for (let i = x; i < x + run; i++) {
      const row = dark[y];
      assert.ok(row !== undefined && i < side, "the path stays inside the viewBox");
      row[i] = true;
    }
  }
  assert.equal(end, path.length, "the path is rectangles only");
  return { side, title, dark };
}

/** `matrix` inside `zone` light modules. */
function padded(matrix: boolean[][], zone: number): boolean[][] {
  const side = matrix.length + 2 * zone;
  const light = () => new Array<boolean>(side).fill(false);
  const margin = new Array<boolean>(zone).fill(false);
  return [
    ...Array.from({ length: zone }, light),
    ...matrix.map((row) => [...margin, ...row, ...margin]),
    ...Array.from({ length: zone }, light),
  ];
}

Deno.test("a QR code drawn as SVG decodes back to the link", () => {
  for (const text of [LINK, LONG_LINK]) {
    const { dark } = parseSvg(qrSvg(text));
    // The SVG's own white square and quiet zone are the whole margin.
    assert.equal(decodeQR(toImage(dark, 0, false)), text);
  }
});

Deno.test("a QR code drawn in the terminal decodes back to the link on a dark terminal", () => {
  for (const text of [LINK, LONG_LINK]) {
    // Blocks are printed in the light text colour; the rest is the dark background,
    // also around the drawing.
    const dark = parseTerminal(qrTerminal(text)).map((row) => row.map((block) => !block));
    assert.equal(decodeQR(toImage(dark, 6, true)), text);
  }
});

Deno.test("an inverted terminal QR code decodes back to the link on a light terminal", () => {
  for (const text of [LINK, LONG_LINK]) {
    const dark = parseTerminal(qrTerminal(text, { invert: true }));
    assert.equal(decodeQR(toImage(dark, 6, false)), text);
  }
});

Deno.test("every terminal line has the same width and only ▀, ▄, █ and spaces", () => {
  for (const text of [LINK, LONG_LINK, SPECIAL, "x"]) {
    for (const invert of [false, true]) {
      const lines = qrTerminal(text, { invert }).split("\n");
      const width = qrMatrix(text).length + 2 * TERMINAL_QUIET_ZONE;
      assert.equal(lines.length, Math.ceil(width / 2));
      for (const line of lines) {
        assert.match(line, /^[▀▄█ ]*$/);
        assert.equal([...line].length, width);
      }
    }
  }
});

Deno.test("the terminal draws light modules and a 2-module quiet zone as blocks, dark as spaces", () => {
  const matrix = qrMatrix(LINK);
  const expected = padded(matrix, TERMINAL_QUIET_ZONE);
  const blocks = parseTerminal(qrTerminal(LINK));
  // The odd last half row is background, not a third row of quiet zone.
  const last = blocks.pop();
  assert.ok(last?.every((block) => !block));
  assert.deepEqual(blocks, expected.map((row) => row.map((isDark) => !isDark)));
  assert.equal(TERMINAL_QUIET_ZONE, 2);
});

Deno.test("the inverted terminal drawing draws dark modules as blocks", () => {
  const expected = padded(qrMatrix(LINK), TERMINAL_QUIET_ZONE);
  const blocks = parseTerminal(qrTerminal(LINK, { invert: true }));
  assert.ok(blocks.pop()?.every((block) => !block));
  assert.deepEqual(blocks, expected);
});

Deno.test("the SVG draws exactly the QR modules within a 4-module quiet zone, at no fixed size", () => {
  const svg = qrSvg(LONG_LINK);
  const { side, title, dark } = parseSvg(svg);
  assert.deepEqual(dark, padded(qrMatrix(LONG_LINK), SVG_QUIET_ZONE));
  assert.equal(side, qrMatrix(LONG_LINK).length + 8);
  assert.equal(title, LONG_LINK);
  assert.doesNotMatch(svg, /<svg[^>]* (width|height)=/);
});

Deno.test("the SVG title escapes &, <, >, \" and ' and the code still decodes to the text", () => {
  const svg = qrSvg(SPECIAL);
  const { title, dark } = parseSvg(svg);
  assert.equal(title, "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  assert.equal(decodeQR(toImage(dark, 0, false)), SPECIAL);
  const terminal = parseTerminal(qrTerminal(SPECIAL)).map((row) => row.map((block) => !block));
  assert.equal(decodeQR(toImage(terminal, 6, true)), SPECIAL);
});

Deno.test("the SVG title replaces characters XML cannot hold, keeping the rest", () => {
  const { title } = parseSvg(qrSvg("a\u0000b\tc\uD800d😀"));
  assert.equal(title, "a\uFFFDb\tc\uFFFDd😀");
});

Deno.test("qrMatrix() gives a square of booleans, true for the dark finder-pattern corners", () => {
  const matrix = qrMatrix(LONG_LINK);
  const side = matrix.length;
  assert.equal((side - 17) % 4, 0);
  for (const row of matrix) {
    assert.equal(row.length, side);
    assert.ok(row.every((module) => typeof module === "boolean"));
  }
  for (const [x, y] of [[0, 0], [side - 1, 0], [0, side - 1]] as const) {
    assert.equal(matrix[y]?.[x], true);
  }
});

Deno.test("a text too long for any QR code throws", () => {
  assert.throws(() => qrMatrix("x".repeat(4000)));
  assert.throws(() => qrTerminal("x".repeat(4000)));
  assert.throws(() => qrSvg("x".repeat(4000)));
});
