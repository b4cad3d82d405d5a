import { Duration, Effect, Option } from "effect"
import { timeoutSecondsProblem } from "../../domain/duration.js"
import { ExitCode, ExitWith, UsageError } from "../../domain/exit.js"
import { renderStatus } from "../../render/status.js"
import type { TimeFormat } from "../../render/time.js"
import { type Selector, type StatusVerdict, Tasks } from "../../tasks/Tasks.js"
import { type TaskView, viewJson } from "../../tasks/view.js"
import {
  Printer,
  printJson,
  printLine,
  printNote,
  reportUnreadable,
  stdoutStyle,
} from "../Printer.js"

/** What `status` was asked for (parsed by @effect/cli in `status.ts`, or by `readArgs.ts`). */
export interface ShowStatusOptions {
  readonly json: boolean
  readonly timeFormat: TimeFormat
  readonly all: boolean
  readonly allRunning: boolean
  readonly wait: boolean
  readonly waitAny: boolean
  readonly timeout: Option.Option<number>
  readonly tasks: ReadonlyArray<string>
}

const exitCodes: Record<StatusVerdict, number> = {
  ok: ExitCode.Ok,
  unreadable: ExitCode.Error,
  task_failed: ExitCode.TaskFailed,
  timed_out: ExitCode.Timeout,
}

/** `status`: show the selected tasks, or wait for them to finish; the exit code is the verdict. */
export const showStatus = (o: ShowStatusOptions) =>
  Effect.gen(function* () {
    if ([o.all, o.allRunning, o.tasks.length > 0].filter(Boolean).length !== 1) {
      return yield* new UsageError({
        message: "Name tasks, or use --all or --all-running (one of them).",
      })
    }
    if (o.wait && o.waitAny)
      return yield* new UsageError({ message: "--wait and --wait-any exclude each other." })
    const timeoutProblem = Option.flatMap(o.timeout, timeoutSecondsProblem)
    if (Option.isSome(timeoutProblem))
      return yield* new UsageError({ message: timeoutProblem.value })
    const selector: Selector = o.all
      ? { _tag: "All" }
      : o.allRunning
        ? { _tag: "AllRunning" }
        : { _tag: "Ids", refs: o.tasks }
    const printer = yield* Printer
    const report = yield* (yield* Tasks).status({
      selector,
      wait: o.wait ? "all" : o.waitAny ? "any" : undefined,
      timeout: Option.getOrUndefined(Option.map(o.timeout, Duration.seconds)),
      onUnreadable: (broken) => Effect.provideService(reportUnreadable(broken), Printer, printer),
    })
    const single = o.tasks.length === 1
    const shown = report.views
    for (const v of report.finished) yield* printNote(`Task ${v.loc.id} finished: ${v.state}`)
    if (report.verdict === "timed_out") {
      const seconds = Option.getOrElse(o.timeout, () => 0)
      return yield* new ExitWith({
        code: ExitCode.Timeout,
        message: `timed out after ${seconds} s waiting for ${shown.length === 1 ? "the task" : "the tasks"}`,
      })
    }
    if (o.json) {
      // One named task prints as an object; a selection as an array (even an empty one).
      if (single && shown[0] !== undefined) yield* printJson(viewJson(shown[0]))
      else if (!single) yield* printJson(shown.map(viewJson))
    } else if (shown.length > 0) yield* printLine(renderAll(shown, o.timeFormat))
    else if (!o.wait && !o.waitAny && report.broken.length === 0)
      yield* printLine("No tasks found.")
    if (report.verdict !== "ok") {
      return yield* new ExitWith({ code: exitCodes[report.verdict], message: "" })
    }
  })

const renderAll = (views: ReadonlyArray<TaskView>, timeFormat: TimeFormat) =>
  views.map((v) => renderStatus(v, timeFormat, stdoutStyle())).join("\n\n")
