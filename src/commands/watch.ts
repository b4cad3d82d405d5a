import { Options } from "@effect/cli"
import { Effect } from "effect"
import { ExitCode, ExitWith, UsageError } from "../domain/exit.js"
import { effectiveState } from "../domain/task.js"
import { isOverCap } from "../exec/lines.js"
import { renderLogLine } from "../render/longLine.js"
import { describeOutcome } from "../render/status.js"
import { makeTranscriptRenderer } from "../render/transcript.js"
import { TaskStore } from "../store/TaskStore.js"
import { readLog } from "../tasks/logReader.js"
import { endedBadly, waitForTasks } from "../tasks/queries.js"
import { type TaskView, viewJson } from "../tasks/view.js"
import { printJson, printLine } from "./input.js"
import { stdoutStyle } from "./shared.js"

/** `--wait` and `--follow` of `start` and `send`. */
export const watchOptions = {
  wait: Options.boolean("wait").pipe(
    Options.withDescription(
      "Block until the turn finishes and print its final message (exit 3 if it failed).",
    ),
  ),
  follow: Options.boolean("follow").pipe(
    Options.withDescription(
      "Stream the transcript from this prompt on, until the task stops running.",
    ),
  ),
}

/** Rejects `--wait` together with `--follow`. */
export const checkWatchOptions = (o: { readonly wait: boolean; readonly follow: boolean }) =>
  o.wait && o.follow
    ? Effect.fail(new UsageError({ message: "--wait and --follow exclude each other." }))
    : Effect.void

/**
 * Waits until `isDone`, prints the final message (or the task as JSON), and exits 3 when the turn
 * gave no answer: the task failed or died, the turn was stopped, or (`dropped`) the prompt was
 * discarded by a stop before it ran.
 */
export const waitAndReport = (
  id: string,
  json: boolean,
  isDone?: (v: TaskView) => boolean,
  dropped: (v: TaskView) => boolean = () => false,
) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(id)
    const [view] = yield* waitForTasks([loc], "all", isDone)
    if (view === undefined) return
    if (json) yield* printJson(viewJson(view))
    else if (view.lastResult !== undefined && view.outcome?.kind === "completed")
      yield* printLine(view.lastResult)
    if (dropped(view)) {
      return yield* new ExitWith({
        code: ExitCode.TaskFailed,
        message: `task ${view.loc.id}: the prompt was dropped by a stop before it ran`,
      })
    }
    if (endedBadly(view) || view.outcome?.kind === "interrupted") {
      return yield* new ExitWith({
        code: ExitCode.TaskFailed,
        message: `task ${view.loc.id} ${view.state}: ${describeOutcome(view.outcome)}`,
      })
    }
  })

const isPromptEntry = (line: string, prompt: string) => {
  try {
    const entry = JSON.parse(line) as { type?: unknown; message?: unknown }
    return entry.type === "user_message" && entry.message === prompt
  } catch {
    return false
  }
}

/**
 * Streams the transcript from `offset` until the task is no longer running; with `prompt`, output
 * before that prompt's own entry (the end of a turn it was queued behind) is skipped.
 */
export const followTranscript = (id: string, offset: number, prompt?: string) =>
  Effect.gen(function* () {
    const store = yield* TaskStore
    const loc = yield* store.resolve(id)
    const renderer = makeTranscriptRenderer({ style: stdoutStyle() })
    let waitingFor = prompt
    const done = Effect.gen(function* () {
      const meta = yield* store.read(loc)
      return effectiveState(meta, yield* store.workerAlive(loc)).state !== "RUNNING"
    }).pipe(Effect.orElseSucceed(() => true))
    yield* readLog(
      store.logPath(loc),
      (lines) =>
        Effect.sync(() => {
          for (const l of lines) {
            if (waitingFor !== undefined) {
              // A line over the decoding cap is never read as the prompt's entry.
              if (isOverCap(l.length) || !isPromptEntry(l.toString("utf8"), waitingFor)) continue
              waitingFor = undefined
            }
            const text = renderLogLine(renderer, l, loc.id)
            if (text !== "") process.stdout.write(text.endsWith("\n") ? text : `${text}\n`)
          }
        }),
      { fromOffset: offset, follow: { done } },
    )
  })
