/**
 * The browser page's files, embedded in the server: imported as text, so the
 * page is served from a checkout and from a URL alike, with `--allow-net` only.
 * Each is served at its path below `lib/` (`/page/app.js`, `/shared/protocol.js`),
 * so a relative import resolves the same way in the browser as in Deno.
 *
 * @module
 */

import html from "../page/index.html" with { type: "text" };
import style from "../page/style.css" with { type: "text" };
import app from "../page/app.js" with { type: "text" };
import peerLink from "../shared/peer_link.js" with { type: "text" };
import protocol from "../shared/protocol.js" with { type: "text" };
import fileProtocol from "../shared/file_protocol.js" with { type: "text" };
import fileTransfer from "../shared/file_transfer.js" with { type: "text" };
import filesUi from "../page/files_ui.js" with { type: "text" };
import sha256 from "../shared/sha256.js" with { type: "text" };
import verification from "../shared/verification.js" with { type: "text" };
import printable from "../shared/printable.js" with { type: "text" };

/** One file of the page. */
export interface Asset {
  /** The file's text. */
  body: string;
  /** Its `Content-Type`. */
  contentType: string;
}

const JS = "text/javascript; charset=utf-8";

/** The page's files by request path: `/` is `page/index.html`, the rest their path below `lib/`. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", { body: html, contentType: "text/html; charset=utf-8" }],
  ["/page/style.css", { body: style, contentType: "text/css; charset=utf-8" }],
  ["/page/app.js", { body: app, contentType: JS }],
  ["/page/files_ui.js", { body: filesUi, contentType: JS }],
  ["/shared/peer_link.js", { body: peerLink, contentType: JS }],
  ["/shared/protocol.js", { body: protocol, contentType: JS }],
  ["/shared/file_protocol.js", { body: fileProtocol, contentType: JS }],
  ["/shared/file_transfer.js", { body: fileTransfer, contentType: JS }],
  ["/shared/sha256.js", { body: sha256, contentType: JS }],
  ["/shared/verification.js", { body: verification, contentType: JS }],
  ["/shared/printable.js", { body: printable, contentType: JS }],
]);

/**
 * The page's Content-Security-Policy: its own scripts, styles and WebSocket
 * only; nothing inline, nothing from elsewhere, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The response for a page path, or `undefined` when `path` is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assetResponse } from "./page_assets.ts";
 * assert.equal(assetResponse("/")?.headers.get("content-type"), "text/html; charset=utf-8");
 * assert.equal(assetResponse("/nope"), undefined);
 * ```
 */
export function assetResponse(path: string): Response | undefined {
  const asset = ASSETS.get(path);
  if (asset === undefined) return undefined;
  return new Response(asset.body, {
    headers: {
      "content-type": asset.contentType,
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-cache",
    },
  });
}
