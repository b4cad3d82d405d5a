import { Args, Command, Options } from "@effect/cli"
import { Duration, Effect, Option } from "effect"
import { ExitCode, ExitWith, UsageError } from "../domain/exit.js"
import { renderStatus } from "../render/status.js"
import { type Selector, type StatusVerdict, Tasks } from "../tasks/Tasks.js"
import { type TaskView, viewJson } from "../tasks/view.js"
import { Printer, printJson, printLine, printNote } from "./Printer.js"
import { globalOptions } from "./root.js"
import { withTasks } from "./runtime.js"
import {
  jsonOption,
  reportUnreadable,
  stdoutStyle,
  timeFormatOption,
  timeoutOption,
} from "./shared.js"

const exitCodes: Record<StatusVerdict, number> = {
  ok: ExitCode.Ok,
  unreadable: ExitCode.Error,
  task_failed: ExitCode.TaskFailed,
  timed_out: ExitCode.Timeout,
}

/** `codex-tasks status`: show tasks, or wait for them to finish. */
export const status = Command.make(
  "status",
  {
    ...globalOptions,
    json: jsonOption,
    timeFormat: timeFormatOption,
    all: Options.boolean("all").pipe(
      Options.withAlias("a"),
      Options.withDescription("Every task."),
    ),
    allRunning: Options.boolean("all-running").pipe(
      Options.withAlias("A"),
      Options.withDescription("Every running task."),
    ),
    wait: Options.boolean("wait").pipe(
      Options.withDescription("Wait until all selected tasks finish."),
    ),
    waitAny: Options.boolean("wait-any").pipe(
      Options.withDescription("Wait until one selected task finishes."),
    ),
    timeout: timeoutOption,
    tasks: Args.text({ name: "TASK" }).pipe(
      Args.withDescription("Task ids or unique prefixes."),
      Args.repeated,
    ),
  },
  (o) =>
    withTasks(
      Effect.gen(function* () {
        if ([o.all, o.allRunning, o.tasks.length > 0].filter(Boolean).length !== 1) {
          return yield* new UsageError({
            message: "Name tasks, or use --all or --all-running (one of them).",
          })
        }
        if (o.wait && o.waitAny)
          return yield* new UsageError({ message: "--wait and --wait-any exclude each other." })
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
          onUnreadable: (broken) =>
            Effect.provideService(reportUnreadable(broken), Printer, printer),
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
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "Show tasks (state, outcome, last prompt and result), or wait for them to finish.\n\nExample: codex-tasks status 0199d7c2\nExample: codex-tasks status --json -A\nExample: codex-tasks status --wait-any --timeout 600 TASK1 TASK2 TASK3",
  ),
)

const renderAll = (views: ReadonlyArray<TaskView>, timeFormat: "human" | "iso") =>
  views.map((v) => renderStatus(v, timeFormat, stdoutStyle())).join("\n\n")
