import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { patchText, statText } from "../../render/changes.js"
import { colorEnabled } from "../../render/style.js"
import { Tasks } from "../../tasks/Tasks.js"
import { changesJson } from "../../tasks/taskDiff.js"
import { jsonOption, taskArg } from "../options/shared.js"
import { Printer, printJson, printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"

/** `codex-tasks diff`: what a task changed. */
export const diff = Command.make(
  "diff",
  {
    ...globalOptions,
    stat: Options.boolean("stat").pipe(
      Options.withDescription("Only the changed files with added/deleted line counts."),
    ),
    json: jsonOption,
    task: taskArg,
  },
  (o) =>
    fleetOr(
      o,
      (fleet) => fleet.fleetDiff(o.task, { json: o.json, stat: o.stat }),
      withTasks(
        Effect.gen(function* () {
          const color = !o.json && !o.stat && colorEnabled(process.stdout, process.env)
          const { id, changes: c } = yield* (yield* Tasks).changes(o.task, {
            color,
            patch: !o.stat,
          })
          if (o.json) return yield* printJson(changesJson(id, c, o.stat))
          if (o.stat) return yield* printLine(statText(c))
          yield* Effect.flatMap(Printer, (p) => p.write(patchText(c)))
        }),
        o,
      ),
    ),
).pipe(
  Command.withDescription(
    "Show what a task changed: for a worktree task everything on its branch and in its worktree against its base, else the files its patches touched (and their current git diff).\n\nExample: codex-tasks diff 0199d7c2\nExample: codex-tasks diff --stat 0199d7c2",
  ),
)
