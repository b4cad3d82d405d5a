import { isItemEvent, isUnknownItem, type ThreadEvent, type Usage } from "../domain/events.js"
import { nowTimestamp, type TaskMeta, type TaskOutcome, type TaskState } from "../domain/task.js"
import type { ExecResult } from "../exec/CodexExec.js"

// The worker's rules for a finished invocation: what it records, when it retries, how it ends.

/** The outcome recorded in task.json for a finished invocation. */
export const outcomeOf = (result: ExecResult): TaskOutcome => {
  const at = nowTimestamp()
  switch (result.outcome._tag) {
    case "Completed":
      return { kind: "completed", at }
    case "Interrupted":
      return { kind: "interrupted", message: "by stop", at }
    case "Failed":
      return {
        kind: "failed",
        error_class: result.outcome.error._tag,
        message: result.outcome.error.message,
        at,
      }
  }
}

/** The state a task ends in once its worker has nothing left to do. */
export const finalState = (outcome: TaskOutcome | undefined): TaskState =>
  outcome?.kind === "failed" || outcome?.kind === "worker_lost" ? "DIED" : "STOPPED"

/** The usage totals as stored (codex may omit the optional counters). */
export const storedUsage = (u: Partial<Usage> | undefined): TaskMeta["usage"] =>
  u === undefined || typeof u.input_tokens !== "number" || typeof u.output_tokens !== "number"
    ? undefined
    : {
        input_tokens: u.input_tokens,
        cached_input_tokens: u.cached_input_tokens ?? 0,
        cache_write_input_tokens: u.cache_write_input_tokens ?? 0,
        output_tokens: u.output_tokens,
        reasoning_output_tokens: u.reasoning_output_tokens ?? 0,
      }

/** Whether an event shows the turn acting on the world (a retry could repeat it). */
export const hasSideEffects = (event: ThreadEvent): boolean => {
  if (!isItemEvent(event) || event.type === "item.updated" || isUnknownItem(event.item)) {
    return false
  }
  const { type } = event.item
  return type === "command_execution" || type === "file_change" || type === "mcp_tool_call"
}
