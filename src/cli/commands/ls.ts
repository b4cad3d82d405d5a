import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { jsonOption, timeFormatOption } from "../options/shared.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"
import { parseStates, showTaskList } from "./showTaskList.js"

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
    fleetOr(
      o,
      (fleet) =>
        Effect.flatMap(parseStates(o.state), (states) =>
          fleet.fleetList(o.all || states.includes("ARCHIVED"), states, o.json, o.timeFormat),
        ),
      withTasks(showTaskList(o), o),
      // A fleet's list is one Postgres query: the engine is built only if something needs it.
      "on-use",
    ),
).pipe(
  Command.withDescription(
    "List tasks, newest first.\n\nExample: codex-tasks ls\nExample: codex-tasks ls -a --state running,died --json",
  ),
)
