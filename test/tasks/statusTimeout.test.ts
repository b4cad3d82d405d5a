import { dirname, join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, TestClock } from "effect"
import { StoreRoot, TaskStore } from "../../src/store/TaskStore.js"
import { RECHECK_ENV } from "../../src/tasks/recheck.js"
import { Tasks, TasksConfig } from "../../src/tasks/Tasks.js"
import { inProcessLauncher, makeFakeCodexExec, makeFakeProcesses } from "../../src/testing/index.js"
import { withTimerCap } from "../support/cappedClock.js"
import { policy, realTick, reply, tempRoot } from "../support/workerHarness.js"

// `status --wait --timeout` past a timer's 24.8 days: on the live clock a single timer that long
// never fires (`withTimerCap` keeps that limit on the TestClock), so the wait must run in steps.
describe("status --wait --timeout 30 days", () => {
  it.scoped("times out after 30 days while the task still runs", () =>
    Effect.gen(function* () {
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.env[RECHECK_ENV] = "86400000"
        }),
        () => Effect.sync(() => delete process.env[RECHECK_ENV]),
      )
      const root = join(yield* tempRoot, "store")
      const fake = yield* makeFakeProcesses()
      const codex = makeFakeCodexExec([reply("late", "60 days")])
      const store = TaskStore.DefaultWithoutDependencies.pipe(
        Layer.provide(Layer.succeed(StoreRoot, root)),
        Layer.provide(fake.layer),
      )
      const layer = Tasks.Default.pipe(
        Layer.provideMerge(
          Layer.mergeAll(
            store,
            fake.layer,
            inProcessLauncher(fake, codex.layer).pipe(Layer.provide(store)),
            TasksConfig.layer("/unused/codex", policy),
          ),
        ),
      )
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const options = { workingDir: dirname(root), skipGitRepoCheck: true }
        const { id } = yield* tasks.start({ prompt: "slow", options })
        const selector = { _tag: "Ids", refs: [id] } as const
        const fiber = yield* Effect.fork(
          withTimerCap(tasks.status({ selector, wait: "all", timeout: Duration.days(30) })),
        )
        for (let day = 0; day < 31 && fiber.unsafePoll() === null; day++) {
          yield* TestClock.adjust("1 day")
          yield* realTick(5)
        }
        assert.isNotNull(fiber.unsafePoll(), "the wait ended within 31 days")
        const report = yield* Fiber.join(fiber)
        assert.strictEqual(report.verdict, "timed_out")
        // The task ends on day 60; its worker is gone before the scope closes.
        const end = yield* Effect.fork(tasks.status({ selector, wait: "all" }))
        for (let day = 30; day < 61 && end.unsafePoll() === null; day++) {
          yield* TestClock.adjust("1 day")
          yield* realTick(5)
        }
        assert.strictEqual((yield* Fiber.join(end)).verdict, "ok")
      }).pipe(Effect.provide(layer))
    }),
  )
})
