import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Scope, TestClock } from "effect"
import { takeSlot } from "../../src/store/slots.js"
import { Tasks } from "../../src/tasks/Tasks.js"
import { makeTasksWorld } from "../support/tasksWorld.js"
import { realTick, reply, until } from "../support/workerHarness.js"

// A start whose worker waits for a run slot (issue 20, §2.4): the task does not exist yet, so
// only the start itself (Ctrl-C, an MCP cancel) or `stop --all` can reach it. Either ends it:
// its worker exits, its ticket goes, and nothing runs later.

const world = Effect.gen(function* () {
  const w = yield* makeTasksWorld([reply("ran after all")], { maxRunning: 1 })
  mkdirSync(w.root, { recursive: true })
  // The only slot, held by someone else until released.
  const held = yield* Scope.make()
  yield* Scope.extend(takeSlot(w.root, 1), held)
  return { ...w, release: Scope.close(held, Exit.void) }
})

/** Joins `fiber`, moving the TestClock (and real time a little) while it runs. */
const joinAdvancing = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust("100 millis")
      yield* realTick(2)
    }
    return yield* Fiber.await(fiber)
  })

/** A start forked with `--max-running 1`, and whether its worker said it waits for a slot. */
const waitingStart = (root: string) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const state = { waiting: false }
    const fiber = yield* Effect.fork(
      tasks.start({
        prompt: "hello",
        options: { workingDir: dirname(root), skipGitRepoCheck: true },
        onNotice: () => (state.waiting = true),
      }),
    )
    yield* until("the start to wait for a slot", () => state.waiting)
    return fiber
  })

describe("a start waiting for a run slot", () => {
  it.scoped("interrupted (Ctrl-C, MCP cancel): its worker is gone and nothing runs later", () =>
    Effect.gen(function* () {
      const w = yield* world
      yield* Effect.gen(function* () {
        const start = yield* waitingStart(w.root)
        const interrupting = yield* Effect.fork(Fiber.interrupt(start))
        yield* joinAdvancing(interrupting)
        assert.deepStrictEqual(yield* w.workersAlive, [], "the start's worker was stopped")
        // The slot frees up: a worker still waiting would now run codex and create the task.
        yield* w.release
        yield* realTick(200)
        assert.strictEqual(w.codex.requests.length, 0, "codex never ran")
        assert.deepStrictEqual((yield* (yield* Tasks).list({ includeArchived: true })).views, [])
      }).pipe(Effect.provide(w.layer))
    }),
  )

  it.scoped("`stop --all` finds it and ends it; the start fails saying so", () =>
    Effect.gen(function* () {
      const w = yield* world
      yield* Effect.gen(function* () {
        const tasks = yield* Tasks
        const start = yield* waitingStart(w.root)
        const stopping = yield* Effect.fork(
          tasks.stop("all", { afterTurn: false, timeoutMs: 5_000 }),
        )
        const reports = yield* joinAdvancing(stopping)
        assert.isTrue(Exit.isSuccess(reports))
        const [report, ...rest] = Exit.isSuccess(reports) ? reports.value : []
        assert.deepStrictEqual(rest, [])
        assert.strictEqual(report?.status, "killed")
        assert.include(report?.status === "killed" ? report.message : "", "without a task yet")
        const started = yield* joinAdvancing(start)
        assert.isTrue(Exit.isFailure(started))
        assert.include(String(Exit.isFailure(started) ? started.cause : ""), "stopped before")
        assert.deepStrictEqual(yield* w.workersAlive, [])
        yield* w.release
        yield* realTick(200)
        assert.strictEqual(w.codex.requests.length, 0, "codex never ran")
      }).pipe(Effect.provide(w.layer))
    }),
  )
})
