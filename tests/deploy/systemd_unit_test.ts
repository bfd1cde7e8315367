/**
 * The systemd unit in `docs/`, checked by `systemd-analyze verify` with its
 * paths pointed at this machine's Deno and a file to run: an unknown key or
 * a wrong section is a finding, not only a failure to load.
 */

import assert from "node:assert/strict";
import { ROOT, within } from "../support/helpers.ts";

const ANALYZE = "/usr/bin/systemd-analyze";
const haveAnalyze = (() => {
  try {
    return Deno.statSync(ANALYZE).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "docs/switchboard.service passes systemd-analyze verify without a word, and keeps the sandboxing that matters",
  ignore: !haveAnalyze && Deno.env.get("CI") !== "true",
  fn: async () => {
    const unit = await Deno.readTextFile(`${ROOT}docs/switchboard.service`);
    for (
      const line of [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "LimitNOFILE=20480",
        "KillSignal=SIGTERM",
      ]
    ) {
      assert.ok(unit.split("\n").includes(line), `the unit sets ${line}`);
    }
    const execStart = /^ExecStart=(\S+) run --allow-net (\S+) .*--max-clients (\d+)$/m.exec(unit);
    assert.ok(execStart, "ExecStart runs the one file with --allow-net only");
    // The descriptor limit leaves room above --max-clients.
    assert.ok(Number(/^LimitNOFILE=(\d+)$/m.exec(unit)?.[1]) > Number(execStart[3]) * 2);
    const dir = await Deno.makeTempDir({ prefix: "switchboard-unit-" });
    try {
      const file = `${dir}/switchboard.js`;
      await Deno.writeTextFile(file, "");
      const local = unit.replace(execStart[1]!, Deno.execPath()).replace(execStart[2]!, file);
      await Deno.writeTextFile(`${dir}/switchboard.service`, local);
      const { code, stdout, stderr } = await within(
        new Deno.Command(ANALYZE, {
          args: ["verify", `${dir}/switchboard.service`],
          stdout: "piped",
          stderr: "piped",
        }).output(),
        30_000,
        "systemd-analyze verify",
      );
      const said = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assert.equal(code, 0, said);
      assert.equal(said.trim(), "", "no warning either");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
