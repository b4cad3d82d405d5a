/**
 * The fleet's messages, as `@effect/cluster` entities. A `Host` entity (id = host id) takes the
 * messages that concern a machine (start a task there, list its tasks); a `Task` entity (id =
 * `<host>/<task id>`) the messages of one task. Both are pinned to their host's runners by shard
 * group (the part of the id before the first `/`), so a message for host A only ever runs on a
 * runner started with `--host-id A`.
 */
import { ClusterSchema, Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Schema } from "effect"
import { TaskLimits } from "../domain/policy.js"
import { DiffJson, SendJson, TaskJson } from "../domain/wire.js"
import { Backend, ExecOptions } from "../exec/options.js"

/** A failure a runner reports for a message: its text, and whether it was the caller's mistake. */
export class FleetError extends Schema.TaggedError<FleetError>()("FleetError", {
  message: Schema.String,
  /** The request was wrong (exit 2, like a usage error); else an operational error (exit 1). */
  usage: Schema.Boolean,
}) {}

/** The shard group of an entity id: its host (the part before the first `/`). */
export const hostOfEntity = (entityId: string): string => entityId.split("/", 1)[0] ?? entityId

/** The entity id of a task on a host. */
export const taskEntityId = (host: string, id: string) => `${host}/${id}`

/** What `start` sends to the chosen host. */
export const StartPayload = {
  prompt: Schema.String,
  title: Schema.optional(Schema.String),
  options: ExecOptions,
  limits: Schema.optional(TaskLimits),
  repo: Schema.optional(Schema.Struct({ url: Schema.String, ref: Schema.optional(Schema.String) })),
  /** The client's `--max-running`: the task's codex invocations share this many fleet-wide slots. */
  fleetMaxRunning: Schema.optional(Schema.Number),
  /** `--worktree [--base] [--branch]`: the worktree is made of the repository on that host. */
  worktree: Schema.optional(
    Schema.Struct({ base: Schema.optional(Schema.String), branch: Schema.optional(Schema.String) }),
  ),
}
/** A start request. */
export type StartRequest = Schema.Struct.Type<typeof StartPayload>

/** Host messages: start a task on this host; list this host's tasks. */
export const HostEntity = Entity.make("CodexTasksHost", [
  Rpc.make("Start", {
    payload: StartPayload,
    success: Schema.Struct({ id: Schema.String }),
    error: FleetError,
  }),
  Rpc.make("List", {
    payload: { includeArchived: Schema.Boolean },
    success: Schema.Array(TaskJson),
    error: FleetError,
  }),
]).annotate(ClusterSchema.ShardGroup, hostOfEntity)

/** One chunk of a task's log: raw bytes from an offset, and whether the task still runs. */
export const LogChunk = Schema.Struct({
  bytes: Schema.Uint8ArrayFromSelf,
  /** Where the next read starts (`offset` + bytes read). */
  next: Schema.Number,
  running: Schema.Boolean,
})
/** A chunk of a task's log. */
export type LogChunk = typeof LogChunk.Type

/** What a stop did to the task (the local `stop`'s report). */
export const StopResult = Schema.Struct({
  status: Schema.Literal("stopped", "not-running", "killed", "unknown"),
  message: Schema.String,
})

/** What an archive did to the task (the local `archive`'s report). */
export const ArchiveResult = Schema.Struct({
  status: Schema.Literal("archived", "skipped", "already-archived"),
  dir: Schema.String,
  state: Schema.String,
  leftoversKilled: Schema.Number,
  keptIgnored: Schema.Number,
})

/**
 * `approve` / `decline`: the answer to the request the task waits for now, with the client's key
 * (a retry of the same key reports the first outcome instead of "not waiting").
 */
export const AnswerPayload = {
  key: Schema.String,
  decision: Schema.Literal("accept", "acceptForSession", "decline"),
  /** `approve --answer` (a request for input), in question order. */
  answers: Schema.optional(Schema.Array(Schema.String)),
  /** `decline --message`. */
  message: Schema.optional(Schema.String),
}
/** An answer request. */
export type AnswerRequest = Schema.Struct.Type<typeof AnswerPayload>

/** What the answer was given to: the task, and what it waited for (`input`: `approve` answered). */
export const AnswerResult = Schema.Struct({
  id: Schema.String,
  waiting: Schema.optional(Schema.String),
})

/**
 * Task messages. `Send` is persisted (kept in Postgres until the runner answered, redelivered
 * after a crash) and carries the client's key: the runner turns a redelivery into the receipt it
 * gave the first time, so every accepted prompt is queued, and therefore run, once (a steer
 * joins the turn or is queued once). `Answer` is not persisted: an approval answers the request
 * pending when it arrives, so one that cannot reach the host fails instead of landing later on
 * another request; its key makes a retry report the first outcome.
 */
export const TaskEntity = Entity.make("CodexTasksTask", [
  Rpc.make("Send", {
    payload: {
      key: Schema.String,
      prompt: Schema.String,
      maxTokens: Schema.optional(Schema.Number),
      /** The client's `--max-running`, for a worker this prompt launches (fleet-wide slots). */
      fleetMaxRunning: Schema.optional(Schema.Number),
      /** `send --steer`: join the turn in flight (app-server tasks), else queue as usual. */
      steer: Schema.optional(Schema.Boolean),
      /** `send --backend`: run this and every later turn on this backend. */
      backend: Schema.optional(Backend),
    },
    success: SendJson,
    error: FleetError,
    primaryKey: (p) => p.key,
  }).annotate(ClusterSchema.Persisted, true),
  Rpc.make("Status", { success: TaskJson, error: FleetError }),
  Rpc.make("Log", {
    payload: {
      offset: Schema.Number,
      /** Wait this long for more bytes when there are none yet and the task runs (0: answer at once). */
      waitMs: Schema.Number,
      /** With `offset` 0: start at the last N lines instead. */
      lastLines: Schema.optional(Schema.Number),
    },
    success: LogChunk,
    error: FleetError,
  }),
  Rpc.make("Stop", {
    payload: { afterTurn: Schema.Boolean, timeoutMs: Schema.Number },
    success: StopResult,
    error: FleetError,
  }),
  Rpc.make("Archive", { success: ArchiveResult, error: FleetError }),
  Rpc.make("Answer", {
    payload: AnswerPayload,
    success: AnswerResult,
    error: FleetError,
  }),
]).annotate(ClusterSchema.ShardGroup, hostOfEntity)

/** What a task changed, as its host computes it (`diff`; `apply` applies it on the client's side). */
export const ChangesAnswer = Schema.Struct({
  diff: DiffJson,
  title: Schema.NullOr(Schema.String),
})

/**
 * A task's changes (id = `<host>/<task id>`, pinned to its host like `TaskEntity`): `Diff` is the
 * host's `diff` of the task, coloured when the client's terminal wants colour, the patch left out
 * with `patch: false` (`--stat`).
 */
export const TaskChangesEntity = Entity.make("CodexTasksTaskChanges", [
  Rpc.make("Diff", {
    payload: { color: Schema.Boolean, patch: Schema.Boolean },
    success: ChangesAnswer,
    error: FleetError,
  }),
]).annotate(ClusterSchema.ShardGroup, hostOfEntity)

/** How the turn a client waits for ended (`start/send --wait`), and the task then. */
export const TurnEndAnswer = Schema.Struct({
  /** The turn gave a final answer. */
  answered: Schema.Boolean,
  /** The prompt never ran: a stop dropped it. */
  dropped: Schema.Boolean,
  task: TaskJson,
})

/**
 * Waiting on a task (id = `<host>/<task id>`, pinned to its host): `WaitTurn` answers once the
 * turn of inbox place `seq` (without it: the current or next turn) has ended on the host.
 */
export const TaskWatchEntity = Entity.make("CodexTasksTaskWatch", [
  Rpc.make("WaitTurn", {
    payload: { seq: Schema.optional(Schema.Number) },
    success: TurnEndAnswer,
    error: FleetError,
  }),
]).annotate(ClusterSchema.ShardGroup, hostOfEntity)
