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
    return `--webhook is not a URL: ${redactUrl(url)}`
  }
}

const parseUrl = (url: string): URL | undefined => {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

/**
 * `url` as it may be shown or logged: a user and password (`user:pass@`) become `***`, and so
 * does every query value (`?token=***`), where webhook receivers often take their secret.
 */
export const redactUrl = (url: string): string => {
  const u = parseUrl(url)
  // Not a URL: hide what looks like credentials or a query all the same.
  if (u === undefined) return url.replace(/\/\/[^/?#]*@/, "//***@").replace(/\?.*$/s, "?***")
  if (u.username !== "" || u.password !== "") {
    u.username = "***"
    u.password = ""
  }
  for (const key of new Set(u.searchParams.keys())) u.searchParams.set(key, "***")
  return u.href
}

/** `text` (a message about delivering to `url`) with `url` redacted, however it is spelt there. */
export const redactUrlIn = (text: string, url: string): string => {
  const u = parseUrl(url)
  const shown = redactUrl(url)
  let out = text.split(url).join(shown)
  if (u === undefined) return out
  out = out.split(u.href).join(shown)
  const queryValues = [...u.searchParams.values()].filter((v) => v.length >= 8)
  for (const secret of [u.password, safeDecode(u.password), ...queryValues]) {
    if (secret.length >= 3) out = out.split(secret).join("***")
  }
  return out
}

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
