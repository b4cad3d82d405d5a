import { Options } from "@effect/cli"
import { Effect } from "effect"
import { ExitCode, ExitWith, UsageError } from "../../domain/exit.js"
import { renderLogLine } from "../../render/longLine.js"
import { describeOutcome } from "../../render/status.js"
import { makeTranscriptRenderer } from "../../render/transcript.js"
import { Tasks } from "../../tasks/Tasks.js"
import { viewJson } from "../../tasks/view.js"
import { Printer, printJson, printLine, stdoutStyle } from "../Printer.js"

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
 * `--wait`: waits for the turn (of inbox place `seq`, after a `send`), prints its final message
 * (or the task as JSON), and exits 3 when the turn gave no answer.
 */
export const waitAndReport = (id: string, json: boolean, seq?: number) =>
  Effect.gen(function* () {
    const end = yield* (yield* Tasks).waitForTurn(id, seq)
    const view = end.view
    if (json) yield* printJson(viewJson(view))
    else if (view.lastResult !== undefined && view.outcome?.kind === "completed")
      yield* printLine(view.lastResult)
    if (end._tag === "unanswered") {
      return yield* new ExitWith({
        code: ExitCode.TaskFailed,
        message: end.dropped
          ? `task ${view.loc.id}: the prompt was dropped by a stop before it ran`
          : `task ${view.loc.id} ${view.state}: ${describeOutcome(view.outcome)}`,
      })
    }
  })

/** `--follow`: prints the transcript from `offset` (from `prompt`'s entry) while the task runs. */
export const followTranscript = (id: string, offset: number, prompt?: string) =>
  Effect.gen(function* () {
    const printer = yield* Printer
    const tasks = yield* Tasks
    const { id: fullId } = yield* tasks.resolve(id)
    const renderer = makeTranscriptRenderer({ style: stdoutStyle() })
    yield* tasks.followTurn(
      fullId,
      offset,
      (lines) => {
        let text = ""
        for (const l of lines) {
          const rendered = renderLogLine(renderer, l, fullId)
          if (rendered !== "") text += rendered.endsWith("\n") ? rendered : `${rendered}\n`
        }
        return text === "" ? Effect.void : printer.write(text)
      },
      prompt,
    )
  })
