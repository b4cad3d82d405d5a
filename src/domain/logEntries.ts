/**
 * Synthetic `task.log` entries written next to codex's own events. `user_message` and `stderr`
 * are the Rust tool's (it wrote no `at`); the others are ours (the Rust tool ignores unknown
 * types). One schema, `LogEntry`, is what the writers below encode through and what the
 * transcript decodes with; its encoded form is the snake_case JSON line.
 */
import { Option, Predicate, Schema } from "effect"

const at = Schema.optional(Schema.String)
const snake = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))
const optionalSnake = <S extends Schema.Schema.All>(schema: S, key: string) =>
  Schema.optional(schema).pipe(Schema.fromKey(key))

/** The prompt, written before the events of its invocation. */
export const UserMessageEntry = Schema.Struct({
  type: Schema.Literal("user_message"),
  message: Schema.String,
  at,
})

/** One line codex wrote on stderr. */
export const StderrEntry = Schema.Struct({
  type: Schema.Literal("stderr"),
  message: Schema.String,
  at,
})

/** A retryable failure about to be retried after `delayMs`. */
export const RetryEntry = Schema.Struct({
  type: Schema.Literal("retry"),
  attempt: Schema.Number,
  maxRetries: snake(Schema.Number, "max_retries"),
  delayMs: snake(Schema.Number, "delay_ms"),
  errorClass: optionalSnake(Schema.String, "error_class"),
  message: Schema.optional(Schema.String),
  at,
})

/** An invocation that failed for good (or, with `retryable`, is about to be retried). */
export const InvocationFailedEntry = Schema.Struct({
  type: Schema.Literal("invocation_failed"),
  errorClass: optionalSnake(Schema.String, "error_class"),
  message: Schema.String,
  retryable: Schema.optional(Schema.Boolean),
  at,
})

/** Queued prompts that were never run (kept here, not lost), and why. */
export const PromptsDroppedEntry = Schema.Struct({
  type: Schema.Literal("prompts_dropped"),
  count: Schema.optional(Schema.Number),
  prompts: Schema.Array(Schema.String),
  /** e.g. "stopped by UnknownThread: …"; shown in parentheses after the count. */
  reason: Schema.optional(Schema.String),
  at,
})

/** Something the worker did or saw (stop requested, interrupted, worker error, ...). */
export const WorkerEntry = Schema.Struct({
  type: Schema.Literal("worker"),
  message: Schema.String,
  at,
})

/** A notification of the task's end (`--on-finish` command or `--webhook` POST): how it went. */
export const NotificationEntry = Schema.Struct({
  type: Schema.Literal("notification"),
  kind: Schema.Literal("on_finish", "webhook"),
  ok: Schema.Boolean,
  /** e.g. "exit 0", "timed out after 60 s", "HTTP 204", "connect ECONNREFUSED …". */
  message: Schema.String,
  exitCode: optionalSnake(Schema.NullOr(Schema.Number), "exit_code"),
  status: Schema.optional(Schema.Number),
  attempts: Schema.optional(Schema.Number),
  /** The tail of the command's output. */
  output: Schema.optional(Schema.String),
  at,
})

/** Every synthetic entry of a `task.log`. */
export const LogEntry = Schema.Union(
  UserMessageEntry,
  StderrEntry,
  RetryEntry,
  InvocationFailedEntry,
  PromptsDroppedEntry,
  WorkerEntry,
  NotificationEntry,
)
/** Every synthetic entry of a `task.log`. */
export type LogEntry = typeof LogEntry.Type

/** The `type` strings of `LogEntry`. */
export const logEntryTypes: ReadonlySet<string> = new Set(
  LogEntry.members.map((m) => m.fields.type.literals[0]),
)

const encode = Schema.encodeSync(LogEntry)
const decode = Schema.decodeUnknownOption(LogEntry)

/** A parsed log line as a synthetic entry, or `undefined` when it is not one (or malformed). */
export const decodeLogEntry = (u: {
  readonly type: string
  readonly [field: string]: unknown
}): LogEntry | undefined =>
  logEntryTypes.has(u.type) ? Option.getOrUndefined(decode(u)) : undefined

/** A `task.log` line as a synthetic entry, or `undefined` (not JSON, not one, or malformed). */
export const decodeLogLine = (line: string): LogEntry | undefined => {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  const type = Predicate.isRecord(value) ? value.type : undefined
  return typeof type === "string" && logEntryTypes.has(type)
    ? Option.getOrUndefined(decode(value))
    : undefined
}

/** The JSONL line of an entry, `\n` included. */
export const encodeLogEntry = (entry: LogEntry): string => `${JSON.stringify(encode(entry))}\n`

const now = () => new Date().toISOString()

/** The prompt, written before the events of its invocation. */
export const userMessage = (message: string): string =>
  encodeLogEntry({ type: "user_message", message, at: now() })

/** The worker's note after a steered prompt (`send --steer` looks for it in the log). */
export const steeredNote = (seq: number): string =>
  `steered prompt ${seq} joined the running turn (turn/steer)`

/** One line codex wrote on stderr. */
export const stderrLine = (message: string): string => encodeLogEntry({ type: "stderr", message })

/** A retryable failure about to be retried after `delayMs`. */
export const retryEntry = (e: {
  readonly attempt: number
  readonly maxRetries: number
  readonly delayMs: number
  readonly errorClass: string
  readonly message: string
}): string =>
  encodeLogEntry({
    type: "retry",
    attempt: e.attempt,
    maxRetries: e.maxRetries,
    delayMs: e.delayMs,
    errorClass: e.errorClass,
    message: e.message,
    at: now(),
  })

/** An invocation that failed for good. */
export const invocationFailed = (errorClass: string, message: string, retryable: boolean): string =>
  encodeLogEntry({ type: "invocation_failed", errorClass, message, retryable, at: now() })

/** Queued prompts that were dropped (by a stop, or `reason`); they are kept here, not lost. */
export const promptsDropped = (prompts: ReadonlyArray<string>, reason?: string): string =>
  encodeLogEntry({
    type: "prompts_dropped",
    count: prompts.length,
    prompts,
    ...(reason === undefined ? {} : { reason }),
    at: now(),
  })

/** Something the worker did or saw (stop requested, interrupted, worker error, ...). */
export const workerNote = (message: string): string =>
  encodeLogEntry({ type: "worker", message, at: now() })

/** How a notification of the task's end went. */
export const notificationEntry = (e: Omit<typeof NotificationEntry.Type, "type" | "at">): string =>
  encodeLogEntry({ type: "notification", ...e, at: now() })
