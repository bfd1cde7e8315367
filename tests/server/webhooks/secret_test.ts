import assert from "node:assert/strict";
import { MissingPermission } from "../../../lib/runtime/permissions.ts";
import { readWebhookSecret, WEBHOOK_SECRET_ENV } from "../../../lib/server/webhooks/secret.ts";
import { WebhookSecretError } from "../../../lib/server/webhooks/signature.ts";
import { outputWithin, ROOT } from "../../support/helpers.ts";
import { webhookSecret } from "../../support/webhook_receiver.ts";

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "webhook-secret-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` with SWITCHBOARD_WEBHOOK_SECRET set to `value` (or unset), then restores it. */
async function withSecretEnv(value: string | undefined, fn: () => Promise<void>): Promise<void> {
  const saved = Deno.env.get(WEBHOOK_SECRET_ENV);
  if (value === undefined) Deno.env.delete(WEBHOOK_SECRET_ENV);
  else Deno.env.set(WEBHOOK_SECRET_ENV, value);
  try {
    await fn();
  } finally {
    if (saved === undefined) Deno.env.delete(WEBHOOK_SECRET_ENV);
    else Deno.env.set(WEBHOOK_SECRET_ENV, saved);
  }
}

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `rejected with ${error}`);
    return error;
  }
  assert.fail("expected a rejection");
}

Deno.test("the secret is read from a file, whsec_ prefix, trailing newline and all", async () => {
  await inTempDir(async (dir) => {
    const secret = webhookSecret();
    const file = `${dir}/webhook-secret`;
    await Deno.writeTextFile(file, `${secret.text}\n`);
    assert.deepEqual(await readWebhookSecret(file), secret.bytes);
  });
});

Deno.test("a file that does not hold a secret is refused, naming the file and never quoting it", async () => {
  await inTempDir(async (dir) => {
    const file = `${dir}/webhook-secret`;
    const short = `whsec_${btoa("sixteen bytes!!!")}`;
    for (const text of ["whsec_this is a passphrase, not base64!", short, ""]) {
      await Deno.writeTextFile(file, text);
      const error = await rejection(readWebhookSecret(file));
      assert.ok(error instanceof WebhookSecretError, `${error}`);
      assert.ok(error.message.includes(file), error.message);
      if (text) {
        assert.ok(!error.message.includes(text), error.message);
        assert.ok(!error.message.includes(text.slice("whsec_".length)), error.message);
      }
    }
  });
});

Deno.test("a file that is not there is refused, naming it", async () => {
  await inTempDir(async (dir) => {
    const file = `${dir}/missing`;
    const error = await rejection(readWebhookSecret(file));
    assert.equal(error.message, `cannot read the webhook secret file ${file} (no such file)`);
  });
});

Deno.test("a named file wins over SWITCHBOARD_WEBHOOK_SECRET", async () => {
  const fromFile = webhookSecret();
  await withSecretEnv(webhookSecret().text, async () => {
    await inTempDir(async (dir) => {
      const file = `${dir}/webhook-secret`;
      await Deno.writeTextFile(file, fromFile.text);
      assert.deepEqual(await readWebhookSecret(file), fromFile.bytes);
    });
  });
});

Deno.test("without a file, the secret is read from SWITCHBOARD_WEBHOOK_SECRET", async () => {
  const secret = webhookSecret();
  await withSecretEnv(`${secret.text}\n`, async () => {
    assert.deepEqual(await readWebhookSecret(undefined), secret.bytes);
  });
});

Deno.test("without a file, an unset or empty SWITCHBOARD_WEBHOOK_SECRET is refused, naming the flag", async () => {
  for (const value of [undefined, "", "  \n"]) {
    await withSecretEnv(value, async () => {
      const error = await rejection(readWebhookSecret(undefined));
      assert.equal(
        error.message,
        "SWITCHBOARD_WEBHOOK_SECRET is not set (or name a file with --webhook-secret-file)",
      );
    });
  }
});

Deno.test("a SWITCHBOARD_WEBHOOK_SECRET that is not a secret is refused, naming the variable and never quoting it", async () => {
  const value = "whsec_c2hvcnQgYW5kIHNlY3JldA==";
  await withSecretEnv(value, async () => {
    const error = await rejection(readWebhookSecret(undefined));
    assert.ok(error instanceof WebhookSecretError, `${error}`);
    assert.match(error.message, /^SWITCHBOARD_WEBHOOK_SECRET: /);
    assert.ok(!error.message.includes(value.slice("whsec_".length)), error.message);
  });
});

/**
 * Runs `readWebhookSecret(file)` in a `deno run --no-prompt` without
 * `--allow-read` or `--allow-env`, and returns what it printed: the error's
 * name on stderr, its message on stdout.
 */
async function readWithoutPermission(
  dir: string,
  file: string | undefined,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const script = `${dir}/read_secret.ts`;
  const module = new URL("lib/server/webhooks/secret.ts", `file://${ROOT}`).href;
  await Deno.writeTextFile(
    script,
    `import { readWebhookSecret } from ${JSON.stringify(module)};
try {
  await readWebhookSecret(Deno.args[0]);
  console.log("read the secret");
} catch (error) {
  console.error((error as Error).name);
  console.log((error as Error).message);
}
`,
  );
  const output = await outputWithin(
    Deno.execPath(),
    {
      args: [
        "run",
        "--no-prompt",
        "--frozen",
        "--config",
        `${ROOT}deno.json`,
        script,
        ...(file === undefined ? [] : [file]),
      ],
      cwd: dir,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
    },
    30_000,
    "the script reading the webhook secret",
  );
  const decoder = new TextDecoder();
  return {
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    code: output.code,
  };
}

Deno.test("without --allow-read, reading the file is one line naming --allow-read=<file>, never a prompt", async () => {
  await inTempDir(async (dir) => {
    const secret = webhookSecret();
    const plain = `${dir}/webhook-secret`;
    const spaced = `${dir}/my webhook secret`;
    for (
      const [file, flag] of [
        [plain, `--allow-read=${plain}`],
        // Quoted, so that it can be pasted into a shell as it is.
        [spaced, `'--allow-read=${spaced}'`],
      ] as const
    ) {
      await Deno.writeTextFile(file, secret.text);
      const { stdout, stderr, code } = await readWithoutPermission(dir, file);
      assert.equal(code, 0, stderr);
      assert.equal(stdout, `--webhook-secret-file ${file} needs ${flag}\n`);
      assert.equal(stderr.trim(), MissingPermission.name, stderr);
      assert.ok(!stdout.includes(secret.text) && !stderr.includes(secret.text));
    }
  });
});

Deno.test("without --allow-env, reading the variable is one line naming --webhook-secret-file and --allow-env=SWITCHBOARD_WEBHOOK_SECRET", async () => {
  await inTempDir(async (dir) => {
    const secret = webhookSecret();
    const { stdout, stderr, code } = await readWithoutPermission(dir, undefined, {
      [WEBHOOK_SECRET_ENV]: secret.text,
    });
    assert.equal(code, 0, stderr);
    const lines = stdout.split("\n");
    assert.equal(lines.length, 2, stdout);
    assert.equal(lines[1], "");
    assert.ok(lines[0]!.includes("--webhook-secret-file"), stdout);
    assert.ok(lines[0]!.includes("--allow-env=SWITCHBOARD_WEBHOOK_SECRET"), stdout);
    assert.equal(stderr.trim(), MissingPermission.name, stderr);
    assert.ok(!stdout.includes(secret.text) && !stderr.includes(secret.text));
  });
});
