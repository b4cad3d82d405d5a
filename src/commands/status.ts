import { Args, Command, Options } from "@effect/cli"
import { Duration, Effect, Option } from "effect"
import { ExitCode, ExitWith, UsageError } from "../domain/exit.js"
import { renderStatus } from "../render/status.js"
import { TaskStore } from "../store/TaskStore.js"
import { withLeftovers } from "../tasks/leftovers.js"
import { endedBadly, type Selector, selectTasks, waitForTasks } from "../tasks/queries.js"
import { type TaskView, viewJson } from "../tasks/view.js"
import { withChanges } from "../tasks/worktreeView.js"
import { printJson, printLine } from "./input.js"
import { globalOptions } from "./root.js"
import { storeOf } from "./runtime.js"
import {
  jsonOption,
  reportUnreadable,
  stdoutStyle,
  timeFormatOption,
  timeoutOption,
} from "./shared.js"

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
    tasks: Args.text({ name: "TASK" }).pipe(Args.repeated),
  },
  (o) =>
    storeOf(
      Effect.gen(function* () {
        const selectors = [o.all, o.allRunning, o.tasks.length > 0].filter(Boolean).length
        if (selectors !== 1) {
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
        const selected = yield* selectTasks(selector)
        const broken = selected.broken
        const store = yield* TaskStore
        const views = yield* withChanges(store, yield* withLeftovers(selected.views))
        yield* reportUnreadable(broken)
        const single = selector._tag === "Ids" && o.tasks.length === 1
        const print = (shown: ReadonlyArray<TaskView>) =>
          o.json
            ? printJson(single && shown[0] !== undefined ? viewJson(shown[0]) : shown.map(viewJson))
            : printLine(shown.map((v) => renderStatus(v, o.timeFormat, stdoutStyle())).join("\n\n"))

        if (!o.wait && !o.waitAny) {
          if (views.length > 0 || (o.json && !single)) yield* print(views)
          else if (broken.length === 0) yield* printLine("No tasks found.")
          if (broken.length > 0) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
          return
        }
        if (views.length === 0) {
          // Nothing to wait for: unknown ids were reported above, or no task is running.
          if (broken.length > 0) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
          if (o.json && !single) yield* print([])
          return
        }
        const waited = yield* waitForTasks(
          views.map((v) => v.loc),
          o.wait ? "all" : "any",
        ).pipe(
          Option.match(o.timeout, {
            onNone: () => Effect.map((x) => Option.some(x)),
            onSome: (s) => Effect.timeoutOption(Duration.seconds(s)),
          }),
        )
        if (Option.isNone(waited)) {
          return yield* new ExitWith({
            code: ExitCode.Timeout,
            message: `timed out after ${Option.getOrElse(o.timeout, () => 0)} s waiting for ${views.length === 1 ? "the task" : "the tasks"}`,
          })
        }
        const finished = yield* withChanges(store, yield* withLeftovers(waited.value))
        for (const v of finished) {
          process.stderr.write(`Task ${v.loc.id} finished: ${v.state}\n`)
        }
        yield* print(finished)
        if (finished.some(endedBadly) || broken.length > 0) {
          return yield* new ExitWith({
            code: finished.some(endedBadly) ? ExitCode.TaskFailed : ExitCode.Error,
            message: "",
          })
        }
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "Show tasks (state, outcome, last prompt and result), or wait for them to finish.\n\nExample: codex-tasks status 0199d7c2\nExample: codex-tasks status --json -A\nExample: codex-tasks status --wait-any --timeout 600 TASK1 TASK2 TASK3",
  ),
)
