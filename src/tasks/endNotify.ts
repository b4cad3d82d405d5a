/**
 * The notifications of a worker run whose worker could not send them: lost (SIGKILL, OOM, a
 * crash) or killed by `stop`. The first command that sees the end claims them
 * (`store/notifyClaim.ts`, one claim per run) and starts a detached notifier (a `Notify` worker
 * request), so neither it nor a second observer runs them again.
 */
import { Effect, Option } from "effect"
import { workerNote } from "../domain/logEntries.js"
import { notifyOf } from "../domain/notify.js"
import { WorkerLauncher } from "../launcher/WorkerLauncher.js"
import { isAlive } from "../processes/control.js"
import { liveProcesses } from "../processes/live.js"
import { Processes } from "../processes/Processes.js"
import { currentIdentity } from "../processes/procfs.js"
import {
  claimDone,
  claimNotification,
  type NotifyEvent,
  readClaim,
  readClaims,
} from "../store/notifyClaim.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import type { TaskView } from "./view.js"

/**
 * True while a notification of the task runs (claimed, not done, by a live process); the live
 * process table unless a `Processes` service is given.
 */
export const notificationPending = (loc: TaskLocation) =>
  Effect.gen(function* () {
    if (loc.layout === "flat") return false
    const processes = Option.getOrElse(yield* Effect.serviceOption(Processes), () => liveProcesses)
    for (const claim of readClaims(loc.dir)) {
      if (claim.done_at === undefined && claim.owner !== undefined) {
        const alive = yield* Effect.provideService(isAlive(claim.owner), Processes, processes)
        if (alive) return true
      }
    }
    return false
  })

/**
 * Claims run `runId`'s notification for `event` (when the task has notifications and nobody did):
 * true when this caller now has to start the notifier (`launchNotifier`).
 */
export const claimEnd = (loc: TaskLocation, runId: string, event: NotifyEvent) =>
  Effect.gen(function* () {
    if (loc.layout === "flat" || loc.archived) return false
    if (Option.isNone(yield* Effect.serviceOption(WorkerLauncher))) return false
    const store = yield* TaskStore
    const meta = yield* store.read(loc).pipe(Effect.option)
    if (Option.isNone(meta) || notifyOf(meta.value) === undefined) return false
    return yield* claimNotification(loc.dir, runId, event, currentIdentity())
  })

/**
 * Starts the detached notifier of a claimed run and waits for its answer (it has taken the claim
 * over then). If it cannot start, the claim is closed and the log says why.
 */
export const launchNotifier = (loc: TaskLocation, runId: string, event: NotifyEvent) =>
  Effect.gen(function* () {
    const launcher = yield* Effect.serviceOption(WorkerLauncher)
    if (Option.isNone(launcher)) return
    const store = yield* TaskStore
    const answer = yield* launcher.value
      .launch({ _tag: "Notify", storeRoot: store.root, taskId: loc.id, runId, event }, loc.dir)
      .pipe(
        Effect.flatMap((w) => w.handshake),
        Effect.either,
      )
    const failure =
      answer._tag === "Left"
        ? answer.left.message
        : answer.right._tag === "Failed"
          ? answer.right.message
          : undefined
    if (failure === undefined) return
    yield* store
      .appendLog(loc, workerNote(`the task's notifications (${event}) could not run: ${failure}`))
      .pipe(Effect.ignore)
    yield* claimDone(loc.dir, runId)
  })

/** `claimEnd`, then `launchNotifier` when this caller claimed it. */
export const notifyEnd = (loc: TaskLocation, runId: string, event: NotifyEvent) =>
  Effect.gen(function* () {
    if (yield* claimEnd(loc, runId, event)) yield* launchNotifier(loc, runId, event)
  })

/**
 * For each of `views` whose worker was lost, the notifications of its last run (once per run).
 * The claim is made under the task lock, after checking again that no worker runs: a `send`
 * records the worker it starts before releasing the lock, so the run read there is the lost one.
 */
export const notifyLost = (views: ReadonlyArray<TaskView>) =>
  Effect.forEach(
    views.filter((v) => v.outcome?.kind === "worker_lost" && notifyOf(v.meta) !== undefined),
    ({ loc }) =>
      Effect.gen(function* () {
        const store = yield* TaskStore
        // Already claimed (the usual case after the first observer): no lock taken.
        const seen = yield* store.readRunRecord(loc)
        if (Option.isNone(seen) || Option.isSome(readClaim(loc.dir, seen.value.runId))) return
        const claimed = yield* store.withLock(
          loc,
          Effect.gen(function* () {
            const meta = yield* store.read(loc)
            if (meta.state !== "RUNNING" || (yield* store.workerAlive(loc)) !== false)
              return undefined
            const run = yield* store.readRunRecord(loc)
            if (Option.isNone(run)) return undefined
            return (yield* claimEnd(loc, run.value.runId, "worker_lost"))
              ? run.value.runId
              : undefined
          }),
        )
        if (claimed !== undefined) yield* launchNotifier(loc, claimed, "worker_lost")
      }),
    { discard: true },
  ).pipe(Effect.catchAllCause(() => Effect.void))
