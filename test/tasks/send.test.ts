import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Schema, TestClock } from "effect"
import { TaskMeta } from "../../src/domain/task.js"
import type { WorkerRequest } from "../../src/launcher/protocol.js"
import { WorkerLauncher } from "../../src/launcher/WorkerLauncher.js"
import * as ProcessesLive from "../../src/processes/live.js"
import { TaskStore } from "../../src/store/TaskStore.js"
import { readWorkerIdentity } from "../../src/store/workerFiles.js"
import { Tasks, TasksConfig } from "../../src/tasks/Tasks.js"

// `Tasks.send` in-process: a real store, and a launcher that takes a while to start its worker
// (on the TestClock) and records what it launched.

const tempRoot = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ct-send-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

describe("Tasks.send", () => {
  it.scoped("an interrupted send never strands its prompt without a worker", () =>
    Effect.gen(function* () {
      const root = join(yield* tempRoot, "store")
      const launched: Array<WorkerRequest> = []
      const entered = yield* Deferred.make<void>()
      const launcher = Layer.succeed(WorkerLauncher, {
        launch: (request) =>
          Effect.gen(function* () {
            yield* Deferred.succeed(entered, undefined)
            yield* Effect.sleep("2 seconds") // spawning the worker process
            launched.push(request)
            return {
              pid: process.pid,
              handshake: Effect.succeed({ _tag: "Accepted", id: "t" } as const),
            }
          }),
      })
      const storeLayer = TaskStore.layer(root)
      const layer = Tasks.Default.pipe(
        Layer.provideMerge(storeLayer),
        Layer.provide(launcher),
        Layer.provide(TasksConfig.layer("codex")),
        Layer.provide(ProcessesLive.layer),
      )
      const store = yield* Effect.provide(TaskStore, storeLayer)
      const loc = yield* store.create(
        Schema.decodeUnknownSync(TaskMeta)({
          id: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6d",
          state: "STOPPED",
          created_at: "2026-11-26T20:01:47.000Z",
          updated_at: "2026-11-26T20:01:47.000Z",
          schema_version: 1,
        }),
      )

      const send = yield* Effect.fork(
        Effect.provide(
          Effect.flatMap(Tasks, (t) => t.send(loc.id, "do not lose me")),
          layer,
        ),
      )
      yield* Deferred.await(entered)
      // Ctrl-C (or an MCP cancel) while the worker is being launched.
      const interrupting = yield* Effect.fork(Fiber.interrupt(send))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(interrupting)

      const queued = yield* store.inboxPending(loc)
      const worker = readWorkerIdentity(loc.dir)
      assert.deepStrictEqual(
        queued.map((e) => e.prompt),
        ["do not lose me"],
      )
      assert.strictEqual(launched.length, 1, "the queued prompt has its worker")
      assert.strictEqual(worker?.pid, process.pid, "and the worker is recorded")
      assert.strictEqual((yield* store.read(loc)).state, "RUNNING")
    }),
  )

  it.scoped("a send to a task whose worker died waiting for a slot does not show it waiting", () =>
    Effect.gen(function* () {
      const root = join(yield* tempRoot, "store")
      const launcher = Layer.succeed(WorkerLauncher, {
        launch: () =>
          Effect.succeed({
            pid: process.pid,
            handshake: Effect.succeed({ _tag: "Accepted", id: "t" } as const),
          }),
      })
      const storeLayer = TaskStore.layer(root)
      const layer = Tasks.Default.pipe(
        Layer.provideMerge(storeLayer),
        Layer.provide(launcher),
        Layer.provide(TasksConfig.layer("codex")),
        Layer.provide(ProcessesLive.layer),
      )
      const store = yield* Effect.provide(TaskStore, storeLayer)
      // What a worker SIGKILLed during a slot wait leaves: the task stored RUNNING, waiting.
      const loc = yield* store.create(
        Schema.decodeUnknownSync(TaskMeta)({
          id: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6e",
          state: "RUNNING",
          created_at: "2026-11-26T20:01:47.000Z",
          updated_at: "2026-11-26T20:01:47.000Z",
          schema_version: 1,
          waiting: { for: "slot", since: "2026-11-26T20:02:00.000Z" },
        }),
      )
      const receipt = yield* Effect.provide(
        Effect.flatMap(Tasks, (t) => t.send(loc.id, "again")),
        layer,
      )
      assert.strictEqual(receipt.status, "started")
      const meta = yield* store.read(loc)
      assert.strictEqual(meta.state, "RUNNING")
      // The new worker has not waited for anything (yet): status must not say "Waiting".
      assert.isUndefined(meta.waiting)
    }),
  )

  it.scoped("a send that finds the worker lost has its end notified, then resumes (issue 20)", () =>
    Effect.gen(function* () {
      const root = join(yield* tempRoot, "store")
      const launched: Array<WorkerRequest> = []
      const launcher = Layer.succeed(WorkerLauncher, {
        launch: (request) =>
          Effect.sync(() => {
            launched.push(request)
            return {
              pid: process.pid,
              handshake: Effect.succeed({ _tag: "Accepted", id: "t" } as const),
            }
          }),
      })
      const storeLayer = TaskStore.layer(root)
      const layer = Tasks.Default.pipe(
        Layer.provideMerge(storeLayer),
        Layer.provide(launcher),
        Layer.provide(TasksConfig.layer("/abs/codex")),
        Layer.provide(ProcessesLive.layer),
      )
      const store = yield* Effect.provide(TaskStore, storeLayer)
      // Stored RUNNING, its worker gone (no worker record), its last run known.
      const loc = yield* store.create(
        Schema.decodeUnknownSync(TaskMeta)({
          id: "0199d7c2-5b7e-7a31-9c2e-3f1d2a4b5c6e",
          state: "RUNNING",
          created_at: "2026-11-26T20:01:47.000Z",
          updated_at: "2026-11-26T20:01:47.000Z",
          schema_version: 1,
          notify: { on_finish: "true" },
        }),
      )
      yield* store.writeRunRecord(loc, "lost-run")
      yield* Effect.provide(
        Effect.flatMap(Tasks, (t) => t.send(loc.id, "go on")),
        layer,
      )
      assert.deepStrictEqual(
        launched.map((r) => (r._tag === "Notify" ? `Notify ${r.event} ${r.runId}` : r._tag)),
        ["Resume", "Notify worker_lost lost-run"],
      )
    }),
  )
})
