import { statSync } from "node:fs"
import { Deferred, Duration, Effect } from "effect"
import type { TaskState } from "../domain/task.js"
import { type TaskLocation, TaskStore } from "../store/TaskStore.js"
import { LOG_PAGE_BYTES, type LogPage, readPage, tailStart } from "./logPage.js"
import { readLog } from "./logReader.js"
import { currentState } from "./queries.js"

/** Which part of a task's log to read, and how. */
export interface LogWindowRequest {
  /** Transcript text, or the raw JSONL lines. */
  readonly format: "text" | "jsonl"
  /** Only what came after this byte offset (a previous window's `nextOffset`). */
  readonly since?: number | undefined
  /** Start this many events before the end (after `since`, when both are given). */
  readonly tail?: number | undefined
  /** At most this many bytes of log (default `LOG_PAGE_BYTES`). */
  readonly maxBytes?: number | undefined
  /** While the task runs, wait up to this long for a new event first. */
  readonly waitSeconds?: number | undefined
  /** Runs (forked) while waiting, e.g. to report progress; interrupted when the wait ends. */
  readonly whileWaiting?: Effect.Effect<void> | undefined
}

/** One window of a task's log. */
export interface LogWindow {
  readonly id: string
  /** The task's state after the read. */
  readonly state: TaskState
  readonly format: "text" | "jsonl"
  /** The bytes this window covers (what `format` renders). */
  readonly page: LogPage
  /** The window's size limit in bytes. */
  readonly budget: number
  /** Events in the window (an event too large for it counts, as its note or its piece). */
  readonly events: number
  /** Where the next window starts (`since`). */
  readonly nextOffset: number
  /** More of the log is there now. */
  readonly hasMore: boolean
  /** jsonl: the window ends with a piece of an event larger than it. */
  readonly partialEvent: boolean
  /** The wait ended without a new event. */
  readonly timedOut: boolean
}

const sizeOf = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/**
 * Waits until the log has a line after `from` or the task stops running; false after `seconds`
 * without either. File watching, no polling (readLog's follow mode).
 */
const waitForEvents = (
  loc: TaskLocation,
  from: number,
  seconds: number,
  whileWaiting: Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const stopped = Effect.map(currentState(loc), (s) => s !== "RUNNING").pipe(
      Effect.provideService(TaskStore, store),
    )
    const arrived = yield* Deferred.make<boolean>()
    const follow = readLog(
      store.logPath(loc),
      (lines) => (lines.length > 0 ? Deferred.succeed(arrived, true) : Effect.void),
      { fromOffset: from, follow: { done: stopped } },
    )
    yield* Effect.forkScoped(whileWaiting)
    return yield* Effect.raceFirst(Deferred.await(arrived), Effect.as(follow, true)).pipe(
      Effect.timeoutTo({
        duration: Duration.seconds(seconds),
        onSuccess: (x) => x,
        onTimeout: () => false,
      }),
    )
  }).pipe(Effect.scoped)

/**
 * One window (at most `maxBytes` of log), optionally only new events, optionally waiting for
 * them; `render/logPageText.ts` turns it into text or JSONL. An unterminated last line of a running task is left for the
 * next window (it is still being written).
 */
export const logWindow = (loc: TaskLocation, request: LogWindowRequest) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const path = store.logPath(loc)
    const stateNow = currentState(loc).pipe(Effect.provideService(TaskStore, store))
    let timedOut = false
    const wait = request.waitSeconds ?? 0
    if (wait > 0 && (yield* stateNow) === "RUNNING") {
      const from = request.since ?? sizeOf(path)
      timedOut = !(yield* waitForEvents(loc, from, wait, request.whileWaiting ?? Effect.void))
    }
    const state = yield* stateNow
    const final = state !== "RUNNING"
    const budget = request.maxBytes ?? LOG_PAGE_BYTES
    // With `since`, `tail` applies to what came after it (without, the read starts at the tail).
    const fromTail = request.tail === undefined ? 0 : tailStart(path, request.tail, final)
    const start = request.since === undefined ? fromTail : Math.max(request.since, fromTail)
    const page = readPage(path, start, budget, {
      final,
      longLines: request.format === "jsonl" ? "split" : "skip",
    })
    return {
      id: loc.id,
      state,
      format: request.format,
      budget,
      page,
      events: page.lines.length + (page.skipped === undefined ? 0 : 1),
      nextOffset: page.end,
      hasMore: page.hasMore,
      partialEvent: page.piece !== undefined,
      timedOut,
    } satisfies LogWindow
  })
