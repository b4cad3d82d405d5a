/**
 * `codex-tasks runner`: a cluster runner for one host. It holds the shard group named by its host
 * id, answers the `Host` and `Task` entities' messages with the local `Tasks` façade (so its tasks
 * run in detached workers that outlive it), and beats a heartbeat with its running-task count
 * into Postgres, where clients pick a host and `doctor` looks for live runners.
 */
import { Effect, Layer, Schedule } from "effect"
import { redactUrl } from "../domain/notify.js"
import { prewarmWorker } from "../launcher/prewarm.js"
import { FLEET_URL_VAR } from "../launcher/requestExtras.js"
import { TaskStore } from "../store/TaskStore.js"
import { Tasks } from "../tasks/Tasks.js"
import { viewJson } from "../tasks/view.js"
import { pgLayer, runnerLayer } from "./engine.js"
import { makeOperations, withHost } from "./handlers.js"
import { HostEntity, TaskEntity } from "./protocol.js"
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

const entities = (o: RunnerOptions<unknown>) =>
  Layer.mergeAll(
    HostEntity.toLayer(
      Effect.map(makeOperations(o.hostId, o.cwd), (ops) =>
        HostEntity.of({
          Start: ({ payload }) => ops.start(payload),
          List: ({ payload }) => ops.list(payload.includeArchived),
        }),
      ),
      // A start waiting for a fleet-wide run slot must not hold up the host's other starts or `ls`.
      { concurrency: "unbounded" },
    ),
    TaskEntity.toLayer(
      Effect.map(makeOperations(o.hostId, o.cwd), (ops) =>
        TaskEntity.of({
          Send: ({ address, payload }) =>
            ops.send(
              taskIdOf(address.entityId),
              payload.key,
              payload.prompt,
              payload.maxTokens,
              payload.fleetMaxRunning,
            ),
          Status: ({ address }) => ops.status(taskIdOf(address.entityId)),
          Log: ({ address, payload }) =>
            ops.log(taskIdOf(address.entityId), payload.offset, payload.waitMs, payload.lastLines),
          Stop: ({ address, payload }) =>
            ops.stop(taskIdOf(address.entityId), payload.afterTurn, payload.timeoutMs),
          Archive: ({ address }) => ops.archive(taskIdOf(address.entityId)),
        }),
      ),
      // Every message of a task at once: a long `Log` wait must not hold up a `Stop`.
      { concurrency: "unbounded" },
    ),
  )

const taskIdOf = (entityId: string) => entityId.slice(entityId.indexOf("/") + 1)

/**
 * The runner's heartbeat: every 2 s, its address and how many of its tasks run; with it, the
 * JSON of its running tasks and of those that stopped since (every 10th beat: of all its tasks),
 * which clients show, marked, while this host is unreachable.
 */
const heartbeats = (o: RunnerOptions<unknown>) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const tasks = yield* Tasks
      const address = `${o.listen.host}:${o.listen.port}`
      let wasRunning = new Set<string>()
      let beats = 0
      const beat = Effect.gen(function* () {
        const everything = beats++ % 10 === 0
        const { views } = yield* tasks.list({
          includeArchived: false,
          ...(everything ? {} : { states: ["RUNNING"] as const }),
        })
        const running = views.filter((v) => v.state === "RUNNING")
        yield* heartbeat(o.hostId, address, running.length)
        const now = new Set(running.map((v) => String(v.loc.id)))
        const left = [...wasRunning].filter((id) => !now.has(id))
        wasRunning = now
        const ended =
          left.length === 0 || everything
            ? []
            : (yield* tasks.select({ _tag: "Ids", refs: left })).views
        yield* saveSnapshots(
          [...(everything ? views : running), ...ended].map((v) => withHost(viewJson(v), o.hostId)),
        )
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
            Layer.mergeAll(entities(o), heartbeats(o), usageGate(o.hostId)).pipe(
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
