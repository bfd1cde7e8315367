import assert from "node:assert/strict";
import {
  listMessages,
  listText,
  safeRelativePath,
  SetList,
  setName,
} from "../../lib/shared/file_set.js";
import {
  LIST_MESSAGE_BYTES,
  MAX_LIST_ENTRIES,
  parseFileMessage,
} from "../../lib/shared/file_protocol.js";

Deno.test("safeRelativePath() never climbs out, never starts at the root, and cleans each component", () => {
  const cases: [string, string][] = [
    ["a/b/c.txt", "a/b/c.txt"],
    ["../../../etc/passwd", "etc/passwd"],
    ["/etc/passwd", "etc/passwd"],
    ["C:\\Users\\x\\a.txt", "C_/Users/x/a.txt"],
    ["a//b/./../c", "a/b/c"],
    ["dir/.ssh/authorized_keys", "dir/ssh/authorized_keys"],
    ["dir/nul.txt", "dir/_nul.txt"],
    ["dir/a\u202eb\n.txt", "dir/a_b_.txt"],
    ["../..", "file"],
    ["", "file"],
  ];
  for (const [offered, safe] of cases) assert.equal(safeRelativePath(offered), safe, offered);
  assert.equal(safeRelativePath("a/".repeat(100) + "x").split("/").length, 64);
});

Deno.test("listMessages() splits a long list into messages that each fit and parse, in order", () => {
  const files = Array.from({ length: 25_000 }, (_, i) => ({
    path: `photos/ünïcödé/${"x".repeat(i % 50)}-${i}.jpg`,
    size: i,
  }));
  const messages = listMessages(files, ["photos/empty"]);
  assert.ok(messages.length > 1);
  const entries = [];
  for (const message of messages) {
    const text = listText(message);
    assert.ok(new TextEncoder().encode(text).length <= LIST_MESSAGE_BYTES, "fits a message");
    assert.ok(message.entries.length <= MAX_LIST_ENTRIES);
    const parsed = parseFileMessage(text);
    assert.equal(parsed?.type, "file_list");
    if (parsed?.type === "file_list") entries.push(...parsed.entries);
  }
  assert.deepEqual(entries.slice(0, 2), [{ path: files[0]!.path, size: 0 }, {
    path: files[1]!.path,
    size: 1,
  }]);
  assert.deepEqual(entries.at(-1), { path: "photos/empty" });
  assert.equal(entries.length, 25_001);
});

Deno.test("SetList takes exactly what the offer announced: counts and total size", () => {
  const offer = { size: 10, files: 2, folders: 0 };
  assert.equal(
    new SetList(offer).add([{ path: "a", size: 4 }, { path: "b", size: 6 }]),
    "complete",
  );
  assert.equal(
    new SetList(offer).add([{ path: "a", size: 4 }, { path: "b", size: 5 }]),
    "files smaller than offered",
  );
  assert.equal(new SetList(offer).add([{ path: "a", size: 11 }]), "files larger than offered");
  assert.equal(
    new SetList(offer).add([{ path: "a", size: 1 }, { path: "b", size: 1 }, {
      path: "c",
      size: 1,
    }]),
    "more files than offered",
  );
  assert.equal(new SetList(offer).add([{ path: "d" }]), "more folders than offered");
  const list = new SetList({ size: 0, files: 1, folders: 1 });
  assert.equal(list.add([{ path: "../../x", size: 0 }]), "more");
  assert.equal(list.add([{ path: "/abs/dir" }]), "complete");
  assert.deepEqual([list.files, list.folders], [[{ path: "x", size: 0 }], ["abs/dir"]]);
});

Deno.test("a set's offer and list messages are parsed strictly", () => {
  assert.deepEqual(
    parseFileMessage(
      '{"type":"file_offer","name":"d","size":3,"mime":"a/b","files":2,"folders":1}',
    ),
    { type: "file_offer", name: "d", size: 3, mime: "a/b", files: 2, folders: 1 },
  );
  for (
    const bad of [
      '{"type":"file_offer","name":"d","size":3,"mime":"a/b","files":0,"folders":0}',
      '{"type":"file_offer","name":"d","size":3,"mime":"a/b","files":-1}',
      '{"type":"file_offer","name":"d","size":3,"mime":"a/b","files":100001}',
      '{"type":"file_list","entries":[]}',
      '{"type":"file_list","entries":[["a",-1]]}',
      '{"type":"file_list","entries":[["",1]]}',
      '{"type":"file_list","entries":[[1,1]]}',
      '{"type":"file_list","entries":[["a",1,2]]}',
      `{"type":"file_list","entries":[["${"a".repeat(4097)}",1]]}`,
    ]
  ) assert.equal(parseFileMessage(bad), undefined, bad);
});

Deno.test("setName() calls a set by the files and folders the user named", () => {
  assert.equal(setName([{ path: "d/a", size: 1 }, { path: "d/e/b", size: 1 }], []), "d");
  assert.equal(setName([{ path: "a", size: 1 }], ["d"]), "a and d");
  assert.equal(setName([], ["empty"]), "empty");
  assert.equal(
    setName([{ path: "a", size: 1 }, { path: "b/c", size: 1 }, { path: "e", size: 1 }], []),
    "a, b and 1 more",
  );
});
