import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeScripts } from "../../src/testing/index.js"
import { makeCliWorld, runCli } from "../support/cliInProcess.js"

// Commands in-process (test/support/cliInProcess.ts): argv in, stdout/stderr/exit code out, on the
// public fakes. No bundle, no process.

describe("codex-tasks in-process", () => {
  it.scoped("ls of an empty store prints the header hint; ls --json prints []", () =>
    Effect.gen(function* () {
      const w = yield* makeCliWorld([])
      const json = yield* runCli(w, ["ls", "--json"])
      assert.deepStrictEqual(json, { stdout: "[]\n", stderr: "", code: 0 })
    }),
  )

  it.scoped("a bad option is a usage error: exit 2, message on stderr, nothing on stdout", () =>
    Effect.gen(function* () {
      const w = yield* makeCliWorld([])
      const r = yield* runCli(w, ["ls", "--state", "sleepy"])
      assert.strictEqual(r.code, 2)
      assert.strictEqual(r.stdout, "")
      assert.include(r.stderr, "sleepy")
    }),
  )

  it.scoped("status of an unknown task: exit 1 and the CLI's message", () =>
    Effect.gen(function* () {
      const w = yield* makeCliWorld([])
      const r = yield* runCli(w, ["status", "0199ffff"])
      assert.strictEqual(r.code, 1)
      assert.include(r.stderr, "0199ffff")
    }),
  )

  it.scoped("start prints the new id; ls and status --json then show the task", () =>
    Effect.gen(function* () {
      const w = yield* makeCliWorld([FakeScripts.reply("4")])
      const started = yield* runCli(w, [
        "start",
        "--working-dir",
        w.workingDir,
        "--skip-git-repo-check",
        "--json",
        "2+2?",
      ])
      assert.strictEqual(started.code, 0, started.stderr)
      const id = (JSON.parse(started.stdout) as { id: string }).id
      const status = yield* runCli(w, ["status", "--json", id])
      assert.strictEqual(status.code, 0, status.stderr)
      const task = JSON.parse(status.stdout) as { id: string; initial_prompt: string }
      assert.strictEqual(task.id, id)
      assert.strictEqual(task.initial_prompt, "2+2?")
      const ls = yield* runCli(w, ["ls"])
      assert.include(ls.stdout, id.slice(0, 8))
    }),
  )
})
