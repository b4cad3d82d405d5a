import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { UsageError } from "../domain/exit.js"
import { TaskState } from "../domain/task.js"
import { renderTaskTable } from "../render/status.js"
import { Tasks } from "../tasks/Tasks.js"
import { viewJson } from "../tasks/view.js"
import { printJson, printLine } from "./Printer.js"
import { globalOptions } from "./root.js"
import { withTasks } from "./runtime.js"
import { jsonOption, reportUnreadable, timeFormatOption } from "./shared.js"

const parseStates = (values: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const states: Array<TaskState> = []
    for (const raw of values.flatMap((v) => v.split(","))) {
      const s = raw.trim().toUpperCase()
      if (s === "") continue
      if (!TaskState.literals.includes(s as TaskState)) {
        return yield* new UsageError({
          message: `Unknown state '${raw}' (expected ${TaskState.literals.join(", ")}).`,
        })
      }
      states.push(s as TaskState)
    }
    return states
  })

/** `codex-tasks ls`: list tasks, newest first. */
export const ls = Command.make(
  "ls",
  {
    ...globalOptions,
    all: Options.boolean("all").pipe(
      Options.withAlias("a"),
      Options.withDescription("Include archived tasks."),
    ),
    state: Options.text("state").pipe(
      Options.withDescription(
        "Only tasks in these states (comma-separated, any case; repeatable).",
      ),
      Options.repeated,
    ),
    json: jsonOption,
    timeFormat: timeFormatOption,
  },
  (o) =>
    withTasks(
      Effect.gen(function* () {
        const states = yield* parseStates(o.state)
        const includeArchived = o.all || states.includes("ARCHIVED")
        const { views, broken } = yield* (yield* Tasks).list({ includeArchived, states })
        yield* reportUnreadable(broken)
        if (o.json) return yield* printJson(views.map(viewJson))
        yield* printLine(
          views.length === 0 ? "No tasks found." : renderTaskTable(views, o.timeFormat),
        )
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "List tasks, newest first.\n\nExample: codex-tasks ls\nExample: codex-tasks ls -a --state running,died --json",
  ),
)
