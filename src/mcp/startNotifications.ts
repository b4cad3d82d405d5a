/**
 * `task_start`'s notifications (`onFinish`, `webhook`: refused without --allow-unsafe, since
 * they run commands or send data out) and its progress notifications while the first invocation
 * waits for a run slot.
 */
import { Effect, Schema } from "effect"
import type { TaskNotify } from "../domain/notify.js"
import { noticeText, type WorkerNotice } from "../launcher/workerNotice.js"
import type { Extra } from "./bridge.js"

/** The `task_start` arguments for notifications (spread into `StartInput`). */
export const notifyArgFields = {
  onFinish: Schema.optional(
    Schema.String.annotations({
      description:
        "When the task leaves RUNNING, run this with sh -c in its working directory; the task is in CODEX_TASKS_TASK_ID, _TITLE, _STATE, _OUTCOME, _RESULT_FILE, _LOG_FILE (refused unless the server runs with --allow-unsafe).",
    }),
  ),
  webhook: Schema.optional(
    Schema.String.annotations({
      description:
        "When the task leaves RUNNING, POST its id, state, outcome and result as JSON to this http(s) URL (refused unless the server runs with --allow-unsafe).",
    }),
  ),
}

/** The notification arguments a server without --allow-unsafe refuses, by name. */
export const notifyRefused = (a: {
  readonly onFinish?: string | undefined
  readonly webhook?: string | undefined
}): Array<string> => [
  ...(a.onFinish !== undefined ? ["onFinish"] : []),
  ...(a.webhook !== undefined ? ["webhook"] : []),
]

/** The arguments as the task's stored notifications. */
export const notifyOfArgs = (a: {
  readonly onFinish?: string | undefined
  readonly webhook?: string | undefined
}): TaskNotify | undefined =>
  a.onFinish === undefined && a.webhook === undefined
    ? undefined
    : {
        ...(a.onFinish === undefined ? {} : { on_finish: a.onFinish }),
        ...(a.webhook === undefined ? {} : { webhook: a.webhook }),
      }

const EVERY_MS = 2_000

/**
 * Runs `start` with a notice listener that, once the worker says it waits for a slot, sends
 * `notifications/progress` (when the client asked for progress) at once and every 2 s until
 * `start` returns.
 */
export const withSlotProgress = <A, E, R>(
  extra: Extra,
  start: (onNotice: (n: WorkerNotice) => void) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E, R> => {
  const token = extra._meta?.progressToken
  let timer: NodeJS.Timeout | undefined
  const began = Date.now()
  const onNotice = (n: WorkerNotice) => {
    if (token === undefined || timer !== undefined) return
    const send = () =>
      void extra
        .sendNotification({
          method: "notifications/progress",
          params: {
            progressToken: token,
            progress: Math.round((Date.now() - began) / 100) / 10,
            message: noticeText(n).replace(/^codex-tasks: /, ""),
          },
        })
        .catch(() => undefined)
    send()
    timer = setInterval(send, EVERY_MS)
  }
  return start(onNotice).pipe(
    Effect.ensuring(Effect.sync(() => timer !== undefined && clearInterval(timer))),
  )
}
