/**
 * The resume parameters of the WebSocket URL, read by the server and written
 * by the command-line client: `?resumable=1` asks for a resumable session,
 * `?resume=<token>` resumes one (and asks for resumability too). Pure.
 *
 * @module
 */

import { ResumeParam } from "./messages.ts";

/** What a connecting client asked for. */
export interface ResumeRequest {
  /** Whether the client wants a `session` message and a grace window. */
  readonly resumable: boolean;
  /** The token it presented, if any. */
  readonly token: string | undefined;
}

/** A client that asked for nothing: Stage 2's behaviour. */
export const NOT_RESUMABLE: ResumeRequest = { resumable: false, token: undefined };

/**
 * Reads the resume parameters of an upgrade request's URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeRequest } from "./resume_params.ts";
 * assert.deepEqual(resumeRequest("ws://h/?resumable=1"), { resumable: true, token: undefined });
 * assert.deepEqual(resumeRequest("ws://h/?resume=abc"), { resumable: true, token: "abc" });
 * assert.deepEqual(resumeRequest("ws://h/"), { resumable: false, token: undefined });
 * ```
 */
export function resumeRequest(url: string | URL): ResumeRequest {
  const params = new URL(url).searchParams;
  const token = params.get(ResumeParam.Resume) ?? undefined;
  const resumable = token !== undefined || params.get(ResumeParam.Resumable) === "1";
  return resumable ? { resumable, token } : NOT_RESUMABLE;
}

/**
 * The URL to connect to: `base` with `resume=<token>` when there is a token,
 * and `resumable=1` otherwise; other parameters are kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeUrl } from "./resume_params.ts";
 * assert.equal(resumeUrl("ws://h:1/x?a=b", undefined), "ws://h:1/x?a=b&resumable=1");
 * assert.equal(resumeUrl("ws://h:1/?resumable=1", "t-1"), "ws://h:1/?resume=t-1");
 * ```
 */
export function resumeUrl(base: string, token: string | undefined): string {
  const url = new URL(base);
  url.searchParams.delete(ResumeParam.Resumable);
  url.searchParams.delete(ResumeParam.Resume);
  if (token === undefined) url.searchParams.set(ResumeParam.Resumable, "1");
  else url.searchParams.set(ResumeParam.Resume, token);
  return url.href;
}
