import { type ChildProcess, spawn } from "node:child_process"
import { appendFileSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { assert } from "vitest"
import { identityOf } from "../../src/processes/procfs.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { RECHECK_ENV } from "../../src/tasks/recheck.js"
import { type CliSandbox, SANDBOX_MARK_VAR, waitFor } from "./cli.js"
import { fakeId, spawnCli, writeFakeTask } from "./watchHelpers.js"

// Does the CLI react to file changes by watching, not by its slow re-check? With the re-check
// set to an hour (far beyond any test's timeout), only a working file watcher can deliver an
// append to `log -f` or end a `status --wait`. Used on the built CLI (test/e2e/fileWatch.test.ts)
// and on a copy installed from the packed tarball (test/e2e/install.test.ts).

/** The CLI's environment additions: the re-check an hour away. */
export const NO_RECHECK: Readonly<Record<string, string>> = { [RECHECK_ENV]: "3600000" }

/** True when process `pid` has an inotify watch on `dir` (Linux: /proc/PID/fdinfo). */
export const watchesDir = (pid: number, dir: string): boolean => {
  const inode = `ino:${statSync(dir).ino.toString(16)} `
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = ""
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      if (!target.includes("inotify")) continue
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8")
      if (info.split("\n").some((l) => l.startsWith("inotify ") && l.includes(inode))) return true
    }
  } catch {
    // the process is gone
  }
  return false
}

/** A codex `agent_message` event as a `task.log` line. */
export const agentMessage = (text: string): string =>
  `${JSON.stringify({ type: "item.completed", item: { id: "item_0", type: "agent_message", text } })}\n`

/** A hand-made RUNNING task whose worker is a `sleep` (alive until `finish`). */
export interface RunningFakeTask {
  readonly id: string
  readonly dir: string
  readonly log: string
  /** Ends the task as its worker would: STOPPED, completed, worker record gone, worker gone. */
  readonly finish: () => Promise<void>
}

const withStore = <A, E>(sandbox: CliSandbox, effect: Effect.Effect<A, E, TaskStore>) =>
  Effect.runPromise(effect.pipe(Effect.provide(TaskStore.layer(sandbox.storeRoot)), Effect.orDie))

/** Writes a RUNNING task `n` with one agent message in its log; its worker is a live `sleep`. */
export const runningFakeTask = async (sandbox: CliSandbox, n: number): Promise<RunningFakeTask> => {
  const id = fakeId(n)
  const dir = await writeFakeTask(sandbox, id, { state: "RUNNING" })
  const log = join(dir, "task.log")
  appendFileSync(log, agentMessage("before the append"), { mode: 0o600 })
  // The sandbox mark lets the sandbox's dispose kill it whatever happens to the test.
  const worker: ChildProcess = spawn("sleep", ["600"], {
    stdio: "ignore",
    env: { ...process.env, [SANDBOX_MARK_VAR]: sandbox.mark },
  })
  const identity = await waitFor("the stand-in worker", () => identityOf(worker.pid ?? -1))
  await withStore(
    sandbox,
    Effect.gen(function* () {
      const store = yield* TaskStore
      yield* store.writeWorker(yield* store.resolve(id), identity)
    }),
  )
  const finish = async () => {
    await withStore(
      sandbox,
      Effect.gen(function* () {
        const store = yield* TaskStore
        const loc = yield* store.resolve(id)
        yield* store.update(loc, (m) => ({
          ...m,
          state: "STOPPED",
          last_outcome: { kind: "completed", at: new Date().toISOString() },
        }))
        yield* store.clearWorker(loc)
      }),
    )
    worker.kill("SIGKILL")
  }
  return { id, dir, log, finish }
}

/** `log -f` shows a line appended to the log, and ends when the task stops: by file events. */
export const followSeesAppend = async (sandbox: CliSandbox, command: ReadonlyArray<string>) => {
  const task = await runningFakeTask(sandbox, 1)
  const follow = spawnCli(sandbox, ["log", "-f", task.id], 30_000, { command, env: NO_RECHECK })
  await follow.waitForStdout(/codex\nbefore the append\n/)
  appendFileSync(task.log, agentMessage("after the append"))
  const seen = await follow.waitForStdout(/after the append\n/, 20_000)
  assert.strictEqual(seen, "codex\nbefore the append\ncodex\nafter the append\n")
  await task.finish()
  const done = await follow.result
  assert.isNull(done.signal, "log -f ended by itself when the task stopped")
  assert.strictEqual(done.code, 0, done.stderr)
}

/** `status --wait` returns when the task stops: by a file event. */
export const waitSeesFinish = async (sandbox: CliSandbox, command: ReadonlyArray<string>) => {
  const task = await runningFakeTask(sandbox, 2)
  const wait = spawnCli(sandbox, ["status", "--wait", task.id], 30_000, {
    command,
    env: NO_RECHECK,
  })
  // Only once it watches: a change before that would be seen by its first read, watcher or not.
  await waitFor("status --wait to watch the task directory", () =>
    watchesDir(wait.pid, task.dir) ? true : undefined,
  )
  await task.finish()
  const done = await wait.result
  assert.isNull(done.signal, "status --wait returned by itself when the task stopped")
  assert.strictEqual(done.code, 0, done.stderr)
  assert.include(done.stdout, `Task ID: ${task.id}`)
  assert.include(done.stdout, "State: STOPPED")
}
