import { Schema } from "effect"
import { TaskLimits } from "../domain/policy.js"
import { RetryPolicy } from "../domain/retryPolicy.js"
import { ExecOptions } from "../exec/options.js"
import { PinnedPath } from "../exec/pinnedPaths.js"
import { NotifyEvent } from "../store/notifyClaim.js"
import { WorkerExtras } from "./requestExtras.js"

// The paths the MCP gate checked, checked again before every codex spawn (`exec/pinnedPaths.ts`).
const pinnedPaths = { pinnedPaths: Schema.optional(Schema.Array(PinnedPath)) }

/** What the CLI hands a new worker over its stdin pipe (never argv or env: prompts are private). */
export const WorkerRequest = Schema.Union(
  Schema.TaggedStruct("Start", {
    storeRoot: Schema.String,
    codexBin: Schema.String,
    prompt: Schema.String,
    title: Schema.optional(Schema.String),
    options: ExecOptions,
    retry: RetryPolicy,
    /**
     * The start's scratch directory, made by the launcher: it holds the worker's stderr
     * (`worker.stderr`, moved into the task directory once the task exists) and the first `-o`
     * file. Without it the worker makes its own under `<root>/.tmp/`.
     */
    scratchDir: Schema.optional(Schema.String),
    /** The directory the worker runs in (one spawned ahead of its request moves there). */
    cwd: Schema.optional(Schema.String),
    /** The task's limits (stored in task.json, applied to every turn). */
    limits: Schema.optional(TaskLimits),
    ...WorkerExtras.fields,
    ...pinnedPaths,
  }),
  Schema.TaggedStruct("Resume", {
    storeRoot: Schema.String,
    codexBin: Schema.String,
    taskId: Schema.String,
    retry: RetryPolicy,
    ...WorkerExtras.fields,
    ...pinnedPaths,
  }),
  /**
   * Run the task's notifications for a worker run that could not (lost, killed by `stop`): the
   * sender has claimed them (`store/notifyClaim.ts`); the answer is `Accepted`.
   */
  Schema.TaggedStruct("Notify", {
    storeRoot: Schema.String,
    taskId: Schema.String,
    runId: Schema.String,
    event: NotifyEvent,
  }),
)
/** A worker request. */
export type WorkerRequest = typeof WorkerRequest.Type

/** The worker's one-line answer on its stdout pipe. */
export const Handshake = Schema.Union(
  /** The thread exists; the task is in the store under `id`. */
  Schema.TaggedStruct("Started", { id: Schema.String }),
  /** A resume worker took over its task. */
  Schema.TaggedStruct("Accepted", { id: Schema.String }),
  /** codex failed before the thread existed: nothing was written. */
  Schema.TaggedStruct("Failed", { errorTag: Schema.String, message: Schema.String }),
)
/** A handshake message. */
export type Handshake = typeof Handshake.Type
