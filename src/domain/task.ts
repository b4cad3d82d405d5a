import { Schema } from "effect"
import { TaskLimits } from "./policy.js"
import { TaskId } from "./taskId.js"

/** Lifecycle states, stored upper-case exactly like the Rust tool. */
export const TaskState = Schema.Literal("RUNNING", "STOPPED", "DIED", "ARCHIVED")
/** A task state. */
export type TaskState = typeof TaskState.Type

/** The stored state; the proto era's `IDLE` reads as `STOPPED` (and is written back as such). */
export const StoredTaskState = Schema.transform(
  Schema.Literal("RUNNING", "STOPPED", "DIED", "ARCHIVED", "IDLE"),
  TaskState,
  {
    strict: true,
    decode: (s) => (s === "IDLE" ? "STOPPED" : s),
    encode: (s) => s,
  },
)

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/

/** An RFC 3339 timestamp string (0-9 fractional digits accepted; we write ISO with ms). */
export const Timestamp = Schema.String.pipe(
  Schema.pattern(RFC3339, { message: () => "expected an RFC 3339 timestamp" }),
).annotations({ identifier: "timestamp", description: "RFC 3339, as stored." })

/** The current time as a timestamp (`toISOString`, millisecond precision, UTC). */
export const nowTimestamp = (): string => new Date().toISOString()

/** Milliseconds since the epoch of an RFC 3339 timestamp (sub-ms digits truncated); NaN if invalid. */
export const timestampMillis = (ts: string): number => {
  const m = RFC3339.exec(ts)
  if (m === null) return Number.NaN
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const ms = Number((frac ?? "").padEnd(3, "0").slice(0, 3))
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)
  if (zone === undefined || zone === "Z" || zone === "z") return utc
  const sign = zone.startsWith("-") ? -1 : 1
  const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000
  return utc - sign * offset
}

// Unknown keys are kept by an index signature so a read → modify → write cycle preserves fields
// written by newer versions of this tool or by other tools.
const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })
// The Rust tool may serialize an absent optional as `null`: read it as absent.
const optionalString = Schema.optionalWith(Schema.String, { nullable: true })
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/**
 * The `codex exec` options replayed on every resume of the task, as stored (snake_case): kept as
 * written (unknown keys too) and decoded by `ExecOptions` (exec/options.ts) where they are used.
 */
export const StoredExecOptions = Rest
/** Stored exec options. */
export type StoredExecOptions = typeof StoredExecOptions.Type

const outcomeCase = <K extends string, F extends Schema.Struct.Fields>(kind: K, fields: F) =>
  Schema.Struct({ kind: Schema.Literal(kind), ...fields, at: Timestamp }, Rest)

/**
 * Why the task is in its state: how its last invocation ended, one case per `kind` (the fields a
 * case carries are the ones its writers always set).
 */
export const TaskOutcome = Schema.Union(
  outcomeCase("completed", {}),
  outcomeCase("interrupted", { message: Schema.optional(Schema.String) }),
  // Every writer sets both; a hand-edited file without them still reads.
  outcomeCase("failed", {
    error_class: Schema.optionalWith(Schema.String, { default: () => "Unknown" }),
    message: Schema.optionalWith(Schema.String, { default: () => "" }),
  }),
  outcomeCase("worker_lost", { message: Schema.optional(Schema.String) }),
  /** The turn ran past `--turn-timeout`. */
  outcomeCase("timed_out", { message: Schema.optional(Schema.String) }),
  /** The thread's tokens reached `--max-tokens`: no more turns run. */
  outcomeCase("budget_exhausted", { message: Schema.optional(Schema.String) }),
)
/** The outcome of a task's last invocation. */
export type TaskOutcome = typeof TaskOutcome.Type
/** An outcome's kind. */
export type OutcomeKind = TaskOutcome["kind"]

/** One question of codex's request for input (`waiting.request.questions`). */
export const InputQuestionJson = Schema.Struct({
  id: Schema.String,
  question: Schema.String,
  header: Schema.optional(Schema.String),
  /** The choices (labels); `other`: free text is accepted too. */
  options: Schema.optional(Schema.Array(Schema.String)),
  other: Schema.optional(Schema.Boolean),
})

/** What codex asked for (`waiting.request` while a task waits for approval, permission or input). */
export const ApprovalRequestJson = Schema.Struct({
  kind: Schema.String,
  command: Schema.optional(Schema.String),
  cwd: Schema.optional(Schema.String),
  files: Schema.optional(Schema.Array(Schema.String)),
  reason: Schema.optional(Schema.String),
  permissions: Schema.optional(Schema.Array(Schema.String)),
  questions: Schema.optional(Schema.Array(InputQuestionJson)),
  server: Schema.optional(Schema.String),
})

/**
 * What a running task's worker is waiting for: a run slot or a usage-limit reset before its next
 * codex invocation, or an answer to codex's request (`approve` / `decline`): an approval of a
 * command or file change, more permissions, or the user's input.
 */
export const TaskWaiting = Schema.Struct(
  {
    for: Schema.Literal("slot", "usage_limit", "approval", "permission", "input"),
    /** `approval`, `permission`, `input`: what codex asked for. */
    request: Schema.optional(ApprovalRequestJson),
    /** When the wait ends (usage limits: the reset time plus jitter). */
    until: Schema.optional(Timestamp),
    since: Schema.optional(Timestamp),
  },
  Rest,
)
/** What a running task waits for. */
export type TaskWaiting = typeof TaskWaiting.Type

/** The `waiting.for` values of codex's requests, answered by `approve` / `decline`. */
export const ANSWERABLE = ["approval", "permission", "input"] as const

/** Whether the task waits for an answer to codex's request (not a slot or a usage limit). */
export const waitsForAnswer = (w: TaskWaiting | undefined): boolean =>
  w !== undefined && (ANSWERABLE as ReadonlyArray<string>).includes(w.for)

/** Token usage totals of the thread (as reported by the last `turn.completed`). */
export const TaskUsage = Schema.Struct(
  {
    input_tokens: Count,
    cached_input_tokens: Count,
    /** Tokens written to the prompt cache (codex 0.1xx on; absent from older task.json files). */
    cache_write_input_tokens: Schema.optional(Count),
    output_tokens: Count,
    reasoning_output_tokens: Count,
  },
  Rest,
)
/** Thread usage totals. */
export type TaskUsage = typeof TaskUsage.Type

/** The schema version this code writes into `task.json`. */
export const TASK_SCHEMA_VERSION = 1

/** `task.json`: the Rust tool's fields under their names, ours optional, unknown keys kept. */
export const TaskMeta = Schema.Struct(
  {
    id: TaskId,
    title: optionalString,
    state: StoredTaskState,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_result: optionalString,
    initial_prompt: optionalString,
    last_prompt: optionalString,
    config_path: optionalString,
    working_dir: optionalString,
    schema_version: Schema.optional(Schema.Number),
    exec: Schema.optional(StoredExecOptions),
    last_outcome: Schema.optional(TaskOutcome),
    usage: Schema.optional(TaskUsage),
    turns: Schema.optional(Count),
    dropped_prompts: Schema.optional(Count),
    /** The inbox sequence number of the last prompt whose turn ended (`send --wait` watches it). */
    inbox_done_seq: Schema.optional(Count),
    /** Set while the worker waits (for a run slot, for a usage limit to reset); absent otherwise. */
    waiting: Schema.optional(TaskWaiting),
    /** Stall/turn timeouts, token budget, usage-limit wait bound (`domain/policy.ts`). */
    limits: Schema.optional(TaskLimits),
  },
  Rest,
)
/** Task metadata as stored in `task.json`. */
export type TaskMeta = typeof TaskMeta.Type

/** A state as the user sees it, with the reason it is in that state. */
export interface EffectiveState {
  readonly state: TaskState
  readonly outcome: TaskOutcome | undefined
}

/**
 * The one place deriving a task's visible state: a stored `RUNNING` task whose worker is not alive
 * is `DIED` with outcome `worker_lost`; `"unknown"` liveness (a legacy pid we cannot verify)
 * trusts the stored state.
 */
export const effectiveState = (
  meta: Pick<TaskMeta, "state" | "updated_at" | "last_outcome">,
  workerAlive: boolean | "unknown",
): EffectiveState => {
  if (meta.state === "RUNNING" && workerAlive === false) {
    return {
      state: "DIED",
      outcome: {
        kind: "worker_lost",
        message: "the task's worker process is gone",
        at: meta.updated_at,
      },
    }
  }
  return { state: meta.state, outcome: meta.last_outcome }
}
