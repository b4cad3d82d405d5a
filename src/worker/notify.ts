/**
 * Notifications of a task's end (`start --on-finish`, `--webhook`): when a worker is done with its
 * task (the task left RUNNING), the command runs and the webhook is posted, each recorded in the
 * log as a `notification` entry. Neither can change the task: every failure is only logged.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option } from "effect"
import { notificationEntry } from "../domain/logEntries.js"
import { notifyOf } from "../domain/notify.js"
import type { TaskMeta } from "../domain/task.js"
import { TASK_RESULT } from "../store/layout.js"
import type { TaskLocation } from "../store/TaskStore.js"
import type { WorkerEnv } from "./env.js"
import { type CommandResult, runCommand } from "./onFinish.js"
import type { TaskLog } from "./taskLog.js"
import { deliverWebhook, type PostFn } from "./webhook.js"

/** The variables an `--on-finish` command sees (on top of the worker's environment). */
export const onFinishEnv = (
  meta: TaskMeta,
  paths: { readonly log: string; readonly result: string | undefined },
): Record<string, string> => ({
  CODEX_TASKS_TASK_ID: meta.id,
  CODEX_TASKS_TITLE: meta.title ?? "",
  CODEX_TASKS_STATE: meta.state,
  CODEX_TASKS_OUTCOME: meta.last_outcome?.kind ?? "",
  CODEX_TASKS_LOG_FILE: paths.log,
  ...(paths.result === undefined ? {} : { CODEX_TASKS_RESULT_FILE: paths.result }),
})

/** The JSON body of a webhook POST. */
export const webhookBody = (meta: TaskMeta): string =>
  JSON.stringify({
    id: meta.id,
    title: meta.title ?? null,
    state: meta.state,
    outcome: meta.last_outcome ?? null,
    last_result: meta.last_result ?? null,
    usage: meta.usage ?? null,
    finished_at: meta.updated_at,
  })

const commandMessage = (r: CommandResult) =>
  r.spawnError !== undefined
    ? `could not run sh: ${r.spawnError}`
    : r.timedOut
      ? "timed out after 60 s (its process group was killed)"
      : r.signal !== null
        ? `killed by ${r.signal}`
        : `exit ${r.exitCode}`

/** Runs the task's notifications for `meta` (already read, not RUNNING), logging each result. */
export const notifyTask = (
  env: WorkerEnv,
  loc: TaskLocation,
  meta: TaskMeta,
  post?: PostFn,
): Effect.Effect<void> => {
  const notify = notifyOf(meta)
  if (notify === undefined) return Effect.void
  const record = (entry: string) => env.store.appendLog(loc, entry).pipe(Effect.ignore)
  const command = (cmd: string) =>
    Effect.gen(function* () {
      const resultPath = join(loc.dir, TASK_RESULT)
      const vars = onFinishEnv(meta, {
        log: env.store.logPath(loc),
        result: existsSync(resultPath) ? resultPath : undefined,
      })
      const cwd =
        meta.working_dir !== undefined && existsSync(meta.working_dir) ? meta.working_dir : loc.dir
      const r = yield* runCommand(cmd, cwd, { ...process.env, ...vars })
      const ok = r.spawnError === undefined && !r.timedOut && r.exitCode === 0
      yield* record(
        notificationEntry({
          kind: "on_finish",
          ok,
          message: commandMessage(r),
          exitCode: r.exitCode,
          ...(r.output === "" ? {} : { output: r.output }),
        }),
      )
    })
  const webhook = (url: string) =>
    Effect.flatMap(deliverWebhook(url, webhookBody(meta), post), (r) =>
      record(
        notificationEntry({
          kind: "webhook",
          ok: r.ok,
          message: r.message,
          attempts: r.attempts,
          ...(r.status === undefined ? {} : { status: r.status }),
        }),
      ),
    )
  return Effect.all(
    [
      notify.on_finish === undefined ? Effect.void : command(notify.on_finish),
      notify.webhook === undefined ? Effect.void : webhook(notify.webhook),
    ],
    { concurrency: "unbounded", discard: true },
  ).pipe(Effect.catchAllCause(() => Effect.void))
}

/** After the worker is done with its task: the notifications, when the task left RUNNING. */
export const notifyFinished = (env: WorkerEnv, log: TaskLog): Effect.Effect<void> =>
  Effect.gen(function* () {
    const loc = yield* log.location
    if (Option.isNone(loc)) return
    const meta = yield* env.store.read(loc.value)
    if (meta.state === "RUNNING") return
    yield* notifyTask(env, loc.value, meta)
  }).pipe(Effect.catchAllCause(() => Effect.void))
