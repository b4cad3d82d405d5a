import { existsSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { archiveLines, stopLines } from "../../src/render/reports.js"
import { RECHECK_ENV } from "../../src/tasks/recheck.js"
import { Tasks } from "../../src/tasks/Tasks.js"
import type { FakeScript } from "../../src/testing/index.js"
import { makeTasksWorld, settle } from "../support/tasksWorld.js"
import { realTick, reply } from "../support/workerHarness.js"

// The task service as the CLI and the MCP server use it, in-process: a real store in a temp
// directory, workers as fibers (the in-process launcher) running a scripted codex on the
// TestClock, and a fake process table in which each worker is a process that stop can signal.

const world = (scripts: ReadonlyArray<FakeScript>) =>
  Effect.map(makeTasksWorld(scripts), (w) => ({
    ...w,
    options: { workingDir: w.workingDir, skipGitRepoCheck: true },
  }))

/** Waits (real time) until no in-process worker is alive: a worker exits just after its task ends. */
const noWorkerLeft = (alive: Effect.Effect<ReadonlyArray<number>>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      if ((yield* alive).length === 0) return
      yield* realTick(5)
    }
    assert.deepStrictEqual(yield* alive, [], "a worker is still alive")
  })

describe("Tasks (in-process workers, scripted codex)", () => {
  it.scoped("start answers with the thread id; the turn's end carries the final message", () =>
    Effect.gen(function* () {
      const w = yield* world([reply("4")])
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const { id } = yield* tasks.start({ prompt: "2+2?", options: w.options })
        const end = yield* settle(tasks.waitForTurn(id))
        assert.strictEqual(end._tag, "answered")
        assert.strictEqual(end.view.lastResult, "4")
        assert.strictEqual(end.view.state, "STOPPED")
        assert.strictEqual(w.codex.requests[0]?.prompt, "2+2?")
        yield* noWorkerLeft(w.workersAlive)
      }).pipe(Effect.provide(w.layer))
    }),
  )

  it.scoped("send resumes a finished task in a new worker; a send while it runs is queued", () =>
    Effect.gen(function* () {
      const w = yield* world([reply("one"), reply("two", "1 hour"), reply("three")])
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const { id } = yield* tasks.start({ prompt: "first", options: w.options })
        yield* settle(tasks.waitForTurn(id))
        // A lock held by the worker is waited out on the clock: every call runs under `settle`.
        const second = yield* settle(tasks.send(id, "second"))
        assert.strictEqual(second.status, "started")
        // Once codex runs the second prompt, the third waits behind it alone.
        yield* settle(Effect.repeat(realTick(2), { until: () => w.codex.requests.length === 2 }))
        const third = yield* settle(tasks.send(id, "third"))
        assert.deepInclude(third, { status: "queued", position: 1 })
        const end = yield* settle(tasks.waitForTurn(id, third.seq))
        assert.strictEqual(end._tag, "answered")
        assert.strictEqual(end.view.lastResult, "three")
        assert.deepStrictEqual(
          w.codex.requests.map((r) => [r.prompt, r.resumeThreadId]),
          [
            ["first", undefined],
            ["second", id],
            ["third", id],
          ],
        )
      }).pipe(Effect.provide(w.layer))
    }),
  )

  it.scoped("stop interrupts a long turn, drops the queued prompt and leaves no worker", () =>
    Effect.gen(function* () {
      const w = yield* world([reply("slow", "1 hour")])
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const { id } = yield* tasks.start({ prompt: "take your time", options: w.options })
        yield* settle(tasks.send(id, "and then this"))
        assert.lengthOf(yield* w.workersAlive, 1)
        const reports = yield* settle(tasks.stop([id], { afterTurn: false, timeoutMs: 30_000 }))
        assert.deepStrictEqual(
          stopLines(reports, false).map((l) => l.text),
          [`Task ${id} stopped.`],
        )
        const { views } = yield* tasks.select({ _tag: "Ids", refs: [id] })
        assert.strictEqual(views[0]?.state, "STOPPED")
        assert.strictEqual(views[0]?.outcome?.kind, "interrupted")
        assert.strictEqual(views[0]?.meta.dropped_prompts, 1)
        assert.strictEqual(views[0]?.queued, 0)
        yield* noWorkerLeft(w.workersAlive)
        const again = yield* tasks.stop([id], { afterTurn: false, timeoutMs: 30_000 })
        assert.deepStrictEqual(again, [{ id, status: "not-running" }])
      }).pipe(Effect.provide(w.layer))
    }),
  )

  it.scoped("archive skips a running task and moves it once it has finished", () =>
    Effect.gen(function* () {
      const w = yield* world([reply("done", "10 minutes")])
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const { id } = yield* tasks.start({ prompt: "work", options: w.options })
        const refused = yield* tasks.archive([id])
        assert.deepStrictEqual(archiveLines(refused, false), [`Skipping task ${id} (RUNNING).`])
        yield* settle(tasks.waitForTurn(id))
        const moved = yield* tasks.archive("all")
        assert.strictEqual(moved.archived, 1)
        const loc = yield* tasks.resolve(id, { includeArchived: true })
        assert.isTrue(loc.archived)
        assert.isTrue(existsSync(join(loc.dir, "task.json")))
        assert.isFalse(existsSync(join(w.root, id)))
        assert.deepStrictEqual(archiveLines(moved, true), [
          `Task ${id} archived to ${loc.dir}.`,
          "Archived 1 task(s); skipped 0 running.",
        ])
      }).pipe(Effect.provide(w.layer))
    }),
  )

  it.scoped("status waits for any task, and times out when none finishes in time", () =>
    Effect.gen(function* () {
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.env[RECHECK_ENV] = "60000"
        }),
        () => Effect.sync(() => delete process.env[RECHECK_ENV]),
      )
      const w = yield* world([reply("long", "2 hours"), reply("short", "20 minutes")])
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const long = yield* tasks.start({ prompt: "long", options: w.options })
        const short = yield* tasks.start({ prompt: "short", options: w.options })
        const selector = { _tag: "Ids", refs: [long.id, short.id] } as const
        // Hours of scripted time: big clock steps, and re-checks once a minute instead of once a
        // second (every re-check that falls due in a step runs; file events still wake the waits).
        const early = yield* settle(
          tasks.status({ selector, wait: "any", timeout: Duration.minutes(5) }),
          "5 minutes",
        )
        assert.strictEqual(early.verdict, "timed_out")
        assert.deepStrictEqual(early.finished, [])
        const first = yield* settle(tasks.status({ selector, wait: "any" }), "5 minutes")
        assert.strictEqual(first.verdict, "ok")
        assert.deepStrictEqual(
          first.finished.map((v) => [v.loc.id, v.state, v.lastResult]),
          [[short.id, "STOPPED", "short"]],
        )
        const all = yield* settle(tasks.status({ selector, wait: "all" }), "5 minutes")
        assert.deepStrictEqual(
          all.finished.map((v) => v.loc.id),
          [long.id, short.id],
        )
      }).pipe(Effect.provide(w.layer))
    }),
  )
})
