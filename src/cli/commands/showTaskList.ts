import { Effect } from "effect"
import { UsageError } from "../../domain/exit.js"
import { TaskState } from "../../domain/task.js"
import { renderTaskTable } from "../../render/status.js"
import type { TimeFormat } from "../../render/time.js"
import { Tasks } from "../../tasks/Tasks.js"
import { viewJson } from "../../tasks/view.js"
import { printJson, printLine, reportUnreadable } from "../Printer.js"

/** What `ls` was asked for (parsed by @effect/cli in `ls.ts`, or by `readArgs.ts`). */
export interface ListRequest {
  readonly all: boolean
  readonly state: ReadonlyArray<string>
  readonly json: boolean
  readonly timeFormat: TimeFormat
}

/** `--state` values (comma-separated, any case) as states; an unknown one is a usage error. */
export const parseStates = (values: ReadonlyArray<string>) =>
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

/** `ls`: the tasks, newest first, as a table or JSON. */
export const showTaskList = (o: ListRequest) =>
  Effect.gen(function* () {
    const states = yield* parseStates(o.state)
    const includeArchived = o.all || states.includes("ARCHIVED")
    const { views, broken } = yield* (yield* Tasks).list({ includeArchived, states })
    yield* reportUnreadable(broken)
    if (o.json) return yield* printJson(views.map(viewJson))
    yield* printLine(views.length === 0 ? "No tasks found." : renderTaskTable(views, o.timeFormat))
  })
