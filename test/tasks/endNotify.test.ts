import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import type { WorkerRequest } from "../../src/launcher/protocol.js"
import { WorkerLauncher } from "../../src/launcher/WorkerLauncher.js"
import type { Processes } from "../../src/processes/Processes.js"
import {
  claimDone,
  claimNotification,
  type NotifyEvent,
  readClaim,
} from "../../src/store/notifyClaim.js"
import type { TaskLocation, TaskStore } from "../../src/store/TaskStore.js"
import { archiveTaskWith } from "../../src/tasks/archive.js"
import { listTasks, selectTasks, waitForTasks } from "../../src/tasks/queries.js"
import { stopTask } from "../../src/tasks/stop.js"
import { notifyOnly } from "../../src/worker/Worker.js"
import {
  type FakeWorld,
  joinAdvancing,
  makeFakeWorld,
  taskId,
  taskWithWorker,
} from "../support/fakeWorld.js"
import { realTick } from "../support/workerHarness.js"

// Issue 20: the ends a worker cannot notify (lost to SIGKILL/OOM, killed by a stop) are notified
// by whoever sees them first, once; `status --wait` and `archive` wait for a notification that runs.

type Notify = Extract<WorkerRequest, { _tag: "Notify" }>

/** A launcher that records the notifiers it is asked to start (they answer at once). */
const recordingLauncher = () => {
  const started: Array<Notify> = []
  const launcher = WorkerLauncher.of({
    launch: (request) =>
      Effect.sync(() => {
        if (request._tag === "Notify") started.push(request)
        return {
          pid: 7000 + started.length,
          handshake: Effect.succeed({ _tag: "Accepted" as const, id: "x" }),
        }
      }),
  })
  return { started, launcher }
}

const withNotify = (world: FakeWorld, loc: TaskLocation, onFinish: string) =>
  world.store.update(loc, (m) => ({ ...m, notify: { on_finish: onFinish } }))

describe("a worker killed outright (SIGKILL, OOM)", () => {
  it.scoped("the first command that sees it lost starts the notifier, once per run", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, {
        id: taskId(1),
        workerPid: 5000,
        runId: "run-1",
      })
      yield* withNotify(world, loc, "true")
      yield* world.fake.exit(5000)
      const { started, launcher } = recordingLauncher()
      const observe = <A, E>(effect: Effect.Effect<A, E, TaskStore | Processes | WorkerLauncher>) =>
        world.provide(Effect.provideService(effect, WorkerLauncher, launcher))
      // `ls`, `status ID`, `status --wait` and a second `ls`: four observers, one notification.
      yield* observe(listTasks({ includeArchived: false }))
      yield* observe(selectTasks({ _tag: "Ids", refs: [loc.id] }))
      yield* observe(waitForTasks([loc], "all"))
      yield* observe(listTasks({ includeArchived: false }))
      assert.deepStrictEqual(started, [
        {
          _tag: "Notify",
          storeRoot: world.root,
          taskId: loc.id,
          runId: "run-1",
          event: "worker_lost",
        },
      ])
      assert.strictEqual(Option.getOrThrow(readClaim(loc.dir, "run-1")).event, "worker_lost")
    }),
  )

  it.scoped("a task without notifications claims nothing", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, {
        id: taskId(2),
        workerPid: 5000,
        runId: "run-1",
      })
      yield* world.fake.exit(5000)
      const { started, launcher } = recordingLauncher()
      yield* world.provide(
        Effect.provideService(listTasks({ includeArchived: false }), WorkerLauncher, launcher),
      )
      assert.deepStrictEqual(started, [])
      assert.isTrue(Option.isNone(readClaim(loc.dir, "run-1")))
    }),
  )

  it.scoped("stop, finding the worker lost, notifies", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, {
        id: taskId(3),
        workerPid: 5000,
        runId: "run-1",
      })
      yield* withNotify(world, loc, "true")
      yield* world.fake.exit(5000)
      const { started, launcher } = recordingLauncher()
      yield* world.provide(
        Effect.provideService(stopTask(loc, false, 1_000), WorkerLauncher, launcher),
      )
      assert.deepStrictEqual(
        started.map((s) => [s.runId, s.event]),
        [["run-1", "worker_lost"]],
      )
    }),
  )
})

describe("a stop that had to kill the worker", () => {
  it.scoped("notifies with event killed, claimed before the task leaves RUNNING", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, {
        id: taskId(4),
        workerPid: 5000,
        runId: "run-1",
        worker: { ignores: ["SIGTERM"] },
      })
      yield* withNotify(world, loc, "true")
      const { started, launcher } = recordingLauncher()
      const stopping = yield* Effect.fork(
        world.provide(Effect.provideService(stopTask(loc, false, 1_000), WorkerLauncher, launcher)),
      )
      const report = yield* joinAdvancing(stopping)
      assert.strictEqual(report.status, "killed")
      assert.deepStrictEqual(
        started.map((s) => [s.runId, s.event]),
        [["run-1", "killed"]],
      )
      // A later observer does not notify it again (the task is STOPPED, the run claimed).
      yield* world.provide(
        Effect.provideService(listTasks({ includeArchived: false }), WorkerLauncher, launcher),
      )
      assert.strictEqual(started.length, 1)
    }),
  )
})

describe("the notifier (Notify request)", () => {
  it.scoped("runs the hook with the event and the state the user sees, then closes the claim", () =>
    Effect.gen(function* () {
      const world = yield* makeFakeWorld
      const { loc } = yield* taskWithWorker(world, {
        id: taskId(5),
        workerPid: 5000,
        runId: "run-1",
      })
      const out = join(loc.dir, "hook.out")
      yield* withNotify(
        world,
        loc,
        `echo "$CODEX_TASKS_EVENT $CODEX_TASKS_STATE $CODEX_TASKS_OUTCOME" > "${out}"`,
      )
      assert.isTrue(yield* claimNotification(loc.dir, "run-1", "worker_lost", undefined))
      const request = {
        _tag: "Notify",
        storeRoot: world.root,
        taskId: loc.id,
        runId: "run-1",
        event: "worker_lost" as NotifyEvent,
      } as const
      let answered: string | undefined
      yield* world.provide(
        notifyOnly(
          request,
          (h) =>
            Effect.sync(() => {
              answered = h._tag
            }),
          { pid: 7001, startTime: "1" },
        ),
      )
      assert.strictEqual(answered, "Accepted")
      assert.strictEqual(readFileSync(out, "utf8"), "worker_lost DIED worker_lost\n")
      const claim = Option.getOrThrow(readClaim(loc.dir, "run-1"))
      assert.isString(claim.done_at)
      assert.strictEqual(claim.owner?.pid, 7001)
      const log = readFileSync(world.store.logPath(loc), "utf8")
      assert.include(log, '"type":"notification"')
    }),
  )
})

describe("a notification that is still running", () => {
  const notifying = Effect.gen(function* () {
    const world = yield* makeFakeWorld
    const { loc } = yield* taskWithWorker(world, {
      id: taskId(6),
      state: "STOPPED",
      workerPid: 5000,
      runId: "run-1",
    })
    yield* withNotify(world, loc, "true")
    // The worker finished the task (its record is gone) and runs the notification.
    yield* world.store.clearWorker(loc)
    const notifier = yield* world.fake.spawn({ pid: 5000 + 1, command: "node __worker" })
    assert.isTrue(yield* claimNotification(loc.dir, "run-1", "finished", notifier))
    return { world, loc }
  })

  it.scoped("status --wait reports the task finished only once it is done", () =>
    Effect.gen(function* () {
      const { world, loc } = yield* notifying
      const waiting = yield* Effect.fork(world.provide(waitForTasks([loc], "all")))
      yield* realTick(50)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* realTick(50)
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)), "the wait returned while notifying")
      yield* claimDone(loc.dir, "run-1")
      const [view] = yield* joinAdvancing(waiting)
      assert.strictEqual(view?.state, "STOPPED")
    }),
  )

  it.scoped("archive waits for it, so its log entry and the result stay where it writes them", () =>
    Effect.gen(function* () {
      const { world, loc } = yield* notifying
      const archiving = yield* Effect.fork(world.provide(archiveTaskWith(loc)))
      yield* realTick(50)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* realTick(50)
      assert.isTrue(Option.isNone(yield* Fiber.poll(archiving)), "archived while notifying")
      assert.isTrue(existsSync(join(loc.dir, "task.json")), "the task is still in place")
      yield* claimDone(loc.dir, "run-1")
      const report = yield* joinAdvancing(archiving)
      assert.strictEqual(report.status, "archived")
    }),
  )
})
