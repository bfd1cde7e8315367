/**
 * What kind of file an offer is, in words a user knows ("PDF document",
 * "Windows program"): the page shows it next to every offer, so that a name
 * that hides its real extension does not pass for something harmless. Pure.
 *
 * @module
 */

import { safeFileName } from "../shared/file_protocol.js";

/**
 * What kind of file a name is, by its extension: what the user's system will
 * take it for once saved, whatever type the sender claimed.
 */
const KINDS = /** @type {Readonly<Record<string, string>>} */ ({
  pdf: "PDF document",
  txt: "text file",
  md: "Markdown text",
  csv: "CSV table",
  json: "JSON data",
  html: "web page",
  htm: "web page",
  doc: "Word document",
  docx: "Word document",
  xls: "Excel spreadsheet",
  xlsx: "Excel spreadsheet",
  ppt: "PowerPoint presentation",
  pptx: "PowerPoint presentation",
  odt: "OpenDocument text",
  ods: "OpenDocument spreadsheet",
  zip: "ZIP archive",
  gz: "gzip archive",
  tgz: "gzip archive",
  tar: "tar archive",
  "7z": "7-Zip archive",
  rar: "RAR archive",
  png: "PNG image",
  jpg: "JPEG image",
  jpeg: "JPEG image",
  gif: "GIF image",
  webp: "WebP image",
  svg: "SVG image",
  heic: "HEIC image",
  mp3: "MP3 audio",
  wav: "WAV audio",
  ogg: "Ogg audio",
  flac: "FLAC audio",
  m4a: "M4A audio",
  mp4: "MP4 video",
  webm: "WebM video",
  mov: "QuickTime video",
  mkv: "Matroska video",
  exe: "Windows program",
  msi: "Windows installer",
  bat: "Windows script",
  cmd: "Windows script",
  ps1: "PowerShell script",
  vbs: "Windows script",
  scr: "Windows program",
  lnk: "Windows shortcut",
  jar: "Java program",
  apk: "Android app",
  dmg: "macOS disk image",
  pkg: "macOS installer",
  sh: "shell script",
  deb: "Debian package",
  rpm: "RPM package",
});

/** Words for the major part of a media type, when the name says nothing. */
const MEDIA_KINDS = /** @type {Readonly<Record<string, string>>} */ ({
  image: "image",
  audio: "audio",
  video: "video",
  text: "text file",
});

/**
 * What kind of file an offer is, in words: by the extension of the name it
 * will be saved under, else by its media type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeKind } from "./file_kinds.js";
 * assert.equal(describeKind("report.PDF", "application/octet-stream"), "PDF document");
 * assert.equal(describeKind("\u202Egnp.exe", "image/png"), "Windows program");
 * assert.equal(describeKind("notes", "text/plain"), "text file");
 * assert.equal(describeKind("data.bin", "application/octet-stream"), "BIN file");
 * assert.equal(describeKind("data", "application/octet-stream"), "file of unknown type");
 * ```
 *
 * @param {string} name The name as offered.
 * @param {string} mime The media type the sender gave.
 * @returns {string}
 */
export function describeKind(name, mime) {
  const saved = safeFileName(name);
  const dot = saved.lastIndexOf(".");
  const extension = dot > 0 ? saved.slice(dot + 1).toLowerCase() : "";
  if (Object.hasOwn(KINDS, extension)) return /** @type {string} */ (KINDS[extension]);
  const major = mime.split("/")[0] ?? "";
  if (Object.hasOwn(MEDIA_KINDS, major)) return /** @type {string} */ (MEDIA_KINDS[major]);
  if (/^[a-z0-9]{1,8}$/.test(extension)) return `${extension.toUpperCase()} file`;
  return "file of unknown type";
}
