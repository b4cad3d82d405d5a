import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { TaskLocation } from "../../src/store/TaskStore.js"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import { archiveTaskWith } from "../../src/tasks/archive.js"
import { stopTask } from "../../src/tasks/stop.js"
import {
  fakeRunProcess,
  joinAdvancing,
  makeFakeWorld,
  taskId,
  taskWithWorker,
} from "../support/fakeWorld.js"

// stop and archive against a scripted process table: workers that ignore SIGTERM, a new worker
// registering while a stop escalates, leftovers of a lost worker.

describe("stop after escalating to SIGKILL", () => {
  it.scoped(
    "leaves alone a newer worker that registered meanwhile (its prompt, state, codex)",
    () =>
      Effect.gen(function* () {
        const world = yield* makeFakeWorld
        const { store, fake } = world
        const id = taskId(1)
        const loc: TaskLocation = {
          id: id as TaskLocation["id"],
          dir: join(world.root, id),
          archived: false,
        }
        // The old worker ignores SIGTERM; the moment it dies of SIGKILL, a `send` sees no worker and
        // starts a new one: it queues its prompt, records the new worker and its run, and runs codex.
        const { worker } = yield* taskWithWorker(world, {
          id,
          workerPid: 5000,
          runId: "old-run",
          worker: {
            ignores: ["SIGTERM"],
            onSignal: (signal) =>
              signal !== "SIGKILL"
                ? Effect.void
                : store
                    .withLock(
                      loc,
                      Effect.gen(function* () {
                        yield* store.inboxPush(loc, "the newer prompt")
                        const next = yield* fake.spawn({ pid: 5001, command: "node __worker" })
                        yield* store.writeWorker(loc, next)
                        yield* store.writeRunRecord(loc, "new-run")
                        yield* store.update(loc, (m) => ({ ...m, state: "RUNNING" }))
                        yield* fakeRunProcess(world, 5002, "new-run", "codex exec --json", 5001)
                      }),
                    )
                    .pipe(Effect.orDie),
          },
        })
        yield* fakeRunProcess(world, 4000, "old-run", "codex exec --json", worker.pid)

        const stopping = yield* Effect.fork(world.provide(stopTask(loc, false, 1_000)))
        const report = yield* joinAdvancing(stopping)

        assert.strictEqual(report.status, "killed")
        const signals = yield* fake.signals
        assert.deepStrictEqual(
          signals.filter((s) => s.pid === 5000).map((s) => s.signal),
          ["SIGTERM", "SIGKILL"],
        )
        assert.isTrue(
          signals.some((s) => s.pid === 4000 && s.signal === "SIGKILL"),
          "the old run's codex",
        )
        assert.deepStrictEqual(
          signals.filter((s) => s.pid === 5001 || s.pid === 5002),
          [],
          "the new worker and its codex are not signalled",
        )
        const meta = yield* store.read(loc)
        assert.strictEqual(meta.state, "RUNNING")
        assert.strictEqual(meta.dropped_prompts ?? 0, 0)
        const queued = yield* store.inboxPending(loc)
        assert.deepStrictEqual(
          queued.map((q) => q.prompt),
          ["the newer prompt"],
        )
        assert.strictEqual(readWorkerIdentity(loc.dir)?.pid, 5001)
      }),
  )

  it.scoped("without a newer worker: drops the queue, STOPPED, worker record removed", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { store, fake } = world
      const { loc } = yield* taskWithWorker(world, {
        id: taskId(2),
        workerPid: 5000,
        runId: "run",
        worker: { ignores: ["SIGTERM"] },
      })
      yield* store.inboxPush(loc, "queued")
      const stopping = yield* Effect.fork(world.provide(stopTask(loc, false, 1_000)))
      const report = yield* joinAdvancing(stopping)
      assert.strictEqual(report.status, "killed")
      const meta = yield* store.read(loc)
      assert.strictEqual(meta.state, "STOPPED")
      assert.strictEqual(meta.dropped_prompts, 1)
      assert.deepStrictEqual(yield* store.inboxPending(loc), [])
      assert.isUndefined(readWorkerIdentity(loc.dir))
      assert.deepStrictEqual(yield* fake.alive, [])
    }),
  )
})

describe("archive", () => {
  it.scoped("refuses while worker.json names a live process, whatever the stored state", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, {
        id: taskId(3),
        state: "STOPPED",
        workerPid: 5001,
        runId: "run",
      })
      const report = yield* world.provide(archiveTaskWith(loc))
      assert.strictEqual(report.status, "skipped")
      assert.isTrue(Option.isSome(yield* world.store.readRunRecord(loc)), "still in place")
      assert.strictEqual((yield* world.store.read(loc)).state, "STOPPED")
    }),
  )
})
