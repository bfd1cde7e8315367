// This module is browser compatible.
// @ts-check
/**
 * The resume parameters of the WebSocket URL, read by the server and written
 * by the command-line client and the page: `?resumable=1` asks for a
 * resumable session, `?resume=<token>` resumes one (and asks for
 * resumability too). Pure.
 *
 * @module
 */

import { ResumeParam } from "./protocol.js";

/**
 * What a connecting client asked for.
 *
 * @typedef {object} ResumeRequest
 * @property {boolean} resumable Whether the client wants a `session` message and a grace window.
 * @property {string | undefined} token The token it presented, if any.
 */

/**
 * A client that asked for nothing: it gets no `session` message, and its
 * session ends with its connection.
 *
 * @type {Readonly<ResumeRequest>}
 */
export const NOT_RESUMABLE = Object.freeze({ resumable: false, token: undefined });

/**
 * Reads the resume parameters of an upgrade request's URL.
 *
 * @param {string | URL} url
 * @returns {Readonly<ResumeRequest>}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeRequest } from "./resume_params.js";
 * assert.deepEqual(resumeRequest("ws://h/?resumable=1"), { resumable: true, token: undefined });
 * assert.deepEqual(resumeRequest("ws://h/?resume=abc"), { resumable: true, token: "abc" });
 * assert.deepEqual(resumeRequest("ws://h/"), { resumable: false, token: undefined });
 * ```
 */
export function resumeRequest(url) {
  const params = new URL(url).searchParams;
  const token = params.get(ResumeParam.Resume) ?? undefined;
  const resumable = token !== undefined || params.get(ResumeParam.Resumable) === "1";
  return resumable ? { resumable, token } : NOT_RESUMABLE;
}

/**
 * The URL to connect to: `base` with `resume=<token>` when there is a token,
 * and `resumable=1` otherwise; other parameters are kept.
 *
 * @param {string} base
 * @param {string | undefined} token
 * @returns {string}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeUrl } from "./resume_params.js";
 * assert.equal(resumeUrl("ws://h:1/x?a=b", undefined), "ws://h:1/x?a=b&resumable=1");
 * assert.equal(resumeUrl("ws://h:1/?resumable=1", "t-1"), "ws://h:1/?resume=t-1");
 * ```
 */
export function resumeUrl(base, token) {
  const url = new URL(base);
  url.searchParams.delete(ResumeParam.Resumable);
  url.searchParams.delete(ResumeParam.Resume);
  if (token === undefined) url.searchParams.set(ResumeParam.Resumable, "1");
  else url.searchParams.set(ResumeParam.Resume, token);
  return url.href;
}
