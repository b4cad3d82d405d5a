import { Schema } from "effect"
import {
  ErrorEvent,
  ItemCompleted,
  ItemStarted,
  ItemUpdated,
  knownEventTypes,
  ThreadStarted,
  TurnCompleted,
  TurnFailedEvent,
  TurnStarted,
} from "./events.js"
import {
  InvocationFailedEntry,
  logEntryTypes,
  NotificationEntry,
  PromptsDroppedEntry,
  RetryEntry,
  StderrEntry,
  UserMessageEntry,
  WorkerEntry,
} from "./logEntries.js"
import { TaskOutcome, TaskState, TaskUsage, TaskWaiting, Timestamp } from "./task.js"
import { TaskId } from "./taskId.js"

// The JSON shapes we print (CLI `--json`), answer with (MCP `structuredContent`) and document
// (docs/json-schema/, generated from these by `documentedSchemas`): each written once, here.
// Every key is snake_case as printed; Type and Encoded are the same JSON.

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** A process a lost worker left running (`status --json` `leftover_processes`). */
export const LeftoverProcessJson = Schema.Struct({
  pid: Schema.Number.pipe(Schema.int(), Schema.positive()),
  /** Its command line ("" when unreadable). */
  command: Schema.String,
})

/** A worktree task's worktree as `status --json` shows it. */
export const TaskWorktreeJson = Schema.Struct({
  path: Schema.String,
  branch: Schema.String,
  base: Schema.String.annotations({ description: "The commit the worktree started from." }),
  changed_files: Count.annotations({
    description: "Files differing from base, committed or not.",
  }),
})

/** `usage` as printed: the stored totals with `cache_write_input_tokens` always present. */
export const UsageJson = Schema.Struct(
  { ...TaskUsage.fields, cache_write_input_tokens: Count },
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
)

/**
 * The task object: `status --json`, each element of `ls --json`, `start|send --wait --json`, MCP
 * `task_status` and `task_list`. The Rust tool's keys first; more keys may be added.
 */
export const TaskJson = Schema.Struct({
  id: TaskId.annotations({ description: "The task id (the Codex thread id)." }),
  title: Schema.NullOr(Schema.String),
  state: TaskState.annotations({
    description: "Effective state: a RUNNING task whose worker is gone reads DIED.",
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_prompt: Schema.NullOr(Schema.String),
  last_result: Schema.NullOr(Schema.String).annotations({
    description: "The last final message.",
  }),
  working_dir: Schema.NullOr(Schema.String),
  pid: Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.positive())).annotations({
    description: "The worker's pid while the task runs, else null.",
  }),
  initial_prompt: Schema.NullOr(Schema.String),
  outcome: Schema.NullOr(TaskOutcome).annotations({
    description: "How the task's last invocation ended.",
  }),
  queued_prompts: Count.annotations({ description: "Prompts waiting in the inbox." }),
  dropped_prompts: Count.annotations({
    description: "Prompts a stop, a failure or a lost worker discarded (they are in the log).",
  }),
  turns: Count.annotations({ description: "Completed turns." }),
  usage: Schema.NullOr(UsageJson).annotations({
    description: "Token usage totals of the thread.",
  }),
  archived: Schema.Boolean.annotations({
    description: "The task lives under archive/YYYY/MM/DD/.",
  }),
  path: Schema.String.annotations({ description: "The task directory." }),
  worker_stderr: Schema.NullOr(Schema.String).annotations({
    description:
      "When the worker was lost or failed: its stderr file (worker.stderr), if it wrote anything.",
  }),
  result_json: Schema.optional(Schema.Unknown).annotations({
    description:
      "The last result parsed, when it is a JSON object or array (as with start --output-schema); absent otherwise.",
  }),
  waiting: Schema.NullOr(TaskWaiting).annotations({
    description:
      "While a RUNNING task's worker waits before its next codex run: for a run slot or for a usage limit to reset.",
  }),
  leftover_processes: Schema.optional(Schema.Array(LeftoverProcessJson)).annotations({
    description: "status --json only: processes the task's last worker left running.",
  }),
  last_turn_files: Schema.optional(Schema.Array(Schema.String)).annotations({
    description: "status --json only: the paths the file_change items of the last turn changed.",
  }),
  worktree: Schema.optional(Schema.NullOr(TaskWorktreeJson)).annotations({
    description: "status --json only: a worktree task's worktree; null for other tasks.",
  }),
  host: Schema.optional(Schema.String).annotations({
    description: "With --cluster only: the host (runner --host-id) the task lives on.",
  }),
  host_lost_since: Schema.optional(Timestamp).annotations({
    description:
      "With --cluster only: the task's host has had no live runner since then (the rest of the object is what was last known).",
  }),
})
/** The task object. */
export type TaskJson = typeof TaskJson.Type

/** `ls --json`, and `status --json` with several ids, `-a` or `-A` (`ls`: newest first). */
export const TaskListJson = Schema.Array(TaskJson)

/** `start --json` (and MCP `task_start`): the new task's id. */
export const StartJson = Schema.Struct({
  id: TaskId,
  host: Schema.optional(Schema.String).annotations({
    description: "With --cluster only: the host the task was placed on.",
  }),
})

/**
 * `send --json` (and MCP `task_send`): the prompt started a turn, or was queued at a place (one
 * object, not a union: an MCP tool's output schema must be an object).
 */
export const SendJson = Schema.Struct({
  id: TaskId,
  seq: Schema.Number.pipe(Schema.int(), Schema.positive()),
  status: Schema.Literal("started", "queued", "joined", "accepted").annotations({
    description:
      "joined: a `send --steer` prompt joined the turn in flight (no turn of its own). accepted: with --cluster, the task's host is unreachable; the prompt is kept in the fleet's database and runs once the host's runner is back.",
  }),
  position: Schema.optional(
    Schema.Number.pipe(Schema.int(), Schema.positive()).annotations({
      description: "Only when queued: the 1-based place among the waiting prompts.",
    }),
  ),
})
/** What `send --json` prints. */
export type SendJson = typeof SendJson.Type

/** A task that could not be read (`task_list` `unreadable`). */
export const UnreadableJson = Schema.Struct({ ref: Schema.String, message: Schema.String })

/** MCP `task_list` result. */
export const TaskListResultJson = Schema.Struct({
  tasks: TaskListJson,
  unreadable: Schema.Array(UnreadableJson),
})

/** A changed file of `diff --json`: its path and line counts (null for a binary file). */
export const DiffFileJson = Schema.Struct({
  path: Schema.String,
  added: Schema.NullOr(Count).annotations({ description: "Lines added; null for a binary file." }),
  deleted: Schema.NullOr(Count).annotations({
    description: "Lines deleted; null for a binary file.",
  }),
})

/** `diff --json` (and MCP `task_diff`): what a task changed; `--stat` leaves `patch` out. */
export const DiffJson = Schema.Struct({
  id: TaskId,
  worktree: Schema.NullOr(
    Schema.Struct({
      path: Schema.String,
      branch: Schema.String,
      base: Schema.String.annotations({ description: "The commit the worktree started from." }),
    }),
  ).annotations({ description: "A worktree task's worktree; null for other tasks." }),
  files: Schema.Array(DiffFileJson),
  touched: Schema.NullOr(Schema.Array(Schema.String)).annotations({
    description:
      "Tasks without a worktree: the files their patches touched (as logged); null for a worktree task.",
  }),
  patch: Schema.optional(Schema.String).annotations({
    description: "The unified diff, as `git apply` (-p1) takes it; absent with --stat.",
  }),
})
/** What `diff --json` prints. */
export type DiffJson = typeof DiffJson.Type

/** `apply --json`: where a worktree task's changes were applied, which files, committed or not. */
export const ApplyJson = Schema.Struct({
  id: TaskId,
  dir: Schema.String.annotations({ description: "The directory the changes were applied to." }),
  files: Schema.Array(Schema.String).annotations({
    description: "The files applied (empty when the task changed nothing).",
  }),
  committed: Schema.Boolean,
})
/** What `apply --json` prints. */
export type ApplyJson = typeof ApplyJson.Type

// A log line is described on disk, snake_case: the encoded side of the entries' Schemas.
const onDisk = <A, I>(schema: Schema.Schema<A, I>, description: string) =>
  Schema.encodedBoundSchema(schema).annotations({ description })

const namedTypes = [...knownEventTypes, ...logEntryTypes]

/** A line of a type neither codex's events nor our entries name: kept with all its fields. */
const OtherLineJson = Schema.Struct(
  {
    type: Schema.String.pipe(
      Schema.filter((type) => !namedTypes.includes(type), {
        jsonSchema: { not: { enum: namedTypes } },
      }),
    ),
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
).annotations({
  description:
    "An event of a type this version does not know (a newer codex's): kept with whatever fields it has.",
})

/**
 * One line of `log --json` (task.log, byte for byte): an event of `codex exec --json` or one of
 * our synthetic entries, as written (the Rust tool's `user_message` and `stderr` have no `at`).
 */
export const LogLineJson = Schema.Union(
  onDisk(ThreadStarted, "codex: the first line of every run that created or resumed a thread."),
  onDisk(TurnStarted, "codex: the turn begins."),
  onDisk(ItemStarted, "codex: an item began."),
  onDisk(ItemUpdated, "codex: an item changed."),
  onDisk(ItemCompleted, "codex: an item is final."),
  onDisk(TurnCompleted, "codex: the turn finished; usage is the thread's running total."),
  onDisk(TurnFailedEvent, "codex: the turn failed (after an error event with the same message)."),
  onDisk(ErrorEvent, "codex: an error report, fatal before turn.failed or informational."),
  onDisk(UserMessageEntry, "The prompt, written before the events of its invocation."),
  onDisk(StderrEntry, "One line codex wrote on stderr."),
  onDisk(RetryEntry, "A retryable failure about to be retried after delay_ms."),
  onDisk(InvocationFailedEntry, "An invocation that failed for good."),
  onDisk(
    PromptsDroppedEntry,
    "Queued prompts that were never run (kept here, not lost): dropped by a stop, or for the reason given.",
  ),
  onDisk(
    WorkerEntry,
    "Something the worker did or saw (stop requested, interrupted, a wait, ...).",
  ),
  onDisk(NotificationEntry, "How a notification of the task's end (--on-finish, --webhook) went."),
  OtherLineJson,
)
/** One `task.log` line as JSON. */
export type LogLineJson = typeof LogLineJson.Type
