import assert from "node:assert/strict";
import { describeKind } from "../../lib/page/file_kinds.js";

Deno.test("describeKind() names a file by the extension it is saved under, else by its media type", () => {
  assert.equal(describeKind("report.pdf", "application/pdf"), "PDF document");
  assert.equal(describeKind("IMG_1.JPG", "application/octet-stream"), "JPEG image");
  // The sender's claim is not what the saved file opens as: its name is.
  assert.equal(describeKind("\u202Egnp.exe", "image/png"), "Windows program");
  assert.equal(describeKind("holiday", "video/mp4"), "video");
  assert.equal(describeKind("dump.xyz", "application/octet-stream"), "XYZ file");
  assert.equal(describeKind("..", "application/octet-stream"), "file of unknown type");
});
