import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { renderStatus } from "../../src/render/status.js"
import { makeStyle } from "../../src/render/style.js"
import type { TaskLocation } from "../../src/store/TaskStore.js"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import { archiveTaskWith } from "../../src/tasks/archive.js"
import { withLeftovers } from "../../src/tasks/leftovers.js"
import { selectTasks } from "../../src/tasks/queries.js"
import { stopTask } from "../../src/tasks/stop.js"
import { viewJson } from "../../src/tasks/view.js"
import {
  type FakeWorld,
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

describe("leftovers of a worker that was killed outright", () => {
  // The worker is gone; run.json names its marker and the processes its runs started. Pid 6001
  // dropped the marker, 6002 carries it, 6003 is a recycled pid (same number, another process).
  const lostTask = (n: number, state: "DIED" | "STOPPED" | "RUNNING") =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc, worker } = yield* taskWithWorker(world, {
        id: taskId(n),
        state,
        workerPid: 5000,
        runId: "lost-run",
      })
      const unmarked = yield* fakeRunProcess(world, 6001, undefined, "sleep 300")
      yield* fakeRunProcess(world, 6002, "lost-run", "codex exec --json")
      const recycled = yield* world.fake.spawn({ pid: 6003, command: "someone else's" })
      yield* world.store.recordRunProcesses(loc, "lost-run", [unmarked, recycled])
      yield* world.fake.exit(worker.pid)
      yield* world.fake.exit(recycled.pid)
      yield* world.fake.spawn({ pid: 6003, command: "someone else's", startTime: "99999" })
      return { world, loc }
    })

  const killedPids = (world: FakeWorld) =>
    Effect.map(world.fake.signals, (signals) =>
      signals.filter((s) => s.signal === "SIGKILL").map((s) => s.pid),
    )

  it.scoped("stop on a DIED task ends them (unmarked ones too), never a recycled pid", () =>
    Effect.gen(function* () {
      const { world, loc } = yield* lostTask(4, "DIED")
      const report = yield* world.provide(stopTask(loc, false, 1_000))
      assert.strictEqual(report.status, "killed")
      assert.include((report as { message: string }).message, "killed 2 leftover process(es)")
      assert.sameMembers(yield* killedPids(world), [6001, 6002])
      assert.deepStrictEqual(yield* world.fake.alive, [6003])
    }),
  )

  it.scoped("archive ends them before the move", () =>
    Effect.gen(function* () {
      const { world, loc } = yield* lostTask(5, "STOPPED")
      const report = yield* world.provide(archiveTaskWith(loc))
      assert.strictEqual(report.status, "archived")
      assert.strictEqual((report as { leftoversKilled?: number }).leftoversKilled, 2)
      assert.sameMembers(yield* killedPids(world), [6001, 6002])
    }),
  )

  it.scoped("status lists them (human and JSON) for a task whose worker is gone", () =>
    Effect.gen(function* () {
      const { world, loc } = yield* lostTask(6, "RUNNING")
      const { views } = yield* world.provide(selectTasks({ _tag: "Ids", refs: [loc.id] }))
      const [view] = yield* world.provide(withLeftovers(views))
      assert.strictEqual(view?.state, "DIED")
      assert.sameDeepMembers(
        [...(view?.leftovers ?? [])],
        [
          { pid: 6001, command: "sleep 300" },
          { pid: 6002, command: "codex exec --json" },
        ],
      )
      assert.lengthOf(viewJson(view!).leftover_processes ?? [], 2)
      const text = renderStatus(view!, "iso", makeStyle(false))
      assert.include(text, `Leftover Processes: 2 still running from its last worker`)
      assert.include(text, "  6001 sleep 300")
      assert.deepStrictEqual(yield* world.fake.signals, [], "status only looks")
    }),
  )
})

describe("stop of a task that has already ended", () => {
  it.scoped(
    "whose worker is still on its way out: the task was not running (the worker ends)",
    () =>
      Effect.gen(function* () {
        const world = yield* makeFakeWorld
        const { loc, worker } = yield* taskWithWorker(world, {
          id: taskId(7),
          state: "STOPPED",
          workerPid: 5070,
          runId: "r",
        })
        const report = yield* world.provide(stopTask(loc, false, 30_000))
        assert.deepStrictEqual(report, { id: loc.id, status: "not-running" })
        assert.notInclude(yield* world.fake.alive, worker.pid, "the worker was still ended")
      }),
  )
})
