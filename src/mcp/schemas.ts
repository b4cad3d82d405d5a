import { Schema } from "effect"
import * as z from "zod"
import {
  DiffJson,
  SendJson,
  StartJson,
  TaskJson as TaskJsonSchema,
  TaskListResultJson,
} from "../domain/wire.js"
import { jsonSchemaOf } from "../domain/wireSchemas.js"
import { Backend } from "../exec/options.js"
import { flag, StartInput, text } from "../gate/startInput.js"
import { MAX_LOG_PAGE_BYTES } from "../tasks/logPage.js"

// Input schemas are strict (a misspelt argument is reported, not silently dropped); output
// objects that embed the task object are open, since docs/json-output.md may grow new keys.

/** The zod schema of a wire shape, built from its JSON Schema (the MCP SDK validates with zod). */
const zodOf = <A, I>(schema: Schema.Schema<A, I>) =>
  z.fromJSONSchema(jsonSchemaOf(schema) as z.core.JSONSchema.JSONSchema)

/** The zod shape of an argument object whose encoded form is `I` (optional keys stay optional). */
type InputShape<I> = {
  readonly [K in keyof I]-?: {} extends Pick<I, K>
    ? z.ZodOptional<z.ZodType<Exclude<I[K], undefined>>>
    : z.ZodType<I[K]>
}

/** The strict zod object of an argument Schema: a misspelt argument is refused, not dropped. */
const inputZodOf = <A, I>(schema: Schema.Schema<A, I>) =>
  z.fromJSONSchema(
    jsonSchemaOf(schema, { input: true }) as z.core.JSONSchema.JSONSchema,
  ) as unknown as z.ZodObject<InputShape<I>, z.core.$strict>

/** The most `task_log` waits for new events, in seconds. */
export const MAX_WAIT_SECONDS = 300

const TASK_REF = "Task id (the Codex thread id) or a unique prefix of it."

/** A `taskId` argument. */
export const taskId = z.string().min(1).describe(TASK_REF)
const taskIdOrAll = {
  taskId: taskId.optional(),
  all: z
    .boolean()
    .optional()
    .describe("Every task instead of one (refused unless the server runs with --allow-unsafe)."),
}
const State = z.enum(["RUNNING", "STOPPED", "DIED", "ARCHIVED"])

/** The task object (`status --json`), from its one Schema (domain/wire.ts). */
export const TaskResult = zodOf(TaskJsonSchema)

const nonEmpty = (description: string) =>
  Schema.String.pipe(Schema.minLength(1)).annotations({ description })

/** `task_start` arguments (zod, for the SDK), from `StartInput` (gate/startInput.ts). */
export const StartArgs = inputZodOf(StartInput)

/** `task_start` result (`start --json`). */
export const StartResult = zodOf(StartJson)

/** `task_send` arguments (`SendArgs` is its zod). */
export const SendInput = Schema.Struct({
  taskId: nonEmpty(TASK_REF),
  prompt: nonEmpty("The prompt: runs now, or after the prompts already queued."),
  steer: Schema.optional(
    flag(
      "Join the turn in flight of an app-server task instead of queueing (queued when no turn is in flight; refused for an exec task).",
    ),
  ),
  backend: Schema.optional(
    Backend.annotations({
      description: "Run this and every later turn of the task on this backend.",
    }),
  ),
})

/** `task_approve` arguments. */
export const ApproveInput = Schema.Struct({
  taskId: nonEmpty(TASK_REF),
  forSession: Schema.optional(
    flag("Also approve what codex asks for alike for the rest of the session."),
  ),
  answers: Schema.optional(
    Schema.Array(Schema.String).annotations({
      description:
        "For a task waiting for input: one answer per question, in question order (a choice by its label).",
    }),
  ),
})
/** `task_approve` arguments (zod). */
export const ApproveArgs = inputZodOf(ApproveInput)

/** `task_decline` arguments. */
export const DeclineInput = Schema.Struct({
  taskId: nonEmpty(TASK_REF),
  message: Schema.optional(
    text("Why: logged, and sent to codex right after the decline (joins the running turn)."),
  ),
})
/** `task_decline` arguments (zod). */
export const DeclineArgs = inputZodOf(DeclineInput)

/** `task_approve` / `task_decline` result. */
export const ApprovalResult = zodOf(
  Schema.Struct({
    id: Schema.String,
    decision: Schema.Literal("accept", "acceptForSession", "decline"),
  }),
)

/** `task_send` arguments (zod, for the SDK), from `SendInput`. */
export const SendArgs = inputZodOf(SendInput)

/** `task_send` result (`send --json`). */
export const SendResult = zodOf(SendJson)

/** `task_diff` result (`diff --json`). */
export const DiffResult = zodOf(DiffJson)

/** `task_status` arguments. */
export const StatusArgs = z.strictObject({ taskId })

/** `task_list` arguments. */
export const ListArgs = z.strictObject({
  includeArchived: z.boolean().optional().describe("Include archived tasks."),
  states: z.array(State).optional().describe("Only tasks in these states."),
})

/** `task_list` result. */
export const ListResult = zodOf(TaskListResultJson)

/** `task_log` arguments. */
export const LogArgs = z.strictObject({
  taskId,
  tail: z.number().int().min(0).optional().describe("Only the last N events."),
  since: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("Start at this byte offset: the nextOffset of an earlier call (incremental reads)."),
  waitSeconds: z
    .number()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .optional()
    .describe(
      "Wait up to this long for new events (after `since`, else after the log's current end) while the task runs.",
    ),
  format: z
    .enum(["text", "jsonl"])
    .optional()
    .describe("text: the transcript (default); jsonl: the raw log lines."),
  full: z.boolean().optional().describe("text format: do not shorten command output."),
  maxBytes: z
    .number()
    .int()
    .min(1024)
    .max(MAX_LOG_PAGE_BYTES)
    .optional()
    .describe("The most log bytes this call reads (default 262144 = 256 KiB, at most 4 MiB)."),
})

/** `task_log` result. */
export const LogResult = z.object({
  id: z.string(),
  state: State,
  format: z.enum(["text", "jsonl"]),
  content: z.string(),
  events: z.number().int().describe("How many log events (JSONL lines) were read."),
  nextOffset: z.number().int().describe("Pass as `since` to read only what comes next."),
  hasMore: z
    .boolean()
    .describe("The page budget was reached: more of the log is there now (call again with since)."),
  partialEvent: z
    .boolean()
    .describe(
      "jsonl: content ends inside an event larger than a page; the next page continues it.",
    ),
  timedOut: z.boolean().describe("True when waitSeconds passed without a new event."),
})

/** `task_stop` arguments. */
export const StopArgs = z.strictObject({
  ...taskIdOrAll,
  afterTurn: z
    .boolean()
    .optional()
    .describe("Let the turn in progress finish first (queued prompts are dropped)."),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(600)
    .optional()
    .describe("Seconds to wait before killing the worker (default 30)."),
})

/** `task_stop` result. */
export const StopResult = z.object({
  reports: z.array(
    z.object({
      id: z.string(),
      status: z.enum(["stopped", "not-running", "killed", "unknown"]),
      message: z.string().optional(),
    }),
  ),
  stopped: z.number().int(),
})

/** `task_archive` arguments. */
export const ArchiveArgs = z.strictObject(taskIdOrAll)

/** `task_archive` result. */
export const ArchiveResult = z.object({
  reports: z.array(
    z.object({
      id: z.string(),
      status: z.enum(["archived", "skipped", "already-archived"]),
      dir: z.string().optional(),
      state: z.string().optional(),
      leftoversKilled: z.number().int().optional(),
    }),
  ),
  archived: z.number().int(),
  skipped: z.number().int(),
})
