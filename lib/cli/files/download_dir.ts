/**
 * The folder received files go to, checked before the client connects: with
 * `--accept-files` (or a `--download-dir`), one line naming the flags it
 * needs, never a prompt later; a missing folder is made.
 *
 * @module
 */

import { missingFlags } from "../../runtime/permissions.ts";
import { errorText } from "../../runtime/safe_text.ts";
import { receivePermissions } from "./transfers.ts";
import { cleanPartials } from "./partials.ts";

/** The flags {@link checkDownloadDir} reads. */
export interface DownloadDirFlags {
  /** `--accept-files`. */
  acceptFiles: boolean;
  /** `--download-dir`; `.` when not given. */
  downloadDir: string;
  /** `--keep-partials`, in hours: older partials are removed now. */
  keepPartials?: number;
}

/**
 * Checks up front that the download folder can be written, and makes it if
 * it is missing. Says nothing when files are not received.
 *
 * @param report Where the one line goes (stderr).
 * @returns 0, or the exit code after one line on `report`.
 */
export async function checkDownloadDir(
  flags: DownloadDirFlags,
  report: (line: string) => void,
): Promise<number> {
  if (!flags.acceptFiles && flags.downloadDir === ".") return 0;
  const missing = await missingFlags(receivePermissions(flags.downloadDir));
  if (missing.length > 0) {
    report(
      `Receiving files into ${flags.downloadDir} needs ${
        missing.join(" ")
      } (or run: deno task peer-files)`,
    );
    return 2;
  }
  try {
    if (!(await Deno.stat(flags.downloadDir)).isDirectory) throw new Error("not a folder");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return await makeDownloadDir(flags.downloadDir, report);
    }
    report(`--download-dir ${flags.downloadDir}: ${errorText(error)}`);
    return 2;
  }
  if (flags.keepPartials !== undefined) {
    try {
      const removed = cleanPartials(flags.downloadDir, {
        maxAgeMs: flags.keepPartials * 3600_000,
      });
      if (removed.length > 0) {
        report(
          `Removed ${removed.length} partial file${
            removed.length === 1 ? "" : "s"
          } older than ${flags.keepPartials} h from ${flags.downloadDir}`,
        );
      }
    } catch (error) {
      report(
        `--download-dir ${flags.downloadDir}: cannot clean partial files: ${errorText(error)}`,
      );
    }
  }
  return 0;
}

async function makeDownloadDir(dir: string, report: (line: string) => void): Promise<number> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    report(`--download-dir ${dir}: cannot make the folder: ${errorText(error)}`);
    return 2;
  }
  report(`Made the download folder ${dir}`);
  return 0;
}
