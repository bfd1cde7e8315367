import assert from "node:assert/strict";
import {
  FileMessageType,
  formatBytes,
  MAX_NAME_BYTES,
  newFileId,
  numberedName,
  parseFileMessage,
  safeFileName,
} from "../../lib/shared/file_protocol.js";

Deno.test("parseFileMessage() takes every message type in its declared shape", () => {
  const hash = "a".repeat(64);
  assert.deepEqual(
    parseFileMessage('{"type":"file_offer","name":"a","size":1,"mime":"Text/Plain"}'),
    {
      type: FileMessageType.Offer,
      name: "a",
      size: 1,
      mime: "text/plain",
    },
  );
  assert.deepEqual(parseFileMessage('{"type":"file_accept"}'), { type: "file_accept" });
  assert.deepEqual(parseFileMessage('{"type":"file_reject"}'), {
    type: "file_reject",
    reason: "no reason given",
  });
  assert.deepEqual(parseFileMessage(`{"type":"file_end","sha256":"${hash}"}`), {
    type: "file_end",
    sha256: hash,
  });
  assert.deepEqual(parseFileMessage(`{"type":"file_done","sha256":"${hash}"}`), {
    type: "file_done",
    sha256: hash,
  });
  assert.deepEqual(parseFileMessage('{"type":"file_cancel","reason":"x"}'), {
    type: "file_cancel",
    reason: "x",
  });
});

Deno.test("parseFileMessage() refuses malformed messages and cleans the media type", () => {
  for (
    const text of [
      "null",
      "[]",
      '{"type":"chat"}',
      '{"type":"file_offer","name":"a","size":-1}',
      '{"type":"file_offer","name":"a","size":1.5}',
      `{"type":"file_offer","name":"${"a".repeat(1025)}","size":1}`,
      '{"type":"file_end","sha256":"ABC"}',
      '{"type":"file_ack"}',
    ]
  ) {
    assert.equal(parseFileMessage(text), undefined, text);
  }
  const offer = parseFileMessage('{"type":"file_offer","name":"a","size":1,"mime":"text/html; x"}');
  assert.equal(offer?.type === "file_offer" && offer.mime, "application/octet-stream");
});

Deno.test("safeFileName() never leaves a separator, a leading dot, a control character or a device name", () => {
  for (
    const offered of [
      "../x",
      "/etc/passwd",
      "a\nb",
      "..\\..\\boot.ini",
      " .. ",
      "\u202Etxt.exe",
      "nul",
      "LPT1.log",
      "x".repeat(300),
      "é".repeat(300) + ".txt",
    ]
  ) {
    const name = safeFileName(offered);
    assert.doesNotMatch(name, /[/\\\p{Cc}\p{Cf}]/u, offered);
    assert.doesNotMatch(name, /^[.\s]/, offered);
    assert.doesNotMatch(name, /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i, offered);
    assert.ok(new TextEncoder().encode(name).length <= MAX_NAME_BYTES, offered);
    assert.notEqual(name, "", offered);
  }
  assert.equal(safeFileName("é".repeat(300) + ".txt"), "é".repeat(98) + ".txt");
  assert.equal(safeFileName("report.pdf"), "report.pdf");
});

Deno.test("safeFileName() applies the device-name rule to the name as saved, after shortening", () => {
  // Shortening drops the spaces before the extension: "nul" + ".txt".
  assert.equal(safeFileName("nul" + " ".repeat(250) + "x.txt"), "_nul.txt");
  assert.equal(safeFileName("COM1" + " ".repeat(300) + "y.log"), "_COM1.log");
  // Windows ignores spaces before the extension, so these are devices too.
  assert.equal(safeFileName("nul .txt"), "_nul .txt");
  assert.equal(safeFileName("aux  "), "_aux");
  for (const offered of ["nul" + " ".repeat(250) + "x.txt", "con" + ".".repeat(300) + "é.md"]) {
    const name = safeFileName(offered);
    assert.doesNotMatch(name, /^(con|prn|aux|nul|com\d|lpt\d)\s*(\.|$)/i, offered);
    assert.ok(new TextEncoder().encode(name).length <= MAX_NAME_BYTES, offered);
  }
});

Deno.test("numberedName(), formatBytes() and newFileId() say what they should", () => {
  assert.equal(numberedName(".x", 1), ".x (1)");
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1_500), "1.5 kB");
  assert.equal(formatBytes(123_456_789_012), "123 GB");
  assert.match(newFileId(), /^[0-9a-f]{8}$/);
});
