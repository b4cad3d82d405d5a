/**
 * The fleet as the commands see it with `--cluster`: pick a host, find a task's host, and send
 * the `Host` / `Task` entities their messages (client-only sharding on the same Postgres).
 */
import { randomUUID } from "node:crypto"
import { Effect, Layer } from "effect"
import type { TaskJson } from "../domain/wire.js"
import { AmbiguousTaskId, TaskNotFound } from "../store/errors.js"
import { clientLayer, pgLayer } from "./engine.js"
import { FleetError, HostEntity, type StartRequest, TaskEntity, taskEntityId } from "./protocol.js"
import { type HostRow, hosts, placementsMatching } from "./registry.js"

/** A message a runner did not answer in time: its host is down, or unreachable from here. */
const ANSWER_WITHIN_MS = 60_000

const unanswered = (what: string, host: string) =>
  new FleetError({
    message: `host ${host} did not answer ${what} within ${ANSWER_WITHIN_MS / 1000} s (is its runner up and reachable?)`,
    usage: false,
  })

/** The layers a client command runs on: Postgres and client-only sharding. */
export const fleetLayer = (url: string) => clientLayer.pipe(Layer.provideMerge(pgLayer(url)))

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
  Effect.gen(function* () {
    const client = yield* HostEntity.client
    const { id } = yield* timed("the start", host, client(host).Start(request))
    return { id, host } satisfies Placed
  })

/**
 * Sends `prompt` to the task. With its host live, returns once the runner queued it (its
 * receipt); else once the message is persisted in Postgres (`undefined`: it runs when the host's
 * runner is back). Either way it is queued once: the key makes a redelivery a no-op.
 */
export const sendTo = (task: Placed, prompt: string, maxTokens: number | undefined) =>
  Effect.gen(function* () {
    const client = yield* TaskEntity.client
    const payload = { key: randomUUID(), prompt, maxTokens }
    const entity = client(taskEntityId(task.host, task.id))
    const live = (yield* hosts).some((h) => h.host === task.host && h.live)
    if (!live) {
      yield* entity.Send(payload, { discard: true })
      return undefined
    }
    return yield* timed("the prompt", task.host, entity.Send(payload))
  })

/** The task's JSON as its runner shows it. */
export const statusOf = (task: Placed) =>
  Effect.flatMap(TaskEntity.client, (client) =>
    timed("a status request", task.host, client(taskEntityId(task.host, task.id)).Status()),
  )

/** The tasks of every live host, newest first; the hosts without a live runner apart. */
export const listFleet = (includeArchived: boolean) =>
  Effect.gen(function* () {
    const client = yield* HostEntity.client
    const all = yield* hosts
    const lists = yield* Effect.forEach(
      all.filter((h) => h.live),
      (h) => timed("a list request", h.host, client(h.host).List({ includeArchived })),
      { concurrency: "unbounded" },
    )
    const tasks: Array<TaskJson> = lists.flat()
    tasks.sort((a, b) => b.created_at.localeCompare(a.created_at))
    return { tasks, lost: all.filter((h): h is HostRow => !h.live) }
  })

/** A chunk of the task's log from `offset` (waiting up to `waitMs` for one while it runs). */
export const logChunkOf = (
  task: Placed,
  offset: number,
  waitMs: number,
  lastLines: number | undefined,
) =>
  Effect.flatMap(TaskEntity.client, (client) =>
    timed(
      "a log request",
      task.host,
      client(taskEntityId(task.host, task.id)).Log({ offset, waitMs, lastLines }),
    ),
  )

/** Stops the task on its host. */
export const stopOn = (task: Placed, afterTurn: boolean, timeoutMs: number) =>
  Effect.flatMap(TaskEntity.client, (client) =>
    Effect.timeoutFail(client(taskEntityId(task.host, task.id)).Stop({ afterTurn, timeoutMs }), {
      duration: ANSWER_WITHIN_MS + timeoutMs,
      onTimeout: () => unanswered("the stop", task.host),
    }),
  )

/** Archives the task on its host. */
export const archiveOn = (task: Placed) =>
  Effect.flatMap(TaskEntity.client, (client) =>
    timed("the archive", task.host, client(taskEntityId(task.host, task.id)).Archive()),
  )
