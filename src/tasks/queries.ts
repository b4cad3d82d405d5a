import { watch } from "node:fs"
import { Deferred, Effect } from "effect"
import { effectiveState, type TaskState, timestampMillis } from "../domain/task.js"
import type { CorruptTask, TaskNotFound } from "../store/errors.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { notificationPending, notifyLost } from "./endNotify.js"
import { recheckMs } from "./recheck.js"
import { settledViewOf, type TaskView, viewOf } from "./view.js"

/** Which tasks a command addresses. */
export type Selector =
  | { readonly _tag: "Ids"; readonly refs: ReadonlyArray<string> }
  | { readonly _tag: "All" }
  | { readonly _tag: "AllRunning" }

/** A task that could not be shown, and why. */
export interface Unreadable {
  readonly ref: string
  readonly message: string
}

/** All tasks (archived too when asked), newest first; unreadable ones reported separately. */
export const listTasks = (options: {
  readonly includeArchived: boolean
  readonly states?: ReadonlyArray<TaskState> | undefined
}) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const entries = yield* store.list({ includeArchived: options.includeArchived })
    const views: Array<TaskView> = []
    const broken: Array<Unreadable> = []
    for (const entry of entries) {
      if ("error" in entry) broken.push({ ref: entry.loc.id, message: entry.error.message })
      else {
        // Most tasks of a listing are settled: built without a trip through the runtime each.
        const settled = settledViewOf(entry.loc, entry.meta)
        views.push(settled ?? (yield* viewOf(store, entry.loc, entry.meta, { withResult: false })))
      }
    }
    // Whoever sees a worker lost first has its notifications run (once: see endNotify.ts).
    yield* notifyLost(views)
    const wanted = options.states
    const shown =
      wanted === undefined || wanted.length === 0
        ? views
        : views.filter((v) => wanted.includes(v.state))
    // Newest first, by instant (stores mix offsets and precisions), each instant parsed once.
    const created = new Map(shown.map((v) => [v, timestampMillis(v.meta.created_at)]))
    shown.sort((a, b) => (created.get(b) ?? 0) - (created.get(a) ?? 0))
    return { views: shown, broken }
  })

/** The views of the selected tasks; unknown or unreadable ids are reported without hiding the others. */
export const selectTasks = (selector: Selector) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    if (selector._tag !== "Ids") {
      const { views, broken } = yield* listTasks({ includeArchived: false })
      return {
        views: selector._tag === "AllRunning" ? views.filter((v) => v.state === "RUNNING") : views,
        broken,
      }
    }
    const views: Array<TaskView> = []
    const broken: Array<Unreadable> = []
    for (const ref of selector.refs) {
      const view = yield* store.resolve(ref, { includeArchived: true }).pipe(
        Effect.flatMap((loc) =>
          Effect.flatMap(store.read(loc), (meta) => viewOf(store, loc, meta)),
        ),
        Effect.map((v) => ({ ok: true as const, v })),
        Effect.catchAll((e: { readonly message: string } | TaskNotFound | CorruptTask) =>
          Effect.succeed({ ok: false as const, message: e.message }),
        ),
      )
      if (view.ok) views.push(view.v)
      else broken.push({ ref, message: view.message })
    }
    yield* notifyLost(views)
    return { views, broken }
  })

/**
 * Watches the task directories for the rest of the scope; `next` resolves at the first change
 * since the previous `next` (or since the watch began), or after `fallbackMs` without one.
 */
const watchDirs = (locs: ReadonlyArray<TaskLocation>, fallbackMs: number) =>
  Effect.gen(function* () {
    let changed = yield* Deferred.make<void>()
    for (const loc of locs) {
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          try {
            return watch(loc.dir, () => Deferred.unsafeDone(changed, Effect.void))
          } catch {
            return undefined
          }
        }),
        (w) => Effect.sync(() => w?.close()),
      )
    }
    // A worker killed outright changes no file: look at the processes now and then too.
    const next = Effect.gen(function* () {
      yield* Deferred.await(changed).pipe(Effect.timeoutOption(fallbackMs))
      changed = yield* Deferred.make<void>()
    })
    return { next }
  })

/**
 * Waits until all (or any) of `locs` are no longer RUNNING, watching their directories (no busy
 * polling; a slow liveness check catches workers that die without a word). Returns the views of
 * the tasks that finished. The watch is set before the first read, so a task finishing between
 * a read and the wait that follows it still wakes the wait. Without `isDone`, a task has finished
 * once its end's notifications (`--on-finish`, `--webhook`) are done too: until then its files
 * are still read (an `archive` right after would pull them from under the notification).
 */
export const waitForTasks = (
  locs: ReadonlyArray<TaskLocation>,
  mode: "all" | "any",
  isDone?: (v: TaskView) => boolean,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    if (locs.length === 0) return []
    const changes = yield* watchDirs(locs, recheckMs())
    for (;;) {
      const views = yield* Effect.forEach(locs, (loc) =>
        Effect.flatMap(store.read(loc), (meta) => viewOf(store, loc, meta)),
      )
      const done =
        isDone !== undefined
          ? views.filter(isDone)
          : yield* Effect.gen(function* () {
              yield* notifyLost(views)
              return yield* Effect.filter(views, (v) =>
                v.state === "RUNNING"
                  ? Effect.succeed(false)
                  : Effect.map(notificationPending(v.loc), (pending) => !pending),
              )
            })
      if (mode === "any" ? done.length > 0 : done.length === views.length) return done
      yield* changes.next
    }
  }).pipe(Effect.scoped)

/** True when a finished task's wait should exit 3: it DIED or its last invocation failed. */
export const endedBadly = (v: TaskView): boolean =>
  v.state === "DIED" || v.outcome?.kind === "failed" || v.outcome?.kind === "worker_lost"

/**
 * The task's state as the user would see it now: read fresh, a RUNNING task whose worker is gone
 * reads DIED, an archived one ARCHIVED. A task that cannot be read (removed meanwhile) reads DIED.
 */
export const currentState = (loc: TaskLocation) =>
  Effect.gen(function* () {
    if (loc.archived) return "ARCHIVED" as TaskState
    const store = yield* TaskStore
    const meta = yield* store.read(loc)
    return effectiveState(meta, yield* store.workerAlive(loc)).state
  }).pipe(Effect.orElseSucceed((): TaskState => "DIED"))
