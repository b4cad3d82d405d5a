import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import type { ApplyJson } from "../../domain/wire.js"
import { Tasks } from "../../tasks/Tasks.js"
import { jsonOption, taskArg } from "../options/shared.js"
import { printJson, printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, withTasks } from "../runtime.js"

/** `codex-tasks apply`: bring a worktree task's changes into the directory it started from. */
export const apply = Command.make(
  "apply",
  {
    ...globalOptions,
    commit: Options.boolean("commit").pipe(
      Options.withDescription("Commit the applied files there, with the task's title as message."),
    ),
    json: jsonOption,
    task: taskArg,
  },
  (o) =>
    fleetOr(
      o,
      (fleet) => fleet.fleetApply(o.task, o.commit, o.json),
      withTasks(
        Effect.gen(function* () {
          const { id, applied: r } = yield* (yield* Tasks).applyChanges(o.task, o.commit)
          const files = r._tag === "Applied" ? r.files : []
          if (o.json) {
            const json: ApplyJson = { id, dir: r.record.repo, files, committed: r.committed }
            return yield* printJson(json)
          }
          if (files.length === 0) return yield* printLine(`Task ${id} changed nothing to apply.`)
          yield* printLine(
            `Applied ${files.length} file(s) of task ${id} to ${r.record.repo}${r.committed ? " and committed them" : ""}:\n${files.join("\n")}`,
          )
        }),
        o,
      ),
    ),
).pipe(
  Command.withDescription(
    "Apply a worktree task's changes to the directory it was started from (three-way; refused with the conflicting paths, never half-applied). With --cluster: to the git checkout of the current directory on this machine.\n\nExample: codex-tasks apply 0199d7c2\nExample: codex-tasks apply --commit 0199d7c2",
  ),
)
