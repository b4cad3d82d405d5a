import { dirname, join } from "node:path"
import { assert } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import { StoreRoot, TaskStore } from "../../src/store/TaskStore.js"
import { Tasks, TasksConfig } from "../../src/tasks/Tasks.js"
import type { FakeScript } from "../../src/testing/CodexExecFake.js"
import {
  FIRST_IN_PROCESS_PID,
  inProcessLauncher,
  makeFakeCodexExec,
  makeFakeProcesses,
} from "../../src/testing/index.js"
import { policy, realTick, tempRoot } from "./workerHarness.js"

/**
 * The task service as the CLI and the MCP server use it, in-process: a real store in a temp
 * directory, workers as fibers of the in-process launcher playing `scripts` (a scripted codex on
 * the TestClock), and a fake process table in which each worker is a process stop can signal.
 * `layer` provides `Tasks` and everything below it; `maxRunning` is the store's run-slot limit.
 */
export const makeTasksWorld = (
  scripts: ReadonlyArray<FakeScript>,
  options: { readonly maxRunning?: number } = {},
) =>
  Effect.gen(function* () {
    const root = join(yield* tempRoot, "store")
    const fake = yield* makeFakeProcesses()
    const codex = makeFakeCodexExec(scripts)
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
          TasksConfig.layer("/unused/codex", policy, options.maxRunning),
        ),
      ),
    )
    const workingDir = dirname(root)
    const workersAlive = Effect.map(fake.alive, (pids) =>
      pids.filter((p) => p >= FIRST_IN_PROCESS_PID),
    )
    return { root, workingDir, fake, codex, layer, workersAlive }
  })

/** Runs `effect` to its end, moving the TestClock 30 s at a time (and real time a little). */
export const settle = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  step: Duration.DurationInput = "30 seconds",
) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 2_000; i++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* Fiber.join(fiber)
      yield* TestClock.adjust(step)
      yield* realTick(2)
    }
    return assert.fail("did not settle")
  })
