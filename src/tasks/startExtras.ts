/**
 * What `Tasks` hands a worker for unattended runs: the store-wide run-slot limit and a
 * start's notifications, checked before anything is launched.
 */
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"
import { type TaskNotify, webhookProblem } from "../domain/notify.js"
import type { WorkerExtras } from "../launcher/requestExtras.js"
import type { WorkerNotice } from "../launcher/workerNotice.js"

/** What a start may add: its notifications and a listener for the worker's notices. */
export interface StartExtras {
  readonly notify?: TaskNotify | undefined
  /** Told when the first invocation waits for a run slot (the CLI prints one line). */
  readonly onNotice?: ((notice: WorkerNotice) => void) | undefined
  /** A fleet command's `--max-running`: the fleet-wide limit its worker runs under. */
  readonly fleetMaxRunning?: number | undefined
}

/** The worker request's field for a fleet-wide limit (absent or 0: none). */
export const fleetExtras = (fleetMaxRunning: number | undefined): WorkerExtras =>
  fleetMaxRunning === undefined || fleetMaxRunning <= 0 ? {} : { fleetMaxRunning }

/** The worker request's extra fields for `maxRunning` (absent or 0: no limit) and `notify`. */
export const workerExtras = (
  maxRunning: number | undefined,
  notify?: TaskNotify | undefined,
): WorkerExtras => ({
  ...(maxRunning === undefined || maxRunning <= 0 ? {} : { maxRunning }),
  ...(notify === undefined || (notify.on_finish === undefined && notify.webhook === undefined)
    ? {}
    : { notify }),
})

/** Fails with a usage error (exit 2) when the notifications cannot work as given. */
export const checkNotify = (notify: TaskNotify | undefined) => {
  if (notify?.on_finish !== undefined && notify.on_finish.trim() === "") {
    return Effect.fail(new UsageError({ message: "--on-finish is empty." }))
  }
  const problem = notify?.webhook === undefined ? undefined : webhookProblem(notify.webhook)
  return problem === undefined ? Effect.void : Effect.fail(new UsageError({ message: problem }))
}
