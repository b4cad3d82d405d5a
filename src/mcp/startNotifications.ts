/** `task_start`'s progress notifications while the first invocation waits for a run slot. */
import { Effect } from "effect"
import { noticeText, type WorkerNotice } from "../launcher/workerNotice.js"
import type { Extra } from "./bridge.js"

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
