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
import accessToken from "../page/access_token.js" with { type: "text" };
import app from "../page/app.js" with { type: "text" };
import chatView from "../page/chat_view.js" with { type: "text" };
import codesPage from "../page/codes.js" with { type: "text" };
import connection from "../page/connection.js" with { type: "text" };
import copyButton from "../page/copy_button.js" with { type: "text" };
import deviceStore from "../page/device_store.js" with { type: "text" };
import devices from "../page/devices.js" with { type: "text" };
import fileKinds from "../page/file_kinds.js" with { type: "text" };
import filePicking from "../page/file_picking.js" with { type: "text" };
import elements from "../page/elements.js" with { type: "text" };
import filesUi from "../page/files_ui.js" with { type: "text" };
import keptPieces from "../page/kept_pieces.js" with { type: "text" };
import keyForm from "../page/key_form.js" with { type: "text" };
import pageParams from "../page/page_params.js" with { type: "text" };
import pairing from "../page/pairing.js" with { type: "text" };
import saveTargets from "../page/save_targets.js" with { type: "text" };
import serverMessages from "../page/server_messages.js" with { type: "text" };
import serverProbe from "../page/server_probe.js" with { type: "text" };
import session from "../page/session.js" with { type: "text" };
import status from "../page/status.js" with { type: "text" };
import warmUp from "../page/warm_up.js" with { type: "text" };
import backoff from "../shared/backoff.js" with { type: "text" };
import codeExchange from "../shared/code_exchange.js" with { type: "text" };
import codeSession from "../shared/code_session.js" with { type: "text" };
import deviceBinding from "../shared/device_binding.js" with { type: "text" };
// The page's copy of `shared/deps.js`: its npm modules, bundled (`deno task vendor`).
import sharedDeps from "../vendor/shared_deps.js" with { type: "text" };
import fileProtocol from "../shared/file_protocol.js" with { type: "text" };
import fileReceiver from "../shared/file_receiver.js" with { type: "text" };
import filePieces from "../shared/file_pieces.js" with { type: "text" };
import hex from "../shared/hex.js" with { type: "text" };
import pairingCode from "../shared/pairing_code.js" with { type: "text" };
import fileSender from "../shared/file_sender.js" with { type: "text" };
import fileSet from "../shared/file_set.js" with { type: "text" };
import fileTransfer from "../shared/file_transfer.js" with { type: "text" };
import peerLink from "../shared/peer_link.js" with { type: "text" };
import printable from "../shared/printable.js" with { type: "text" };
import protocol from "../shared/protocol.js" with { type: "text" };
import qrCode from "../shared/qr_code.js" with { type: "text" };
import resumeParams from "../shared/resume_params.js" with { type: "text" };
import rtcTypes from "../shared/rtc_types.js" with { type: "text" };
import sha256 from "../shared/sha256.js" with { type: "text" };
import spake2 from "../shared/spake2.js" with { type: "text" };
import verification from "../shared/verification.js" with { type: "text" };

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
  ...Object.entries({
    "/page/access_token.js": accessToken,
    "/page/app.js": app,
    "/page/chat_view.js": chatView,
    "/page/codes.js": codesPage,
    "/page/connection.js": connection,
    "/page/copy_button.js": copyButton,
    "/page/device_store.js": deviceStore,
    "/page/devices.js": devices,
    "/page/elements.js": elements,
    "/page/file_kinds.js": fileKinds,
    "/page/file_picking.js": filePicking,
    "/page/files_ui.js": filesUi,
    "/page/kept_pieces.js": keptPieces,
    "/page/key_form.js": keyForm,
    "/page/page_params.js": pageParams,
    "/page/pairing.js": pairing,
    "/page/save_targets.js": saveTargets,
    "/page/server_messages.js": serverMessages,
    "/page/server_probe.js": serverProbe,
    "/page/session.js": session,
    "/page/status.js": status,
    "/page/warm_up.js": warmUp,
    "/shared/backoff.js": backoff,
    "/shared/code_exchange.js": codeExchange,
    "/shared/code_session.js": codeSession,
    "/shared/device_binding.js": deviceBinding,
    "/shared/deps.js": sharedDeps,
    "/shared/file_protocol.js": fileProtocol,
    "/shared/file_receiver.js": fileReceiver,
    "/shared/file_pieces.js": filePieces,
    "/shared/file_sender.js": fileSender,
    "/shared/file_set.js": fileSet,
    "/shared/file_transfer.js": fileTransfer,
    "/shared/hex.js": hex,
    "/shared/pairing_code.js": pairingCode,
    "/shared/peer_link.js": peerLink,
    "/shared/printable.js": printable,
    "/shared/protocol.js": protocol,
    "/shared/qr_code.js": qrCode,
    "/shared/resume_params.js": resumeParams,
    "/shared/rtc_types.js": rtcTypes,
    "/shared/sha256.js": sha256,
    "/shared/spake2.js": spake2,
    "/shared/verification.js": verification,
  }).map(([path, body]): [string, Asset] => [path, { body, contentType: JS }]),
]);

/**
 * The page's Content-Security-Policy: its own scripts, styles and WebSocket
 * only; nothing inline, nothing from elsewhere, no framing (see
 * {@linkcode contentSecurityPolicy} for apps allowed to embed it).
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
 * The page's Content-Security-Policy when the apps at `embedOrigins` may
 * frame it (`--embed-origin`); with none, {@linkcode CONTENT_SECURITY_POLICY}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentSecurityPolicy } from "./page_assets.ts";
 * assert.match(contentSecurityPolicy(["https://app.example"]), /frame-ancestors https:\/\/app\.example$/);
 * ```
 */
export function contentSecurityPolicy(embedOrigins: readonly string[]): string {
  if (embedOrigins.length === 0) return CONTENT_SECURITY_POLICY;
  return CONTENT_SECURITY_POLICY.replace(
    "frame-ancestors 'none'",
    `frame-ancestors ${embedOrigins.join(" ")}`,
  );
}

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
export function assetResponse(
  path: string,
  csp: string = CONTENT_SECURITY_POLICY,
): Response | undefined {
  const asset = ASSETS.get(path);
  if (asset === undefined) return undefined;
  return new Response(asset.body, {
    headers: {
      "content-type": asset.contentType,
      "content-security-policy": csp,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-cache",
    },
  });
}
