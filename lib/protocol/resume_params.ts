/**
 * The resume parameters of the WebSocket URL, for the server and the
 * command-line client: `?resumable=1` asks for a resumable session,
 * `?resume=<token>` resumes one. Written once in `../shared/resume_params.js`,
 * which the page runs too.
 *
 * @module
 */

export { NOT_RESUMABLE, resumeRequest, resumeUrl } from "../shared/resume_params.js";
export type { ResumeRequest } from "../shared/resume_params.js";
