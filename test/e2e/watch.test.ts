import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import { assert, describe, it } from "vitest"
import { currentIdentity } from "../../src/processes/procfs.js"
import { type TaskLocation, TaskStore } from "../../src/store/TaskStore.js"
import { endedBadly, waitForTasks } from "../../src/tasks/queries.js"
import { BACKENDS, onBackend } from "../support/backends.js"
import { readTaskJson, runCli, taskDir, waitForState } from "../support/cli.js"
import {
  fakeId,
  isInState,
  spawnCli,
  startTask,
  tableRows,
  useWorlds,
  writeFakeTask,
} from "../support/watchHelpers.js"

// Watching tasks through the built CLI (dist/, `npm run build`), with the real codex against the
// scripted model server: `log`, `status`, `ls`, `archive`. Each test has its own server, store
// and CODEX_HOME; leftover workers are killed after each test.

const setup = useWorlds()

const BYPASS = ["--dangerously-bypass-approvals-and-sandbox"]

/** The UTC dates (`YYYY/MM/DD`) of these moments (where an archive made then may be). */
const utcDays = (...moments: ReadonlyArray<Date>) =>
  moments.map(
    (d) =>
      `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, "0")}/${String(d.getUTCDate()).padStart(2, "0")}`,
  )

describe("log", () => {
  it.each(BACKENDS)(
    "log -f right after start streams the transcript and exits 0 when the task finishes (%s)",
    async (backend) => {
      const sandbox = onBackend((await setup()).sandbox, backend)
      const id = await startTask(
        sandbox,
        "Follow me.\nREASON:looking around\nRUN:sleep 3; echo followed-output\nREPLY:all done",
        BYPASS,
      )

      const follow = spawnCli(sandbox, ["log", "-f", id])
      const whileRunning = await follow.waitForStdout(/exec\n.*sleep 3; echo followed-output.*\n/)
      const done = await follow.result

      // The command was shown while it ran: its header came before its outcome and output.
      assert.include(whileRunning, "user\nFollow me.")
      assert.include(whileRunning, "thinking\nlooking around")
      assert.notInclude(whileRunning, "succeeded")
      assert.strictEqual(done.code, 0, done.stderr)
      assert.strictEqual(done.stderr, "")
      const out = done.stdout
      assert.match(out, /exec\n.*sleep 3; echo followed-output.*\n succeeded:\nfollowed-output\n/)
      assert.include(out, "codex\nall done\n")
      assert.match(out, /tokens used\n[\d,]+\n$/, "ends with the finished turn's token count")
      // It exited because the task stopped, not before, and it printed everything once.
      assert.isTrue(await isInState(sandbox, id, "STOPPED"))
      const plain = await runCli(sandbox, ["log", id])
      assert.strictEqual(plain.code, 0)
      assert.strictEqual(plain.stdout, out, "the followed transcript is the whole transcript")
    },
  )

  it("log -n N prints the last N events; log --json -n N the last N raw lines", async () => {
    const { sandbox } = await setup()
    const id = await startTask(sandbox, "Short.\nREPLY:short answer")
    await waitForState(sandbox, id, "STOPPED")
    const lines = readFileSync(join(taskDir(sandbox, id), "task.log"), "utf8")
      .split("\n")
      .filter((l) => l !== "")

    const raw = await runCli(sandbox, ["log", "--json", "-n", "2", id])
    const human = await runCli(sandbox, ["log", "-n", "1", id])

    assert.strictEqual(raw.code, 0, raw.stderr)
    assert.strictEqual(raw.stdout, `${lines.slice(-2).join("\n")}\n`)
    assert.strictEqual(human.code, 0, human.stderr)
    assert.match(human.stdout, /^tokens used\n[\d,]+\n$/, "only the last event: turn.completed")
  })
})

describe("status --wait / --wait-any / --timeout", () => {
  it("--wait-any over three tasks returns when the first finishes and names it", async () => {
    const { sandbox } = await setup()
    const slow = await startTask(sandbox, "Slow.\nDELAY:12000\nREPLY:slow done")
    const mid = await startTask(sandbox, "Mid.\nDELAY:8000\nREPLY:mid done")
    const fast = await startTask(sandbox, "Fast.\nDELAY:500\nREPLY:fast done")

    const any = await runCli(sandbox, ["status", "--wait-any", slow, mid, fast])
    assert.strictEqual(any.code, 0, any.stderr)
    assert.strictEqual(any.stderr, `Task ${fast} finished: STOPPED\n`)
    assert.include(any.stdout, `Task ID: ${fast}`)
    assert.include(any.stdout, "Last Result: fast done")
    assert.notInclude(any.stdout, slow)
    assert.notInclude(any.stdout, mid)
    assert.isTrue(await isInState(sandbox, mid, "RUNNING"), "returned before the 8 s task ended")
    assert.isTrue(await isInState(sandbox, slow, "RUNNING"))

    const all = await runCli(sandbox, ["status", "--wait", slow, mid, fast])
    assert.strictEqual(all.code, 0, all.stderr)
    for (const id of [slow, mid, fast]) {
      assert.include(all.stderr, `Task ${id} finished: STOPPED\n`)
      assert.include(all.stdout, `Task ID: ${id}`)
      assert.isTrue(await isInState(sandbox, id, "STOPPED"))
    }
    assert.include(all.stdout, "Last Result: slow done")
  })

  it.each(BACKENDS)("exits 3 when the task waited for DIED (HTTP 401, %s)", async (backend) => {
    const sandbox = onBackend((await setup()).sandbox, backend)
    const id = await startTask(sandbox, "Unauthorized.\nSTATUS:401")

    const wait = await runCli(sandbox, ["status", "--wait", id])

    assert.strictEqual(wait.code, 3, wait.stderr)
    assert.include(wait.stderr, `Task ${id} finished: DIED`)
    assert.include(wait.stdout, "State: DIED")
    assert.match(wait.stdout, /Outcome: failed: /)
    const any = await runCli(sandbox, ["status", "--wait-any", id])
    assert.strictEqual(any.code, 3)
    const show = await runCli(sandbox, ["status", id])
    assert.strictEqual(show.code, 0, "showing a DIED task is not an error")
  })

  // BUG (src/tasks/queries.ts `waitForTasks` and `selectTasks`, src/tasks/view.ts `viewOf`): a
  // reader takes `task.json` first and the worker's liveness after it, without the task lock. When
  // the worker finishes in between (state STOPPED, then its worker record cleared, as in
  // Worker.ts `nextOrFinish`), the reader combines the old RUNNING with the dead worker and reports
  // DIED / worker lost: `start --wait` and `status --wait` then exit 3 for a task that completed.
  // Measured through the CLI: 6 of 27 `start --wait` runs of a one-line REPLY prompt exited 3
  // ("DIED: worker lost") while `status` afterwards read STOPPED, completed. This test makes the
  // interleaving deterministic in-process. Suggested fix: check liveness before reading
  // `task.json` (a dead worker's last write is already there), or when RUNNING + dead is seen,
  // re-read `task.json` (under the task lock) before concluding DIED.
  it("a worker finishing between the reader's two reads is not reported DIED", async () => {
    const { sandbox } = await setup()
    const id = fakeId(1)
    await writeFakeTask(sandbox, id, { state: "RUNNING" })

    const view = await Effect.runPromise(
      Effect.gen(function* () {
        const real = yield* TaskStore
        const loc = yield* real.resolve(id)
        // The test process stands in for the live worker.
        yield* real.writeWorker(loc, currentIdentity())
        let finished = false
        const finish = Effect.gen(function* () {
          finished = true
          yield* real.update(loc, (m) => ({
            ...m,
            state: "STOPPED",
            last_outcome: { kind: "completed", at: new Date().toISOString() },
          }))
          yield* real.clearWorker(loc)
        }).pipe(Effect.orDie)
        const racing = TaskStore.make({
          ...real,
          read: (l: TaskLocation) =>
            real.read(l).pipe(Effect.tap(() => (finished ? Effect.void : finish))),
        })
        const [done] = yield* waitForTasks([loc], "all").pipe(
          Effect.provideService(TaskStore, racing),
        )
        return done
      }).pipe(Effect.provide(TaskStore.layer(sandbox.storeRoot))),
    )

    assert.strictEqual(view?.state, "STOPPED", JSON.stringify(view?.outcome))
    assert.isFalse(endedBadly(view!))
  })

  it("--timeout 1 on a slow task exits 124 and leaves it running", async () => {
    const { sandbox } = await setup()
    const id = await startTask(sandbox, "Very slow.\nDELAY:60000\nREPLY:never")

    const wait = await runCli(sandbox, ["status", "--wait", "--timeout", "1", id])

    assert.strictEqual(wait.code, 124, wait.stderr)
    assert.include(wait.stderr, "timed out")
    assert.strictEqual(wait.stdout, "")
    assert.isAtLeast(wait.ms, 1_000)
    assert.isBelow(wait.ms, 6_000)
    assert.isTrue(await isInState(sandbox, id, "RUNNING"))
  })

  it("shows the known tasks, reports an unknown id on stderr, and exits 1", async () => {
    const { sandbox } = await setup()
    const a = await startTask(sandbox, "First.\nREPLY:a")
    const b = fakeId(7)
    await writeFakeTask(sandbox, b, { title: "hand-made" })
    await waitForState(sandbox, a, "STOPPED")

    const run = await runCli(sandbox, ["status", a, "0199ffff-nope", b])

    assert.strictEqual(run.code, 1)
    assert.include(run.stdout, `Task ID: ${a}`)
    assert.include(run.stdout, `Task ID: ${b}`)
    assert.include(run.stdout, "Title: hand-made")
    assert.include(run.stderr, "0199ffff-nope")
    assert.notInclude(run.stderr, a)
  })

  // BUG (src/tasks/queries.ts `waitForTasks`, mode "any"): with no task to wait for, `done.length
  // > 0` never holds and the loop waits forever, so `status --wait-any UNKNOWN` hangs after
  // reporting the unknown id (here until --timeout, exit 124). Expected: exit 1 right away.
  it("--wait-any with only unknown ids reports them and exits 1 without waiting", async () => {
    const { sandbox } = await setup()

    const run = await runCli(sandbox, ["status", "--wait-any", "--timeout", "3", "0199ffff"])

    assert.include(run.stderr, "0199ffff")
    assert.strictEqual(run.code, 1, run.stderr)
    assert.isBelow(run.ms, 2_500)
  })

  // BUG (same loop): `status --wait-any -A` with no running task waits forever (exit 124 with
  // --timeout) instead of returning at once, as `status --wait -A` does.
  it("--wait-any -A with no running task returns at once", async () => {
    const { sandbox } = await setup()
    await writeFakeTask(sandbox, fakeId(1))

    const run = await runCli(sandbox, ["status", "--wait-any", "-A", "--timeout", "3"])

    assert.strictEqual(run.code, 0, run.stderr)
    assert.isBelow(run.ms, 2_500)
  })
})

describe("ls", () => {
  it("reports a corrupt task.json on stderr and still lists the others (exit 0)", async () => {
    const { sandbox } = await setup()
    const real = await startTask(sandbox, "Real.\nREPLY:real", ["-t", "real one"])
    const good = fakeId(1)
    await writeFakeTask(sandbox, good, { title: "good one" })
    const garbage = fakeId(2)
    await mkdir(join(sandbox.storeRoot, garbage), { mode: 0o700 })
    await writeFile(join(sandbox.storeRoot, garbage, "task.json"), "{ this is not json")
    const badState = fakeId(3)
    await writeFakeTask(sandbox, badState, { state: "EXPLODED" })
    await waitForState(sandbox, real, "STOPPED")

    const run = await runCli(sandbox, ["ls"])

    assert.strictEqual(run.code, 0, run.stderr)
    const ids = tableRows(run.stdout).map((r) => r[0])
    assert.sameMembers(ids, [real, good])
    assert.include(run.stderr, garbage)
    assert.include(run.stderr, badState)
    const json = await runCli(sandbox, ["ls", "--json"])
    assert.strictEqual(json.code, 0)
    assert.sameMembers(
      (JSON.parse(json.stdout) as Array<{ id: string }>).map((t) => t.id),
      [real, good],
    )
  })

  it("--state filters in any case, comma-separated or repeated; newest first", async () => {
    const { sandbox } = await setup()
    const running = await startTask(sandbox, "Keep running.\nDELAY:60000\nREPLY:never")
    const stopped = fakeId(1)
    await writeFakeTask(sandbox, stopped, { created_at: "2025-03-01T00:00:00Z" })
    const died = fakeId(2)
    // Stored RUNNING with no worker at all: reads DIED.
    await writeFakeTask(sandbox, died, { state: "RUNNING", created_at: "2025-04-01T00:00:00Z" })
    const older = fakeId(3)
    await writeFakeTask(sandbox, older, { created_at: "2024-12-31T23:59:59Z" })

    const ids = async (...args: Array<string>) => {
      const run = await runCli(sandbox, ["ls", ...args])
      assert.strictEqual(run.code, 0, run.stderr)
      return tableRows(run.stdout).map((r) => r[0])
    }

    const [mixedCase, repeated, onlyRunning, everything, onlyDied, none, bad] = await Promise.all([
      ids("--state", "died,STOPPED"),
      ids("--state", "Died", "--state", "stopped"),
      ids("--state", "running"),
      ids(),
      runCli(sandbox, ["ls", "--state", "died"]),
      runCli(sandbox, ["ls", "--state", "archived"]),
      runCli(sandbox, ["ls", "--state", "sleeping"]),
    ])

    assert.deepStrictEqual(mixedCase, [died, stopped, older])
    assert.deepStrictEqual(repeated, [died, stopped, older])
    assert.deepStrictEqual(onlyRunning, [running])
    assert.deepStrictEqual(everything, [running, died, stopped, older])
    assert.deepStrictEqual(
      tableRows(onlyDied.stdout).map((r) => [r[0], r[2]]),
      [[died, "DIED"]],
    )
    assert.strictEqual(none.stdout, "No tasks found.\n")
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, "sleeping")
  })

  // BUG (src/tasks/queries.ts `listTasks`): "newest first" compares `created_at` as strings, so
  // an RFC 3339 time with a non-UTC offset sorts by its local digits. 10:00+05:00 (05:00 UTC) is
  // older than 06:00Z but is listed first. Suggested fix: sort by `timestampMillis(created_at)`.
  it("newest first compares instants, not strings (UTC offsets)", async () => {
    const { sandbox } = await setup()
    const older = fakeId(1)
    await writeFakeTask(sandbox, older, { created_at: "2025-01-01T10:00:00+05:00" })
    const newer = fakeId(2)
    await writeFakeTask(sandbox, newer, { created_at: "2025-01-01T06:00:00Z" })

    const run = await runCli(sandbox, ["ls"])

    assert.deepStrictEqual(
      tableRows(run.stdout).map((r) => r[0]),
      [newer, older],
    )
  })

  it("titles with tabs and newlines stay on one row", async () => {
    const { sandbox } = await setup()
    const real = await startTask(sandbox, "Titled.\nREPLY:ok", ["-t", "tab\there\nnext line"])
    const fake = fakeId(1)
    await writeFakeTask(sandbox, fake, { title: "cr\rand\u001b[31mescape\u2028sep" })
    const untitled = fakeId(2)
    await writeFakeTask(sandbox, untitled, { title: "\n\t" })
    await waitForState(sandbox, real, "STOPPED")

    const run = await runCli(sandbox, ["ls"])

    assert.strictEqual(run.code, 0, run.stderr)
    const lines = run.stdout.trimEnd().split("\n")
    assert.strictEqual(lines.length, 4, `header + 3 rows:\n${run.stdout}`)
    assert.notInclude(run.stdout, "\t")
    assert.notInclude(run.stdout, "\r")
    assert.notInclude(run.stdout, "\u001b")
    const byId = new Map(tableRows(run.stdout).map((r) => [r[0], r]))
    assert.strictEqual(byId.get(real)?.[1], "tab here next line")
    assert.strictEqual(byId.get(untitled)?.[1], "-")
  })
})

describe("archive", () => {
  it("refuses a running task", async () => {
    const { sandbox } = await setup()
    const id = await startTask(sandbox, "Keep running.\nDELAY:60000\nREPLY:never")

    const run = await runCli(sandbox, ["archive", id])

    assert.strictEqual(run.stdout, `Skipping task ${id} (RUNNING).\n`)
    assert.strictEqual(run.code, 1)
    assert.isTrue(existsSync(join(taskDir(sandbox, id), "task.json")), "still in place")
    assert.isTrue(await isInState(sandbox, id, "RUNNING"))
  })

  it("an archive interrupted between its two steps is completed by running it again", async () => {
    const { sandbox } = await setup()
    const id = await startTask(sandbox, "Archive me.\nREPLY:archived answer")
    await waitForState(sandbox, id, "STOPPED")
    // Step one happened (state ARCHIVED), the move did not.
    const metaPath = join(taskDir(sandbox, id), "task.json")
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as Record<string, unknown>
    writeFileSync(metaPath, JSON.stringify({ ...meta, state: "ARCHIVED" }, null, 2))
    const halfway = await runCli(sandbox, ["send", id, "Too late.\nREPLY:no"])
    assert.strictEqual(halfway.code, 1)
    assert.include(halfway.stderr, "archive")
    const before = new Date()

    const run = await runCli(sandbox, ["archive", id])

    assert.strictEqual(run.code, 0, run.stderr)
    const marked = new Date(String(meta.updated_at))
    const dirs = utcDays(marked, before, new Date()).map((day) =>
      join(sandbox.storeRoot, "archive", day, id),
    )
    const archivedDir = dirs.find((d) => existsSync(join(d, "task.json")))
    assert.isDefined(archivedDir, `moved under archive/YYYY/MM/DD/${id}`)
    assert.strictEqual(run.stdout, `Task ${id} archived to ${archivedDir}.\n`)
    assert.isFalse(existsSync(taskDir(sandbox, id)), "nothing left in the active area")
    assert.isTrue(existsSync(join(archivedDir!, "task.log")))

    const [ls, lsAll, send, log, status, again] = await Promise.all([
      runCli(sandbox, ["ls"]),
      runCli(sandbox, ["ls", "-a"]),
      runCli(sandbox, ["send", id, "Still there?\nREPLY:no"]),
      runCli(sandbox, ["log", id]),
      runCli(sandbox, ["status", id]),
      runCli(sandbox, ["archive", id]),
    ])
    assert.strictEqual(ls.stdout, "No tasks found.\n")
    assert.deepStrictEqual(
      tableRows(lsAll.stdout).map((r) => [r[0], r[2]]),
      [[id, "ARCHIVED"]],
    )
    assert.strictEqual(send.code, 1)
    assert.include(send.stderr, "archived")
    assert.strictEqual(log.code, 0, log.stderr)
    assert.include(log.stdout, "user\nArchive me.")
    assert.include(log.stdout, "codex\narchived answer")
    assert.strictEqual(status.code, 0, status.stderr)
    assert.include(status.stdout, "State: ARCHIVED")
    assert.include(status.stdout, `Archived In: ${archivedDir}`)
    assert.strictEqual(again.code, 0)
    assert.strictEqual(again.stdout, `Task ${id} is already archived in ${archivedDir}.\n`)
  })

  // BUG (src/tasks/archive.ts `archiveTask` / src/cli/commands/archive.ts): the ids are resolved
  // before any is archived, so a task named twice (or by id and by prefix, or archived by a
  // concurrent `archive`) is moved by the first pass and the second fails taking the lock in the
  // vanished directory: "create …/task.lock failed: ENOENT", exit 1. Expected: the second pass
  // says it is already archived. Suggested fix: when the lock's directory is gone, re-resolve
  // with includeArchived and report "already-archived" (and dedupe the ids in the command).
  it("archive naming the same task twice archives it once, without an internal error", async () => {
    const { sandbox } = await setup()
    const id = fakeId(1)
    await writeFakeTask(sandbox, id)

    const run = await runCli(sandbox, ["archive", id, id.slice(0, 12)])

    assert.notInclude(run.stderr, "task.lock")
    assert.strictEqual(run.code, 0, run.stderr)
    const lines = run.stdout.trimEnd().split("\n")
    assert.match(lines[0] ?? "", /^Task \S+ archived to /)
    assert.match(lines[1] ?? "", /already archived/)
  })

  it("archive -a archives what is not running and prints a summary", async () => {
    const { sandbox } = await setup()
    const running = await startTask(sandbox, "Keep running.\nDELAY:60000\nREPLY:never")
    const done = await startTask(sandbox, "Done.\nREPLY:done")
    const died = fakeId(1)
    await writeFakeTask(sandbox, died, { state: "RUNNING" })
    await waitForState(sandbox, done, "STOPPED")

    const run = await runCli(sandbox, ["archive", "-a"])

    assert.strictEqual(run.code, 0, run.stderr)
    const lines = run.stdout.trimEnd().split("\n")
    assert.strictEqual(lines.at(-1), "Archived 2 task(s); skipped 1 running.")
    assert.include(lines, `Skipping task ${running} (RUNNING).`)
    for (const id of [done, died]) {
      assert.isTrue(
        lines.some((l) => l.startsWith(`Task ${id} archived to ${sandbox.storeRoot}/archive/`)),
        `${id} archived: ${run.stdout}`,
      )
    }
    assert.deepStrictEqual(
      tableRows((await runCli(sandbox, ["ls"])).stdout).map((r) => r[0]),
      [running],
    )
    const states = tableRows((await runCli(sandbox, ["ls", "-a"])).stdout).map((r) => [r[0], r[2]])
    assert.sameDeepMembers(states, [
      [running, "RUNNING"],
      [done, "ARCHIVED"],
      [died, "ARCHIVED"],
    ])
    assert.strictEqual((await readTaskJson(sandbox, running)).state, "RUNNING")
  })
})
