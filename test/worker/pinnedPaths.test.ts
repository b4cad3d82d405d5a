import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope, TestClock } from "effect"
import type { WorkerRequest } from "../../src/launcher/protocol.js"
import type { WorkerNotice } from "../../src/launcher/workerNotice.js"
import { SLOT_RECHECK_MS, takeSlot } from "../../src/store/slots.js"
import { RunSlots } from "../../src/worker/slot.js"
import {
  drive,
  launch,
  metaOf,
  policy,
  realTick,
  reply,
  resumeRequest,
  setup,
  startTask,
  until,
} from "../support/workerHarness.js"

// The MCP gate hands the worker the real paths it checked (`pinnedPaths`). A start may wait for
// a run slot for hours; a symbolic link swapped in meanwhile must not redirect codex: the worker
// checks the paths again after the wait, right before the spawn, and refuses visibly.

const dirs = Effect.acquireRelease(
  Effect.sync(() => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "ct-pins-")))
    const work = join(base, "allowed", "work")
    const elsewhere = join(base, "elsewhere")
    mkdirSync(work, { recursive: true })
    mkdirSync(elsewhere)
    return { base, work, elsewhere }
  }),
  ({ base }) => Effect.sync(() => rmSync(base, { recursive: true, force: true })),
)

const pinnedStart = (work: string): WorkerRequest => ({
  _tag: "Start",
  storeRoot: "unused-in-process",
  codexBin: "unused-in-process",
  prompt: "Say hi.",
  options: { workingDir: work, skipGitRepoCheck: true },
  retry: policy,
  pinnedPaths: [{ path: work, real: work }],
})

/** A start that waits for the one slot of the store (held by the test) while `meanwhile` runs. */
const afterSlotWait = (meanwhile: (d: { work: string; elsewhere: string }) => void) =>
  Effect.gen(function* () {
    const d = yield* dirs
    const world = yield* setup([reply("hi")])
    const notices: Array<WorkerNotice> = []
    const slots = RunSlots.layer({
      root: world.root,
      limit: 1,
      notice: (n) => Effect.sync(() => notices.push(n)),
    })
    const held = yield* Scope.make()
    yield* takeSlot(world.root, 1).pipe(Scope.extend(held))
    const worker = yield* launch(
      { ...world, layer: Layer.merge(world.layer, slots) },
      pinnedStart(d.work),
    )
    yield* until("the start to wait for a slot", () => notices.length > 0)
    meanwhile(d)
    yield* Scope.close(held, Exit.void)
    yield* TestClock.adjust(SLOT_RECHECK_MS * 2)
    yield* realTick(20)
    const answer = yield* worker.handshake
    yield* drive(worker.fiber)
    return { answer, world, d }
  })

describe("worker: paths pinned by the MCP gate", () => {
  it.scoped("refuses to spawn codex when a link was swapped in during the slot wait", () =>
    Effect.gen(function* () {
      const { answer, world, d } = yield* afterSlotWait(({ work, elsewhere }) => {
        renameSync(work, `${work}.old`)
        symlinkSync(elsewhere, work)
      })
      assert.strictEqual(answer._tag, "Failed")
      const failed = answer as Extract<typeof answer, { _tag: "Failed" }>
      assert.strictEqual(failed.errorTag, "SpawnFailed")
      assert.include(failed.message, `${d.work} now resolves to ${d.elsewhere}`)
      assert.strictEqual(world.fake.requests.length, 0, "codex never ran")
    }),
  )

  it.scoped("runs codex when the paths are where the gate saw them", () =>
    Effect.gen(function* () {
      const { answer, world } = yield* afterSlotWait(() => {})
      assert.strictEqual(answer._tag, "Started", JSON.stringify(answer))
      assert.strictEqual(world.fake.requests.length, 1)
    }),
  )

  it.scoped(
    "ends a resumed task DIED, saying which path moved, instead of running the prompt",
    () =>
      Effect.gen(function* () {
        const d = yield* dirs
        const world = yield* setup([reply("one"), reply("two")])
        const task = yield* startTask(world, "first")
        yield* drive(task.fiber)
        yield* world.store.inboxPush(task.loc, "second")
        renameSync(d.work, `${d.work}.old`)
        symlinkSync(d.elsewhere, d.work)
        const resumed = yield* launch(world, {
          ...resumeRequest(task.id),
          pinnedPaths: [{ path: d.work, real: d.work }],
        })
        yield* drive(resumed.fiber)
        const meta = metaOf(world, task.id)
        assert.strictEqual(meta.state, "DIED")
        assert.strictEqual(meta.last_outcome?.error_class, "SpawnFailed")
        assert.include(meta.last_outcome?.message, `${d.work} now resolves to ${d.elsewhere}`)
        assert.strictEqual(world.fake.requests.length, 1, "only the first prompt ran")
      }),
  )
})
