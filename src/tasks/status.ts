import { Duration, Effect, Option } from "effect"
import { sleepFor } from "../domain/longSleep.js"
import { TaskStore } from "../store/TaskStore.js"
import { withLeftovers } from "./leftovers.js"
import { endedBadly, type Selector, selectTasks, type Unreadable, waitForTasks } from "./queries.js"
import type { TaskView } from "./view.js"
import { withChanges } from "./worktreeView.js"

/** What `status` is asked to do beyond showing the selected tasks. */
export interface StatusRequest {
  readonly selector: Selector
  /** Wait until all (or any) of the selected tasks finish. */
  readonly wait?: "all" | "any" | undefined
  /** Give up waiting after this long. */
  readonly timeout?: Duration.Duration | undefined
  /** Told about the tasks that could not be read before any wait begins (so the user sees it now). */
  readonly onUnreadable?: ((broken: ReadonlyArray<Unreadable>) => Effect.Effect<void>) | undefined
}

/**
 * How a `status` ended, for the caller's exit code: `ok`; `unreadable` (an id matched nothing or a
 * task could not be read: 1); `task_failed` (a waited-for task ended badly: 3); `timed_out` (124).
 */
export type StatusVerdict = "ok" | "unreadable" | "task_failed" | "timed_out"

/** The tasks `status` shows, the ones it could not read, and how it ended. */
export interface StatusReport {
  /** The tasks to show: all selected ones, or (after a wait) the ones that finished. */
  readonly views: ReadonlyArray<TaskView>
  /** The tasks that could not be read (already given to `onUnreadable`, when there is one). */
  readonly broken: ReadonlyArray<Unreadable>
  /** The tasks whose finish ended the wait (empty without a wait). */
  readonly finished: ReadonlyArray<TaskView>
  readonly verdict: StatusVerdict
  /** Whether anything was waited for. */
  readonly waited: boolean
}

/**
 * `status`: the selected tasks with their leftover processes and changed files; with `wait`, blocks until all or
 * any of them finish (or `timeout` passes) and reports the finished ones.
 */
export const statusOf = (request: StatusRequest) =>
  Effect.gen(function* () {
    const selected = yield* selectTasks(request.selector)
    const broken = selected.broken
    const store = yield* TaskStore
    const views = yield* withChanges(store, yield* withLeftovers(selected.views))
    const unreadable = broken.length > 0
    if (unreadable && request.onUnreadable !== undefined) yield* request.onUnreadable(broken)
    if (request.wait === undefined || views.length === 0) {
      // Nothing to wait for: unknown ids are reported, or no task is running.
      return {
        views,
        broken,
        finished: [],
        verdict: unreadable ? "unreadable" : "ok",
        waited: false,
      } satisfies StatusReport
    }
    const wait = waitForTasks(
      views.map((v) => v.loc),
      request.wait,
    )
    const waited =
      request.timeout === undefined
        ? yield* Effect.map(wait, Option.some)
        : // Not Effect.timeoutOption: one timer cannot hold more than 24.8 days.
          yield* Effect.raceFirst(
            Effect.map(wait, Option.some),
            Effect.as(sleepFor(Duration.toMillis(request.timeout)), Option.none()),
          )
    if (Option.isNone(waited)) {
      return {
        views,
        broken,
        finished: [],
        verdict: "timed_out",
        waited: true,
      } satisfies StatusReport
    }
    const finished = yield* withChanges(store, yield* withLeftovers(waited.value))
    const verdict: StatusVerdict = finished.some(endedBadly)
      ? "task_failed"
      : unreadable
        ? "unreadable"
        : "ok"
    return { views: finished, broken, finished, verdict, waited: true } satisfies StatusReport
  })
