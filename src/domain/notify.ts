import { Option, Schema } from "effect"
import type { TaskMeta } from "./task.js"

/**
 * What to do when the task leaves `RUNNING` (`start --on-finish`, `--webhook`), stored in
 * `task.json` under `notify` and honoured by every worker of the task.
 */
export const TaskNotify = Schema.Struct({
  /** Run with `sh -c` in the task's working directory, the task in its environment. */
  on_finish: Schema.optional(Schema.String),
  /** POST the task's summary as JSON to this http(s) URL. */
  webhook: Schema.optional(Schema.String),
})
/** A task's notifications. */
export type TaskNotify = typeof TaskNotify.Type

const decode = Schema.decodeUnknownOption(TaskNotify)

/** The notifications stored with a task (none when absent or malformed). */
export const notifyOf = (meta: TaskMeta): TaskNotify | undefined => {
  const n = Option.getOrUndefined(decode(meta.notify))
  return n === undefined || (n.on_finish === undefined && n.webhook === undefined) ? undefined : n
}

/** Why `url` is not a webhook this tool posts to (only http and https), or undefined. */
export const webhookProblem = (url: string): string | undefined => {
  try {
    const u = new URL(url)
    return u.protocol === "http:" || u.protocol === "https:"
      ? undefined
      : `--webhook must be an http or https URL (got ${u.protocol})`
  } catch {
    return `--webhook is not a URL: ${url}`
  }
}
