import { Effect } from "effect"
import { decodeLogLine } from "../domain/logEntries.js"
import { isOverCap } from "../exec/lines.js"
import { TaskStore } from "../store/TaskStore.js"
import { readLog } from "./logReader.js"
import { currentState, endedBadly, waitForTasks } from "./queries.js"
import type { TaskView } from "./view.js"

/**
 * How the awaited turn ended: `answered` (its final message is `view.lastResult` when the outcome
 * is `completed`), or without an
 * answer: the task failed or died, the turn was stopped, or the prompt was dropped by a stop
 * before it ran.
 */
export type TurnEnd =
  | { readonly _tag: "answered"; readonly view: TaskView }
  | {
      readonly _tag: "unanswered"
      readonly view: TaskView
      /** The prompt never ran: a stop dropped it (else the turn ended as `view.outcome` says). */
      readonly dropped: boolean
    }

const inboxDone = (v: TaskView) => Number(v.meta.inbox_done_seq ?? 0)

/**
 * Waits for the end of a turn: the task's current one (after `start`), or with `seq` the turn of
 * the prompt that `send` queued at that place in the inbox.
 */
export const waitForTurn = (id: string, seq?: number) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(id)
    // A turn that failed ends the task: its worker records the turn done, then the task DIED
    // (worker/Worker.ts `runQueue`); wait for that too, so the end is reported in its final state.
    const isDone = (v: TaskView) =>
      v.state !== "RUNNING" ||
      (seq !== undefined && inboxDone(v) >= seq && v.outcome?.kind !== "failed")
    const [view] = yield* waitForTasks([loc], "all", isDone)
    if (view === undefined) return yield* Effect.dieMessage("waitForTasks returned nothing")
    if (seq !== undefined && view.state !== "RUNNING" && inboxDone(view) < seq) {
      return { _tag: "unanswered", view, dropped: true } satisfies TurnEnd
    }
    const unfinished = view.outcome !== undefined && view.outcome.kind !== "completed"
    if (endedBadly(view) || unfinished) {
      return { _tag: "unanswered", view, dropped: false } satisfies TurnEnd
    }
    return { _tag: "answered", view } satisfies TurnEnd
  })

const isPromptEntry = (line: string, prompt: string) => {
  const entry = decodeLogLine(line)
  return entry?.type === "user_message" && entry.message === prompt
}

/**
 * Streams the task's log lines from `offset` to `onLines` until the task is no longer running;
 * with `prompt`, lines before that prompt's own entry (the end of a turn it was queued behind) are
 * skipped.
 */
export const followTurn = (
  id: string,
  offset: number,
  onLines: (lines: ReadonlyArray<Buffer>) => Effect.Effect<void>,
  prompt?: string,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(id)
    let waitingFor = prompt
    const done = Effect.map(currentState(loc), (s) => s !== "RUNNING").pipe(
      Effect.provideService(TaskStore, store),
    )
    yield* readLog(
      store.logPath(loc),
      (lines) => {
        if (waitingFor === undefined) return onLines(lines)
        const i = lines.findIndex(
          // A line over the decoding cap is never read as the prompt's entry.
          (l) => !isOverCap(l.length) && isPromptEntry(l.toString("utf8"), waitingFor as string),
        )
        if (i < 0) return Effect.void
        waitingFor = undefined
        return onLines(lines.slice(i))
      },
      { fromOffset: offset, follow: { done } },
    )
    return loc
  })
