import { rmSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Schema } from "effect"
import { TaskMeta } from "../../src/domain/task.js"
import { installFaultPlan } from "../../src/store/faults.js"
import { makeFakeWorld, taskId } from "../support/fakeWorld.js"

// Between two queued turns the worker writes the finished turn's record, its being done and the
// next prompt's start in one task.json write (TaskStore.inboxAdvance), then moves the next entry
// in flight. A crash in between must leave that next prompt queued, never lost or dropped.

const running = (n: number) =>
  Schema.decodeUnknownSync(TaskMeta)({
    id: taskId(n),
    state: "RUNNING",
    created_at: "2026-12-08T01:00:00.000Z",
    updated_at: "2026-12-08T01:00:00.000Z",
  })

describe("inboxAdvance: a queued turn over, the next one taken", () => {
  it.scoped("records the turn, its being done and the next prompt in one go", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const loc = yield* world.store.create(running(1))
      yield* world.store.inboxPush(loc, "one")
      yield* world.store.inboxPush(loc, "two")
      const first = yield* world.store.inboxTake(loc)
      assert.strictEqual(Option.getOrThrow(first).prompt, "one")

      const next = yield* world.store.inboxAdvance(loc, Option.getOrThrow(first).seq, (m) => ({
        ...m,
        last_result: "did one",
      }))

      assert.strictEqual(Option.getOrThrow(next).prompt, "two")
      const meta = yield* world.store.read(loc)
      assert.strictEqual(meta.last_result, "did one")
      assert.strictEqual(meta.inbox_done_seq, Option.getOrThrow(first).seq)
      assert.strictEqual(meta.last_prompt, "two")
      assert.deepStrictEqual(
        (yield* world.store.inboxInFlight(loc)).map((e) => e.prompt),
        ["two"],
        "only the next prompt is in flight",
      )
      assert.deepStrictEqual(yield* world.store.inboxPending(loc), [])

      // nothing queued any more: the record is written all the same
      const none = yield* world.store.inboxAdvance(loc, Option.getOrThrow(next).seq, (m) => ({
        ...m,
        last_result: "did two",
      }))
      assert.isTrue(Option.isNone(none))
      assert.strictEqual((yield* world.store.read(loc)).last_result, "did two")
      assert.deepStrictEqual(yield* world.store.inboxInFlight(loc), [])
    }),
  )

  it.scoped("killed before the next entry moved: that prompt is still queued and runs", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const loc = yield* world.store.create(running(2))
      yield* world.store.inboxPush(loc, "one")
      yield* world.store.inboxPush(loc, "two")
      const first = Option.getOrThrow(yield* world.store.inboxTake(loc))

      installFaultPlan({ inProcess: true, crashAt: "inbox.take" })
      const cut = yield* Effect.exit(world.store.inboxAdvance(loc, first.seq))
      installFaultPlan(undefined)
      assert.isTrue(Exit.isFailure(cut))
      rmSync(join(loc.dir, "task.lock"), { force: true }) // the dead holder's lock

      // the next worker: the finished turn is recorded done, so nothing is dropped
      assert.strictEqual(yield* world.store.recoverInFlight(loc), 0)
      assert.strictEqual((yield* world.store.read(loc)).dropped_prompts ?? 0, 0)
      const again = yield* world.store.inboxTake(loc)
      assert.strictEqual(Option.getOrThrow(again).prompt, "two", "the next prompt still runs")
    }),
  )
})
