import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestServices } from "effect"
import { waitForTurn } from "../../src/tasks/turns.js"
import { makeFakeWorld, taskId, taskWithWorker } from "../support/fakeWorld.js"

// `send --wait`'s wait for its turn (waitForTurn with the prompt's inbox seq), on a real store
// whose worker is a live process of a fake process table.

describe("waitForTurn", () => {
  it.scoped("a failed turn is reported once the task has left RUNNING, not in between", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, { id: taskId(1), workerPid: 4301, runId: "r" })
      // What the worker writes first: the turn failed and is done (seq 1)…
      yield* world.store.update(loc, (m) => ({
        ...m,
        inbox_done_seq: 1,
        last_outcome: {
          kind: "failed",
          error_class: "UsageLimitReached",
          message: "past --max-limit-wait",
          at: "2026-01-01T00:00:00.000Z",
        },
      }))
      const fiber = yield* world.provide(waitForTurn(loc.id, 1)).pipe(Effect.fork)
      yield* TestServices.provideLive(Effect.sleep("300 millis"))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "reported while still RUNNING")
      // …then the task's end.
      yield* world.store.update(loc, (m) => ({ ...m, state: "DIED" }))
      const end = yield* Fiber.join(fiber)
      assert.strictEqual(end._tag, "unanswered")
      assert.strictEqual(end.view.state, "DIED")
    }),
  )

  it.scoped("a completed turn is reported while the task runs on (more prompts queued)", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, { id: taskId(2), workerPid: 4302, runId: "r" })
      yield* world.store.update(loc, (m) => ({
        ...m,
        inbox_done_seq: 1,
        last_outcome: { kind: "completed", at: "2026-01-01T00:00:00.000Z" },
      }))
      const end = yield* world.provide(waitForTurn(loc.id, 1))
      assert.strictEqual(end._tag, "answered")
      assert.strictEqual(end.view.state, "RUNNING")
    }),
  )
})
