import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Scope } from "effect"
import { takeSlot } from "../../src/store/slots.js"
import { RunSlots } from "../../src/worker/slot.js"
import {
  drive,
  launch,
  logOf,
  metaOf,
  reply,
  resumeRequest,
  setup,
  startTask,
  until,
  type World,
} from "../support/workerHarness.js"

// A worker's invocation waiting for a run slot (issue 20, §2.5 and §2.11): a stop during the wait
// ends it without starting codex, and the task's `waiting` record goes with the wait.

/** The world's worker with `--max-running 1`. */
const limited = (world: World): World => ({
  ...world,
  layer: Layer.merge(
    world.layer,
    RunSlots.layer({ root: world.root, limit: 1, notice: () => Effect.void }),
  ),
})

/** Holds the store's only slot (limit 1) until the returned release runs. */
const holdSlot = (root: string) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Scope.extend(takeSlot(root, 1), scope)
    return Scope.close(scope, Exit.void)
  })

describe("worker: waiting for a run slot", () => {
  it.scoped(
    "a stop during the wait ends the task without starting codex or leaving `waiting`",
    () =>
      Effect.gen(function* () {
        const world = yield* setup([reply("one"), reply("two")])
        const task = yield* startTask(world, "first")
        yield* drive(task.fiber)
        yield* world.store.inboxPush(task.loc, "second")
        yield* holdSlot(world.root)

        const resumed = yield* launch(limited(world), resumeRequest(task.id))
        yield* until(
          "the task to wait for a slot",
          () => metaOf(world, task.id).waiting !== undefined,
        )
        assert.strictEqual(metaOf(world, task.id).state, "RUNNING")
        yield* resumed.stop("now")
        yield* Fiber.join(resumed.fiber)

        assert.strictEqual(world.fake.requests.length, 1, "codex ran only for the first prompt")
        const meta = metaOf(world, task.id)
        assert.strictEqual(meta.state, "STOPPED")
        assert.strictEqual(meta.last_outcome?.kind, "interrupted")
        // A later `send` makes the task RUNNING again: a `waiting` left here would show there.
        assert.isUndefined(meta.waiting)
        assert.isTrue(
          logOf(world, task.id).some((e) =>
            String(e.message ?? e.text ?? "").includes("codex was not started"),
          ),
          JSON.stringify(logOf(world, task.id)),
        )
      }),
  )

  it.scoped("the `waiting` record is gone once the slot is taken", () =>
    Effect.gen(function* () {
      const world = yield* setup([reply("one"), reply("two")])
      const task = yield* startTask(world, "first")
      yield* drive(task.fiber)
      yield* world.store.inboxPush(task.loc, "second")
      const release = yield* holdSlot(world.root)

      const resumed = yield* launch(limited(world), resumeRequest(task.id))
      yield* until(
        "the task to wait for a slot",
        () => metaOf(world, task.id).waiting !== undefined,
      )
      yield* release
      yield* drive(resumed.fiber)

      assert.strictEqual(world.fake.requests.length, 2)
      assert.isUndefined(metaOf(world, task.id).waiting)
      assert.strictEqual(metaOf(world, task.id).last_result, "two")
    }),
  )
})
