import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Schema } from "effect"
import { TaskMeta } from "../../src/domain/task.js"
import { installFaultPlan } from "../../src/store/faults.js"
import { makeFakeWorld, taskId } from "../support/fakeWorld.js"

// A stop (or a failure) drops the queued prompts: the log entry is written, then the prompts leave
// the inbox. A process killed in between must not leave a prompt both "dropped" in the log and
// still queued: the next worker would run it (found by the crash sweep, issue 20 §1).

const droppedIn = (log: string) =>
  log
    .split("\n")
    .filter((l) => l.includes('"prompts_dropped"'))
    .flatMap((l) => (JSON.parse(l) as { prompts: Array<string> }).prompts)

describe("dropping queued prompts, cut short by a crash", () => {
  it.scoped(
    "a prompt the log calls dropped is never queued again; the next worker records it",
    () =>
      Effect.gen(function* () {
        const world = yield* makeFakeWorld
        const loc = yield* world.store.create(
          Schema.decodeUnknownSync(TaskMeta)({
            id: taskId(7),
            state: "RUNNING",
            created_at: "2026-12-07T16:00:00.000Z",
            updated_at: "2026-12-07T16:00:00.000Z",
          }),
        )
        yield* world.store.inboxPush(loc, "two")
        yield* world.store.inboxPush(loc, "three")
        // killed after the prompts_dropped entry, before the count and the removal
        installFaultPlan({ inProcess: true, crashAt: "atomic.temp@task.json" })
        const drop = yield* Effect.exit(world.store.dropQueued(loc))
        installFaultPlan(undefined)
        assert.isTrue(Exit.isFailure(drop))
        rmSync(join(loc.dir, "task.lock"), { force: true }) // the dead holder's lock
        assert.deepStrictEqual(droppedIn(readFileSync(world.store.logPath(loc), "utf8")), [
          "two",
          "three",
        ])
        assert.deepStrictEqual(
          (yield* world.store.inboxPending(loc)).map((e) => e.prompt),
          [],
          "nothing the log calls dropped is still queued",
        )
        // the next worker: what the cut drop left is recorded, nothing runs
        yield* world.store.recoverInFlight(loc)
        assert.isTrue(Option.isNone(yield* world.store.inboxTake(loc)), "no dropped prompt runs")
        assert.deepStrictEqual(yield* world.store.inboxPending(loc), [])
        assert.strictEqual((yield* world.store.read(loc)).dropped_prompts, 2)
      }),
  )
})
