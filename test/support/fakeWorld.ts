import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Duration, Effect, Fiber, Layer, Option, Schema, TestClock } from "effect"
import { TaskMeta } from "../../src/domain/task.js"
import { RUN_MARKER_VAR } from "../../src/processes/Processes.js"
import { StoreRoot, type TaskLocation, TaskStore } from "../../src/store/TaskStore.js"
import { type FakeProcesses, makeFakeProcesses } from "../../src/testing/ProcessesFake.js"

/** A real store in a temp directory whose processes live in a fake table. */
export interface FakeWorld {
  readonly root: string
  readonly store: TaskStore
  readonly fake: FakeProcesses
  /** `store` and `fake` as services, for the code under test. */
  readonly provide: <A, E>(
    effect: Effect.Effect<A, E, TaskStore | import("../../src/processes/Processes.js").Processes>,
  ) => Effect.Effect<A, E>
}

/** Builds a `FakeWorld`, removed with the scope. */
export const makeFakeWorld = Effect.gen(function* () {
  const base = yield* Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "ct-fake-"))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
  )
  const root = join(base, "store")
  const fake = yield* makeFakeProcesses()
  const store = yield* Effect.provide(
    TaskStore,
    TaskStore.DefaultWithoutDependencies.pipe(
      Layer.provide(Layer.succeed(StoreRoot, root)),
      Layer.provide(fake.layer),
    ),
  )
  const provide = <A, E>(
    effect: Effect.Effect<A, E, TaskStore | import("../../src/processes/Processes.js").Processes>,
  ) => effect.pipe(Effect.provideService(TaskStore, store), Effect.provide(fake.layer))
  return { root, store, fake, provide } satisfies FakeWorld
})

/** Task ids shaped like codex thread ids. */
export const taskId = (n: number) => `0199d7c2-0000-7000-8000-${String(n).padStart(12, "0")}`

/**
 * A task as its worker leaves it while it runs: `task.json` in `state`, `worker.json` naming a
 * fake worker (pid `workerPid`, its spec extended by `worker`), `run.json` with marker `runId`.
 */
export const taskWithWorker = (
  world: FakeWorld,
  options: {
    readonly id: string
    readonly state?: TaskMeta["state"]
    readonly workerPid: number
    readonly runId: string
    readonly worker?: Omit<Parameters<FakeProcesses["spawn"]>[0], "pid">
  },
) =>
  Effect.gen(function* () {
    const meta = Schema.decodeUnknownSync(TaskMeta)({
      id: options.id,
      state: options.state ?? "RUNNING",
      created_at: "2025-10-12T09:15:02.412Z",
      updated_at: "2025-10-12T09:15:02.412Z",
    })
    const loc: TaskLocation = yield* world.store.create(meta)
    const worker = yield* world.fake.spawn({
      command: "node codex-tasks __worker",
      ...options.worker,
      pid: options.workerPid,
    })
    yield* world.store.writeWorker(loc, worker)
    yield* world.store.writeRunRecord(loc, options.runId)
    return { loc, worker }
  })

/** A fake codex (and command) of run `runId`, child of `ppid`. */
export const fakeRunProcess = (
  world: FakeWorld,
  pid: number,
  runId: string | undefined,
  command: string,
  ppid = 1,
) =>
  world.fake.spawn({
    pid,
    ppid,
    command,
    ...(runId === undefined ? {} : { env: { [RUN_MARKER_VAR]: runId } }),
  })

/**
 * Moves the TestClock forward in `step`s until `fiber` is done (at most `max` steps), letting
 * real file I/O proceed in between; returns the fiber's result.
 */
export const joinAdvancing = <A, E>(
  fiber: Fiber.Fiber<A, E>,
  step: Duration.DurationInput = "100 millis",
  max = 600,
) =>
  Effect.gen(function* () {
    for (let i = 0; i < max; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })
