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
import { nowTimestamp, type TaskMeta, waitsForAnswer } from "../domain/task.js"
import type { ProcessIdentity } from "../processes/identity.js"
import { TASK_RESULT } from "../store/layout.js"
import {
  claimDone,
  claimNotification,
  type NotifyEvent,
  readClaim,
  updateClaim,
} from "../store/notifyClaim.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { WorkerEnv } from "./env.js"
import { type CommandResult, runCommand } from "./onFinish.js"
import type { TaskLog } from "./taskLog.js"
import { deliverWebhook, type PostFn } from "./webhook.js"

/** The variables an `--on-finish` command sees (on top of the worker's environment). */
export const onFinishEnv = (
  meta: TaskMeta,
  paths: { readonly log: string; readonly result: string | undefined },
  event: NotifyEvent = "finished",
): Record<string, string> => ({
  CODEX_TASKS_EVENT: event,
  CODEX_TASKS_TASK_ID: meta.id,
  CODEX_TASKS_TITLE: meta.title ?? "",
  CODEX_TASKS_STATE: meta.state,
  CODEX_TASKS_OUTCOME: meta.last_outcome?.kind ?? "",
  CODEX_TASKS_LOG_FILE: paths.log,
  ...(paths.result === undefined ? {} : { CODEX_TASKS_RESULT_FILE: paths.result }),
})

/** The JSON body of a webhook POST. */
export const webhookBody = (meta: TaskMeta, event: NotifyEvent = "finished"): string =>
  JSON.stringify({
    event,
    id: meta.id,
    title: meta.title ?? null,
    state: meta.state,
    outcome: meta.last_outcome ?? null,
    last_result: meta.last_result ?? null,
    usage: meta.usage ?? null,
    finished_at: meta.updated_at,
    // approval_requested: what codex asks for (kind, command, files, permissions or questions).
    ...(waitsForAnswer(meta.waiting) ? { waiting: meta.waiting } : {}),
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
  store: TaskStore,
  loc: TaskLocation,
  meta: TaskMeta,
  event: NotifyEvent = "finished",
  post?: PostFn,
): Effect.Effect<void> => {
  const notify = notifyOf(meta)
  if (notify === undefined) return Effect.void
  const record = (entry: string) => store.appendLog(loc, entry).pipe(Effect.ignore)
  const command = (cmd: string) =>
    Effect.gen(function* () {
      const resultPath = join(loc.dir, TASK_RESULT)
      const vars = onFinishEnv(
        meta,
        { log: store.logPath(loc), result: existsSync(resultPath) ? resultPath : undefined },
        event,
      )
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
    Effect.flatMap(deliverWebhook(url, webhookBody(meta, event), post), (r) =>
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

/**
 * Claims the notification of this worker's run, before the task leaves RUNNING (under the task
 * lock): whoever then sees it finished also sees the claim, and waits for it (`status --wait`,
 * `archive`). Only for a task with notifications.
 */
export const claimFinished = (loc: TaskLocation): Effect.Effect<void, never, WorkerEnv> =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const meta = yield* env.store.read(loc)
    if (notifyOf(meta) === undefined) return
    yield* claimNotification(loc.dir, env.runId, "finished", env.self)
  }).pipe(Effect.ignore)

/**
 * After the worker is done with its task: the notifications, when the task left RUNNING and the
 * run's claim is this worker's (a `stop` that killed it, or a command that found it lost, would
 * have claimed it instead).
 */
export const notifyFinished = (log: TaskLog): Effect.Effect<void, never, WorkerEnv> =>
  Effect.gen(function* () {
    const env = yield* WorkerEnv
    const loc = yield* log.location
    if (Option.isNone(loc)) return
    const at = loc.value
    const meta = yield* env.store.read(at)
    if (notifyOf(meta) === undefined) return
    const claim = readClaim(at.dir, env.runId)
    const ours = Option.isSome(claim) && claim.value.event === "finished"
    // A racing `send` set the task RUNNING again: the task never visibly ended.
    if (meta.state === "RUNNING") {
      if (ours) yield* claimDone(at.dir, env.runId)
      return
    }
    if (!ours && !(yield* claimNotification(at.dir, env.runId, "finished", env.self))) return
    yield* notifyTask(env.store, at, meta).pipe(Effect.ensuring(claimDone(at.dir, env.runId)))
  }).pipe(Effect.catchAllCause(() => Effect.void))

/**
 * The notifier (`Notify` request): a process started by the command that found a worker lost or
 * killed it, so that command does not wait for the notifications. It takes over the claim (so a
 * wait can follow it), answers, notifies with `event`, and marks the claim done.
 */
export const runNotifier = (
  request: { readonly taskId: string; readonly runId: string; readonly event: NotifyEvent },
  answer: (id: string) => Effect.Effect<void>,
  self: ProcessIdentity | undefined,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(request.taskId, { includeArchived: true })
    yield* updateClaim(loc.dir, request.runId, (c) =>
      self === undefined ? c : { ...c, owner: self },
    )
    yield* answer(loc.id)
    const meta = yield* store.read(loc)
    // A lost worker's task is still stored RUNNING: it is reported as the user sees it.
    const seen: TaskMeta =
      request.event === "worker_lost" && meta.state === "RUNNING"
        ? {
            ...meta,
            state: "DIED",
            last_outcome: {
              kind: "worker_lost",
              message: "the task's worker process is gone",
              at: nowTimestamp(),
            },
          }
        : meta
    yield* notifyTask(store, loc, seen, request.event).pipe(
      Effect.ensuring(claimDone(loc.dir, request.runId)),
    )
  })
