import assert from "node:assert/strict";
import { NOT_RESUMABLE, resumeRequest, resumeUrl } from "../../lib/shared/resume_params.js";

Deno.test("resumeRequest() reads resumable=1 and resume=<token>, and nothing else", () => {
  assert.equal(resumeRequest("ws://h/"), NOT_RESUMABLE);
  assert.equal(resumeRequest("ws://h/?resumable=0"), NOT_RESUMABLE);
  assert.equal(resumeRequest("ws://h/?resumable=yes"), NOT_RESUMABLE);
  assert.deepEqual(resumeRequest("http://h/x?a=1&resumable=1"), {
    resumable: true,
    token: undefined,
  });
  assert.deepEqual(resumeRequest("ws://h/?resume=a%2Bb"), { resumable: true, token: "a+b" });
  assert.deepEqual(resumeRequest("ws://h/?resume="), { resumable: true, token: "" });
});

Deno.test("resumeUrl() asks for resumability without a token and resumes with one, keeping the rest", () => {
  assert.equal(resumeUrl("ws://h:1", undefined), "ws://h:1/?resumable=1");
  assert.equal(resumeUrl("wss://h/p?k=v", "abc_-"), "wss://h/p?k=v&resume=abc_-");
  assert.equal(resumeUrl("ws://h/?resume=old&resumable=1", "new"), "ws://h/?resume=new");
  const round = resumeRequest(resumeUrl("ws://h/", "x+y/z"));
  assert.deepEqual(round, { resumable: true, token: "x+y/z" });
});
