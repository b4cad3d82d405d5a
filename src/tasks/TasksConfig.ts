import { Context, Layer } from "effect"
import { defaultRetryPolicy, type RetryPolicy } from "../domain/retryPolicy.js"

/** Settings of the task service. */
export interface TasksConfigShape {
  readonly codexBin: string
  readonly retry: RetryPolicy
  /** `--max-running`: the run-slot limit handed to every worker launched (absent: none). */
  readonly maxRunning?: number | undefined
}

/** Settings of the task service. */
export class TasksConfig extends Context.Tag("codex-tasks/TasksConfig")<
  TasksConfig,
  TasksConfigShape
>() {
  /** codex from `codexBin`, default retry policy. */
  static readonly layer = (
    codexBin: string,
    retry: RetryPolicy = defaultRetryPolicy,
    maxRunning?: number,
  ) => Layer.succeed(TasksConfig, { codexBin, retry, maxRunning })
}
