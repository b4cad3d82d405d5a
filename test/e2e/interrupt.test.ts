import { spawn } from "node:child_process"
import { readdirSync, readlinkSync } from "node:fs"
import { Effect } from "effect"
import { afterEach, assert, describe, it } from "vitest"
import { identityOf } from "../../src/processes/procfs.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { type CliSandbox, makeCliSandbox, waitFor } from "../support/cli.js"
import { fakeId, spawnCli, writeFakeTask } from "../support/watchHelpers.js"

// Issue 20 (§2.3): a command interrupted by Ctrl-C (SIGINT) exits 130, by SIGTERM 143, on both
// bundles (read.cjs: `status`; cli.cjs: `log`), so `status --wait -a && deploy` does not deploy.

const sandboxes: Array<CliSandbox> = []
afterEach(async () => {
  for (const s of sandboxes.splice(0)) await s.dispose()
})

/** A sandbox (no codex runs) with a RUNNING task whose "worker" is a `sleep` (killed at the end). */
const runningTask = async () => {
  const sandbox = await makeCliSandbox({ url: "http://127.0.0.1:9" })
  sandboxes.push(sandbox)
  const id = fakeId(1)
  await writeFakeTask(sandbox, id, { state: "RUNNING" })
  const worker = spawn("sleep", ["600"], { stdio: "ignore" })
  const pid = worker.pid ?? assert.fail("no sleep process")
  const identity = await waitFor("the worker's identity", () => identityOf(pid))
  await Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* TaskStore
      yield* store.writeWorker(yield* store.resolve(id), identity)
    }).pipe(Effect.provide(TaskStore.layer(sandbox.storeRoot))),
  )
  return { sandbox, id }
}

/** True once `pid` watches files (inotify): the command is waiting for the task. */
const watching = (pid: number) => {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`)
    return fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:inotify"
      } catch {
        return false
      }
    })
      ? true
      : undefined
  } catch {
    return undefined
  }
}

const cases: ReadonlyArray<
  [string, (id: string) => ReadonlyArray<string>, NodeJS.Signals, number]
> = [
  ["status --wait (fast read path)", (id) => ["status", "--wait", id], "SIGINT", 130],
  ["status --wait (fast read path)", (id) => ["status", "--wait", id], "SIGTERM", 143],
  ["log -f (command tree)", (id) => ["log", "-f", id], "SIGINT", 130],
]

describe("interrupted commands", () => {
  for (const [what, args, signal, code] of cases) {
    it(`${what} exits ${code} on ${signal}`, async () => {
      const { sandbox, id } = await runningTask()
      const run = spawnCli(sandbox, args(id))
      await waitFor("the command to wait for the task", () => watching(run.pid), 20_000)
      process.kill(run.pid, signal)
      const done = await run.result
      assert.strictEqual(done.signal, null, done.stderr)
      assert.strictEqual(done.code, code, done.stderr)
      assert.notInclude(done.stderr, "    at ", "no stack trace")
    })
  }
})
