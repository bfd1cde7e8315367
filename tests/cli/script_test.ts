import assert from "node:assert/strict";
import { type Command, parseCommand } from "../../lib/cli/commands.ts";
import {
  CommandQueue,
  MAX_QUEUED_COMMANDS,
  type QueueHooks,
  readCommands,
} from "../../lib/cli/script.ts";
import { eventually } from "../support/hostile.ts";

/** A queue that records what it runs, prints and whether it quit. */
function queue(overrides: Partial<QueueHooks> = {}) {
  const ran: Command[] = [];
  const printed: string[] = [];
  let quits = 0;
  const commands = new CommandQueue({
    scripted: true,
    answerTimeout: 60,
    print: (line) => printed.push(line),
    execute: (command) => ran.push(command),
    quit: () => quits++,
    ...overrides,
  });
  return { commands, ran, printed, quits: () => quits };
}

const send = (text: string): Command => ({ kind: "send", text });

Deno.test("CommandQueue runs commands given before the id once it is ready, in order", () => {
  const { commands, ran } = queue();
  assert.equal(commands.submit(send("a")), false);
  assert.equal(commands.submit(send("b")), false);
  assert.deepEqual(ran, []);
  commands.ready();
  commands.drain();
  assert.deepEqual(ran, [send("a"), send("b")]);
  commands.submit(send("c"));
  assert.deepEqual(ran.at(-1), send("c"), "runs at once when nothing waits");
});

Deno.test("CommandQueue in a script holds the next command until the answer comes", () => {
  const { commands, ran } = queue();
  commands.ready();
  commands.expect({ kind: "pair", peer: "B" });
  commands.submit(send("hello"));
  assert.deepEqual(ran, []);
  assert.deepEqual(commands.awaiting, { kind: "pair", peer: "B" });
  commands.answered();
  assert.equal(commands.awaiting, undefined);
  assert.deepEqual(ran, [send("hello")]);
});

Deno.test("CommandQueue never holds typed commands for an answer", () => {
  const { commands, ran } = queue({ scripted: false });
  commands.ready();
  commands.expect({ kind: "pair", peer: "B" });
  commands.submit(send("hello"));
  assert.deepEqual(ran, [send("hello")]);
});

Deno.test("CommandQueue quits at once with nothing queued, else after what is queued", () => {
  const idle = queue();
  assert.equal(idle.commands.submit({ kind: "quit" }), true);

  const busy = queue();
  busy.commands.submit(send("a"));
  assert.equal(busy.commands.submit({ kind: "quit" }), false);
  busy.commands.submit(send("after quit"));
  busy.commands.ready();
  busy.commands.drain();
  assert.deepEqual(busy.ran, [send("a")]);
  assert.equal(busy.quits(), 1);
});

Deno.test("CommandQueue goes on after --answer-timeout, saying so", async () => {
  const { commands, ran, printed } = queue({ answerTimeout: 0.01 });
  commands.ready();
  commands.expect({ kind: "accept", peer: "B" });
  commands.submit(send("next"));
  await eventually(() => ran.length > 0, 5_000, "the next command to run after the timeout");
  assert.deepEqual(printed, [
    "*** No answer from B within 0.01 s; going on with the next command ***",
  ]);
  assert.deepEqual(ran, [send("next")]);
});

Deno.test("CommandQueue's reminder is said only while the answer is still awaited", async () => {
  const { commands, printed } = queue();
  commands.expect({ kind: "pair", peer: "B" });
  commands.remind(5, () => printed.push("asked"));
  commands.answered();
  commands.expect({ kind: "pair", peer: "C" });
  commands.remind(5, () => printed.push("asked C"));
  // B's reminder was due first: had it not been cancelled, it would be said before C's.
  await eventually(() => printed.length > 0, 5_000, "the reminder for C");
  commands.disconnected();
  assert.deepEqual(printed, ["asked C"]);
});

Deno.test("CommandQueue.room() waits while MAX_QUEUED_COMMANDS commands wait, until one runs", async () => {
  const { commands } = queue();
  for (let i = 0; i < MAX_QUEUED_COMMANDS; i++) commands.submit(send(`${i}`));
  let roomMade = false;
  const room = commands.room(new AbortController().signal).then(() => roomMade = true);
  await Promise.resolve();
  assert.equal(roomMade, false);
  commands.ready();
  commands.drain();
  await room;
  assert.equal(roomMade, true);
});

Deno.test("readCommands() hands each line over and quits at the end of a script", async () => {
  const run: Command[] = [];
  let quits = 0;
  async function* input() {
    yield "send one";
    yield "";
  }
  await readCommands(
    input(),
    {
      room: () => Promise.resolve(),
      run: (command) => {
        run.push(command);
        return command.kind === "quit";
      },
    },
    () => quits++,
    new AbortController().signal,
  );
  assert.deepEqual(run, [parseCommand("send one"), { kind: "empty" }, { kind: "quit" }]);
  assert.equal(quits, 1);
});

Deno.test("readCommands() leaves the client running when the input ends empty", async () => {
  let quits = 0;
  async function* input() {}
  await readCommands(
    input(),
    {
      room: () => Promise.resolve(),
      run: () => true,
    },
    () => quits++,
    new AbortController().signal,
  );
  assert.equal(quits, 0);
});
