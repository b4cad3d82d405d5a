import { Schema } from "effect"
import { TaskNotify } from "../domain/notify.js"

/**
 * Fields of the worker request added for unattended runs (run slots and notifications),
 * spread into both `Start` and `Resume` (`protocol.ts`).
 */
export const WorkerExtras = Schema.Struct({
  /** `--max-running`: at most this many codex invocations of the store at once (absent: no limit). */
  maxRunning: Schema.optional(Schema.Number),
  /** A start's `--on-finish` and `--webhook` (stored with the task; later workers read them there). */
  notify: Schema.optional(TaskNotify),
  /**
   * A fleet command's `--max-running`: at most this many codex invocations across the fleet at
   * once (a runner's worker; absent: no fleet limit).
   */
  fleetMaxRunning: Schema.optional(Schema.Number),
})
/** The extra fields of a worker request. */
export type WorkerExtras = typeof WorkerExtras.Type

/**
 * The variable a runner's workers find the fleet's URL in (the runner's own environment, never a
 * file or the request); a worker takes it out of its environment before codex starts.
 */
export const FLEET_URL_VAR = "CODEX_TASKS_CLUSTER"
