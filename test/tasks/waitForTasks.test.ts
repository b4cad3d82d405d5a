import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestServices } from "effect"
import type { TaskStore } from "../../src/store/TaskStore.js"
import { TaskStore as TaskStoreTag } from "../../src/store/TaskStore.js"
import { waitForTasks } from "../../src/tasks/queries.js"
import { makeFakeWorld, taskId, taskWithWorker } from "../support/fakeWorld.js"

// `status --wait` / `start --wait` (waitForTasks) on the TestClock: the clock never reaches the
// slow re-check, so only a file event can end a wait. A real store in a temp directory; the
// worker is a live process of a fake process table.

/** Fails the test if `fiber` has not ended after 10 s of real time (the wait never woke). */
const joinOrNever = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.race(
    Fiber.join(fiber),
    TestServices.provideLive(Effect.sleep("10 seconds")).pipe(
      Effect.andThen(Fiber.interrupt(fiber)),
      Effect.andThen(Effect.dieMessage("the wait never woke: no file event reached it")),
    ),
  )

describe("waitForTasks", () => {
  it.scoped("wakes on the task finishing, with no re-check to fall back on", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, { id: taskId(1), workerPid: 4242, runId: "r" })
      const fiber = yield* world.provide(waitForTasks([loc], "all")).pipe(Effect.fork)
      // Give the wait time to read and block (real time: the TestClock stays where it is).
      yield* TestServices.provideLive(Effect.sleep("200 millis"))
      yield* world.store.update(loc, (m) => ({ ...m, state: "STOPPED" }))
      const views = yield* joinOrNever(fiber)
      assert.deepStrictEqual(
        views.map((v) => v.state),
        ["STOPPED"],
      )
    }),
  )

  it.scoped("a task finishing right after the wait read it still wakes the wait", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, { id: taskId(2), workerPid: 4243, runId: "r" })
      // The worker writes STOPPED just after the wait's first read, before the wait blocks.
      let reads = 0
      const racing: TaskStore = {
        ...world.store,
        read: (l) =>
          world.store
            .read(l)
            .pipe(
              Effect.tap(() =>
                reads++ === 0
                  ? Effect.orDie(world.store.update(l, (m) => ({ ...m, state: "STOPPED" })))
                  : Effect.void,
              ),
            ),
      }
      const fiber = yield* world
        .provide(waitForTasks([loc], "all").pipe(Effect.provideService(TaskStoreTag, racing)))
        .pipe(Effect.fork)
      const views = yield* joinOrNever(fiber)
      assert.deepStrictEqual(
        views.map((v) => v.state),
        ["STOPPED"],
      )
      assert.strictEqual(reads, 2, "one read saw RUNNING, the one after the file event STOPPED")
    }),
  )
})
