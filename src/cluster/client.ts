/**
 * The fleet as the commands see it with `--cluster`: pick a host, find a task's host, and send
 * the `Host` / `Task` entities their messages (client-only sharding on the same Postgres).
 */
import { randomUUID } from "node:crypto"
import type { SqlClient } from "@effect/sql/SqlClient"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { TaskJson } from "../domain/wire.js"
import type { Backend } from "../exec/options.js"
import { AmbiguousTaskId, TaskNotFound } from "../store/errors.js"
import type { ArchiveReport } from "../tasks/archive.js"
import { clientLayer, pgLayer, RunnersKnown } from "./engine.js"
import {
  type AnswerRequest,
  FleetError,
  HostEntity,
  type StartRequest,
  TaskChangesEntity,
  TaskEntity,
  TaskWatchEntity,
  taskEntityId,
} from "./protocol.js"
import { allSnapshots, type HostRow, hosts, placementsMatching, snapshotsOn } from "./registry.js"
import { whileHostLive } from "./whileLive.js"

/** A message a runner did not answer in time: its host is down, or unreachable from here. */
const ANSWER_WITHIN_MS = 60_000

/** How long `status` waits for a live host's answer before showing the task as last known. */
const STATUS_WITHIN_MS = 10_000

const unanswered = (what: string, host: string) =>
  new FleetError({
    message: `host ${host} did not answer ${what} within ${ANSWER_WITHIN_MS / 1000} s (is its runner up and reachable?)`,
    usage: false,
  })

/** What the engine gives a client: client-only sharding (entity clients need it). */
type Engine = Layer.Layer.Success<typeof clientLayer>

/** The engine's client side (client-only sharding), ready once the runners have been read. */
export class FleetEngine extends Context.Tag("codex-tasks/FleetEngine")<
  FleetEngine,
  Effect.Effect<Context.Context<Engine>>
>() {}

/**
 * When a command builds the engine: `now`, with its layers (commands that send messages:
 * measured on bench/cluster.mjs, building it on first use cost start and send ~200 ms), or
 * `on-use` (commands that mostly read Postgres, such as `ls`, and then never pay for it).
 */
export type EngineWhen = "now" | "on-use"

const engineLayer = (when: EngineWhen) =>
  Layer.scoped(
    FleetEngine,
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const db = yield* Effect.context<SqlClient>()
      const build = Layer.buildWithScope(clientLayer, scope).pipe(
        Effect.provide(db),
        Effect.tap((built) => Context.get(built, RunnersKnown)),
      )
      return when === "now" ? Effect.succeed(yield* build) : yield* Effect.cached(build)
    }),
  )

/** The layers a client command runs on: Postgres and the engine's client. */
export const fleetLayer = (url: string, when: EngineWhen = "now") =>
  engineLayer(when).pipe(Layer.provideMerge(pgLayer(url)))

/** Runs `effect` with the engine (built now if it is not yet). */
const withEngine = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(FleetEngine, (engine) =>
    Effect.flatMap(engine, (context) => Effect.provide(effect, context)),
  )

/** The engine, ready (built now if the command's layers did not build it). */
export const warmEngine = Effect.flatMap(FleetEngine, Effect.asVoid)

/** A task of the fleet: its id and its host. */
export interface Placed {
  readonly id: string
  readonly host: string
}

/** The host a new task goes to: `on` (which must have a live runner), else the least busy live one. */
export const pickHost = (on: string | undefined) =>
  Effect.gen(function* () {
    const all = yield* hosts
    const live = all.filter((h) => h.live)
    if (on !== undefined) {
      const host = all.find((h) => h.host === on)
      if (host?.live === true) return host.host
      return yield* new FleetError({
        message:
          host === undefined
            ? `No runner ever ran on host ${on} (known hosts: ${all.map((h) => h.host).join(", ") || "none"}).`
            : `Host ${on} has no live runner (last heartbeat ${host.heartbeatAt.toISOString()}).`,
        usage: false,
      })
    }
    const best = [...live].sort((a, b) => a.running - b.running || a.host.localeCompare(b.host))[0]
    if (best === undefined) {
      return yield* new FleetError({
        message: "No live runner in the fleet (start one with `codex-tasks runner`).",
        usage: false,
      })
    }
    return best.host
  })

/** The task `ref` names (its id or a unique prefix), with its host. */
export const resolveTask = (ref: string) =>
  Effect.gen(function* () {
    const rows = yield* placementsMatching(ref)
    const exact = rows.find((r) => r.task_id === ref)
    if (exact !== undefined) return { id: exact.task_id, host: exact.host } satisfies Placed
    if (rows.length === 0) return yield* new TaskNotFound({ ref })
    if (rows.length > 1) {
      return yield* new AmbiguousTaskId({ ref, candidates: rows.map((r) => r.task_id) })
    }
    const only = rows[0] as { task_id: string; host: string }
    return { id: only.task_id, host: only.host } satisfies Placed
  })

const timed = <A, E, R>(what: string, host: string, effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(effect, {
    duration: ANSWER_WITHIN_MS,
    onTimeout: () => unanswered(what, host),
  })

/** Starts a task on `host`; its id. */
export const startOn = (host: string, request: StartRequest) =>
  withEngine(
    Effect.gen(function* () {
      const client = yield* HostEntity.client
      const start = client(host).Start(request)
      // A start under a fleet-wide limit may wait long for a slot: it waits while its host is live.
      const { id } = yield* request.fleetMaxRunning === undefined
        ? timed("the start", host, start)
        : whileHostLive("the start", host, start)
      return { id, host } satisfies Placed
    }),
  )

/**
 * Sends `prompt` to the task. With its host live, returns once the runner queued it (its
 * receipt); else once the message is persisted in Postgres (`undefined`: it runs when the host's
 * runner is back). Either way it is queued once: the key makes a redelivery a no-op.
 */
export const sendTo = (
  task: Placed,
  prompt: string,
  maxTokens: number | undefined,
  fleetMaxRunning?: number | undefined,
  turn: { readonly steer?: boolean; readonly backend?: Backend | undefined } = {},
) =>
  withEngine(
    Effect.gen(function* () {
      const client = yield* TaskEntity.client
      const payload = {
        key: randomUUID(),
        prompt,
        maxTokens,
        fleetMaxRunning,
        ...(turn.steer === true ? { steer: true } : {}),
        ...(turn.backend === undefined ? {} : { backend: turn.backend }),
      }
      const entity = client(taskEntityId(task.host, task.id))
      const live = (yield* hosts).some((h) => h.host === task.host && h.live)
      if (!live) {
        yield* entity.Send(payload, { discard: true })
        return undefined
      }
      return yield* timed("the prompt", task.host, entity.Send(payload))
    }),
  )

/** The task's JSON as its runner shows it; as last known (marked) while its host is lost. */
export const statusOf = (task: Placed) =>
  Effect.gen(function* () {
    const host = (yield* hosts).find((h) => h.host === task.host)
    const lastKnown = Effect.map(
      host === undefined ? Effect.succeed([]) : lostTasks([host]),
      (known) => known.find((t) => t.id === task.id),
    )
    if (host !== undefined && !host.live) {
      const known = yield* lastKnown
      if (known !== undefined) return known
    }
    // A runner that died a moment ago still looks live: past a short wait, show the last known.
    const answer = yield* withEngine(
      Effect.flatMap(TaskEntity.client, (client) =>
        client(taskEntityId(task.host, task.id)).Status(),
      ),
    ).pipe(Effect.timeout(STATUS_WITHIN_MS), Effect.option)
    if (Option.isSome(answer)) return answer.value
    const known = yield* lastKnown
    if (known !== undefined) return known
    return yield* unanswered("a status request", task.host)
  })

const decodeTask = Schema.decodeUnknownOption(TaskJson)

/** The last known JSON of the tasks on lost hosts, each marked with when its host was last seen. */
const lostTasks = (lost: ReadonlyArray<HostRow>) =>
  Effect.map(
    snapshotsOn(lost.map((h) => h.host)),
    (rows): Array<TaskJson> =>
      rows.flatMap((r) => {
        const task = decodeTask(r.snapshot)
        const since = lost.find((h) => h.host === r.host)?.heartbeatAt
        return Option.isNone(task) || since === undefined
          ? []
          : [{ ...task.value, host: r.host, host_lost_since: since.toISOString() }]
      }),
  )

/**
 * The tasks of every host, newest first, from the snapshots their runners keep in Postgres (one
 * query, no message to any runner): the tasks of a host without a live runner are marked
 * `host_lost_since` (its last heartbeat).
 */
export const listFleet = (includeArchived: boolean) =>
  Effect.map(allSnapshots(includeArchived), (rows) => {
    const tasks: Array<TaskJson> = []
    for (const r of rows) {
      const task = decodeTask(r.snapshot)
      if (Option.isNone(task)) continue
      const lostSince = r.live ? undefined : r.heartbeatAt
      tasks.push(
        lostSince === undefined
          ? { ...task.value, host: r.host }
          : { ...task.value, host: r.host, host_lost_since: lostSince.toISOString() },
      )
    }
    return tasks
      .map((t) => ({ t, at: Date.parse(t.created_at) }))
      .sort((a, b) => b.at - a.at)
      .map(({ t }) => t)
  })

/** Fails unless the task's host has a live runner (a lost host would not answer for a minute). */
const requireLive = (task: Placed, what: string) =>
  Effect.flatMap(hosts, (all) => {
    const host = all.find((h) => h.host === task.host)
    return host?.live === true
      ? Effect.void
      : Effect.fail(
          new FleetError({
            message: `Cannot ${what} task ${task.id}: host ${task.host} is unreachable${host === undefined ? "" : ` since ${host.heartbeatAt.toISOString()}`} (no live runner).`,
            usage: false,
          }),
        )
  })

/** A chunk of the task's log from `offset` (waiting up to `waitMs` for one while it runs). */
export const logChunkOf = (
  task: Placed,
  offset: number,
  waitMs: number,
  lastLines: number | undefined,
) =>
  Effect.zipRight(
    requireLive(task, "read the log of"),
    withEngine(
      Effect.flatMap(TaskEntity.client, (client) =>
        timed(
          "a log request",
          task.host,
          client(taskEntityId(task.host, task.id)).Log({ offset, waitMs, lastLines }),
        ),
      ),
    ),
  )

/** Stops the task on its host. */
export const stopOn = (task: Placed, afterTurn: boolean, timeoutMs: number) =>
  Effect.zipRight(
    requireLive(task, "stop"),
    withEngine(
      Effect.flatMap(TaskEntity.client, (client) =>
        Effect.timeoutFail(
          client(taskEntityId(task.host, task.id)).Stop({ afterTurn, timeoutMs }),
          {
            duration: ANSWER_WITHIN_MS + timeoutMs,
            onTimeout: () => unanswered("the stop", task.host),
          },
        ),
      ),
    ),
  )

/** Archives the task on its host. */
export const archiveOn = (task: Placed) =>
  Effect.zipRight(
    requireLive(task, "archive"),
    withEngine(
      Effect.flatMap(TaskEntity.client, (client) =>
        timed("the archive", task.host, client(taskEntityId(task.host, task.id)).Archive()),
      ),
    ),
  )

/**
 * Answers the request the task waits for (`approve` / `decline`) on its live host. One key for
 * every try: a retry after the answer landed reports the same outcome.
 */
export const answerOn = (task: Placed, answer: Omit<AnswerRequest, "key">) =>
  Effect.zipRight(
    requireLive(task, "answer"),
    withEngine(
      Effect.flatMap(TaskEntity.client, (client) =>
        timed(
          "the answer",
          task.host,
          client(taskEntityId(task.host, task.id)).Answer({ key: randomUUID(), ...answer }),
        ),
      ),
    ),
  )

/** A host's answer to `Archive` as the archive report the CLI and MCP print. */
export const archiveReportOf = (
  task: Placed,
  r: Effect.Effect.Success<ReturnType<typeof archiveOn>>,
): ArchiveReport =>
  r.status === "archived"
    ? {
        id: task.id,
        status: "archived",
        dir: r.dir,
        leftoversKilled: r.leftoversKilled,
        keptIgnored: r.keptIgnored,
      }
    : r.status === "skipped"
      ? { id: task.id, status: "skipped", state: r.state }
      : { id: task.id, status: "already-archived", dir: r.dir }

/** What the task changed, as its host's `diff` computes it (`patch: false`: without the patch). */
export const changesOf = (task: Placed, color: boolean, patch: boolean) =>
  Effect.zipRight(
    requireLive(task, "diff"),
    withEngine(
      Effect.flatMap(TaskChangesEntity.client, (client) =>
        timed(
          "a diff request",
          task.host,
          client(taskEntityId(task.host, task.id)).Diff({ color, patch }),
        ),
      ),
    ),
  )

/**
 * Waits until the task's turn of inbox place `seq` (else its current or next turn) ended on its
 * host: no time limit (the user's Ctrl-C ends it).
 */
export const waitTurnOn = (task: Placed, seq: number | undefined) =>
  Effect.zipRight(
    requireLive(task, "wait for"),
    withEngine(
      Effect.flatMap(TaskWatchEntity.client, (client) =>
        client(taskEntityId(task.host, task.id)).WaitTurn({ seq }),
      ),
    ),
  )

/** Fails unless the task's host has a live runner (`what`: the refused action, for the message). */
export const requireLiveHost = requireLive
