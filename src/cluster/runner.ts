/**
 * `codex-tasks runner`: a cluster runner for one host. It holds the shard group named by its host
 * id, answers the `Host` and `Task` entities' messages with the local `Tasks` façade (so its tasks
 * run in detached workers that outlive it), and beats a heartbeat with its running-task count
 * into Postgres, where clients pick a host and `doctor` looks for live runners.
 */
import { Effect, Layer, Schedule } from "effect"
import { redactUrl } from "../domain/notify.js"
import type { TaskJson } from "../domain/wire.js"
import { prewarmWorker } from "../launcher/prewarm.js"
import { FLEET_URL_VAR } from "../launcher/requestExtras.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks } from "../tasks/Tasks.js"
import { viewJson } from "../tasks/view.js"
import { pgLayer, runnerLayer } from "./engine.js"
import { makeOperations, type SaveSnapshots, withHost } from "./handlers.js"
import { HostEntity, TaskChangesEntity, TaskEntity, TaskWatchEntity } from "./protocol.js"
import { ensureSchema, heartbeat, saveSnapshots } from "./registry.js"
import { holdStartupLock } from "./startupLock.js"
import { usageGate } from "./usageGate.js"

/** How a runner was asked to run. */
export interface RunnerOptions<R = never> {
  readonly url: string
  readonly hostId: string
  readonly listen: { readonly host: string; readonly port: number }
  /** Where relative working directories are resolved (the runner's own directory). */
  readonly cwd: string
  /** Told once the runner serves (one line on stderr from the CLI). */
  readonly onReady: (line: string) => Effect.Effect<void, never, R>
}

const HEARTBEAT_MS = 2_000

const entities = (o: RunnerOptions<unknown>, save: SaveSnapshots) =>
  Layer.mergeAll(
    HostEntity.toLayer(
      Effect.map(makeOperations(o.hostId, o.cwd, save), (ops) =>
        HostEntity.of({
          Start: ({ payload }) => ops.start(payload),
          List: ({ payload }) => ops.list(payload.includeArchived),
        }),
      ),
      // A start waiting for a fleet-wide run slot must not hold up the host's other starts or `ls`.
      { concurrency: "unbounded" },
    ),
    TaskEntity.toLayer(
      Effect.map(makeOperations(o.hostId, o.cwd, save), (ops) =>
        TaskEntity.of({
          Send: ({ address, payload }) =>
            ops.send(taskIdOf(address.entityId), payload.key, payload.prompt, {
              maxTokens: payload.maxTokens,
              fleetMaxRunning: payload.fleetMaxRunning,
              steer: payload.steer,
              backend: payload.backend,
            }),
          Status: ({ address }) => ops.status(taskIdOf(address.entityId)),
          Log: ({ address, payload }) =>
            ops.log(taskIdOf(address.entityId), payload.offset, payload.waitMs, payload.lastLines),
          Stop: ({ address, payload }) =>
            ops.stop(taskIdOf(address.entityId), payload.afterTurn, payload.timeoutMs),
          Archive: ({ address }) => ops.archive(taskIdOf(address.entityId)),
          Answer: ({ address, payload }) => ops.answer(taskIdOf(address.entityId), payload),
        }),
      ),
      // Every message of a task at once: a long `Log` wait must not hold up a `Stop`.
      { concurrency: "unbounded" },
    ),
    TaskWatchEntity.toLayer(
      Effect.map(makeOperations(o.hostId, o.cwd, save), (ops) =>
        TaskWatchEntity.of({
          WaitTurn: ({ address, payload }) => ops.waitTurn(taskIdOf(address.entityId), payload.seq),
        }),
      ),
      { concurrency: "unbounded" },
    ),
    TaskChangesEntity.toLayer(
      Effect.map(makeOperations(o.hostId, o.cwd, save), (ops) =>
        TaskChangesEntity.of({
          Diff: ({ address, payload }) =>
            ops.changes(taskIdOf(address.entityId), payload.color, payload.patch),
        }),
      ),
      { concurrency: "unbounded" },
    ),
  )

const taskIdOf = (entityId: string) => entityId.slice(entityId.indexOf("/") + 1)

/**
 * The runner's heartbeat: every 2 s, its address and how many of its tasks run; with it, the
 * JSON of each task that changed since the last beat (`ls` shows the fleet from these snapshots,
 * marked while this host is unreachable). The first beat saves every task, archived ones too;
 * every 15th beat saves all again, in case a save was skipped for a newer one.
 */
const heartbeats = (o: RunnerOptions<unknown>) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const tasks = yield* Tasks
      const address = `${o.listen.host}:${o.listen.port}`
      let saved = new Map<string, string>()
      let beats = 0
      const beat = Effect.gen(function* () {
        const first = beats === 0
        if (beats++ % 15 === 0) saved = new Map()
        const takenAt = new Date()
        const { views } = yield* tasks.list({ includeArchived: first })
        const running = views.filter((v) => v.state === "RUNNING")
        yield* heartbeat(o.hostId, address, running.length)
        const now = new Map<string, string>(
          views.map((v) => {
            const json = withHost(viewJson(v), o.hostId)
            return [json.id, JSON.stringify(json)] as const
          }),
        )
        // A task that left the list was archived (or removed): its archived JSON, if any.
        const left = [...saved.keys()].filter((id) => !now.has(id))
        if (left.length > 0) {
          for (const v of (yield* tasks.select({ _tag: "Ids", refs: left })).views) {
            const json = withHost(viewJson(v), o.hostId)
            now.set(json.id, JSON.stringify(json))
          }
        }
        const changed = [...now].filter(([id, json]) => saved.get(id) !== json)
        yield* saveSnapshots(
          o.hostId,
          changed.map(([, json]) => JSON.parse(json) as TaskJson),
          takenAt,
        )
        for (const [id, json] of changed) saved.set(id, json)
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning("codex-tasks runner: heartbeat failed", cause),
        ),
      )
      yield* beat
      yield* Effect.forkScoped(Effect.repeat(beat, Schedule.spaced(HEARTBEAT_MS)))
    }),
  )

/** Runs the runner until interrupted (SIGINT/SIGTERM); its tasks' workers keep running. */
export const runRunner = <R>(o: RunnerOptions<R>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const db = yield* Layer.build(pgLayer(o.url))
      const runnerScope = yield* Effect.scope
      // One runner of the fleet at a time from here until its engine is built (the lock's own
      // scope ends then; what is built lives as long as the runner).
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Effect.provide(holdStartupLock, db)
          yield* Effect.provide(ensureSchema, db)
          yield* Layer.buildWithScope(
            Layer.mergeAll(
              entities(o, (tasks, at) => Effect.provide(saveSnapshots(o.hostId, tasks, at), db)),
              heartbeats(o),
              usageGate(o.hostId),
            ).pipe(
              Layer.provide(runnerLayer(o.hostId, o.listen)),
              Layer.provide(Layer.succeedContext(db)),
            ),
            runnerScope,
          )
        }),
      )
      // Workers inherit the URL (a task with a fleet-wide limit takes its slots there) and take
      // it out of their own environment before codex starts (worker/fleetSlot.ts).
      process.env[FLEET_URL_VAR] = o.url
      // A worker loaded ahead for the first start (each start prewarms the next one's).
      yield* Effect.flatMap(TaskStore, (store) =>
        Effect.sync(() => prewarmWorker(["--store-root", store.root])),
      )
      yield* o.onReady(
        `runner ${o.hostId} listening on ${o.listen.host}:${o.listen.port} (${redactUrl(o.url)})`,
      )
      return yield* Effect.never
    }),
  )

/** What the runner needs from the command's world: this host's tasks and store. */
export type RunnerContext = Tasks | TaskStore
