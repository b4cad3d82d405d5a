import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { ExitCode, ExitWith } from "../../domain/exit.js"
import { archiveLines } from "../../render/reports.js"
import { Tasks } from "../../tasks/Tasks.js"
import { tasksOrAll } from "../options/shared.js"
import { printLine } from "../Printer.js"
import { globalOptions } from "../root.js"
import { fleetOr, notOnFleet, refuseOnFleet, withTasks } from "../runtime.js"

/** `codex-tasks archive`: move finished tasks to `archive/YYYY/MM/DD/`. */
export const archive = Command.make(
  "archive",
  {
    ...globalOptions,
    all: Options.boolean("all").pipe(
      Options.withAlias("a"),
      Options.withDescription("Archive every task that is not running."),
    ),
    deleteBranch: Options.boolean("delete-branch").pipe(
      Options.withDescription("Worktree tasks: also delete the task's branch (only when merged)."),
    ),
    force: Options.boolean("force").pipe(
      Options.withDescription("With --delete-branch: delete the branch even when not merged."),
    ),
    tasks: Args.text({ name: "TASK" }).pipe(
      Args.withDescription("Task ids or unique prefixes."),
      Args.repeated,
    ),
  },
  (o) =>
    Effect.zipRight(
      refuseOnFleet(
        o,
        o.all
          ? "archive --all"
          : o.deleteBranch || o.force
            ? "archive --delete-branch/--force"
            : undefined,
      ),
      fleetOr(
        o,
        (fleet) =>
          Effect.gen(function* () {
            const refs = yield* tasksOrAll("archive", o.all, o.tasks)
            if (refs === "all") return yield* notOnFleet("archive --all")
            if (o.deleteBranch || o.force)
              return yield* notOnFleet("archive --delete-branch/--force")
            return yield* fleet.fleetArchive(refs)
          }),
        withTasks(
          Effect.gen(function* () {
            const refs = yield* tasksOrAll("archive", o.all, o.tasks)
            const summary = yield* (yield* Tasks).archive(refs, {
              deleteBranch: o.deleteBranch,
              force: o.force,
            })
            for (const line of archiveLines(summary, o.all)) yield* printLine(line)
            if (!o.all && summary.skipped > 0) {
              return yield* new ExitWith({ code: ExitCode.Error, message: "" })
            }
          }),
          o,
        ),
      ),
    ),
).pipe(
  Command.withDescription(
    "Archive tasks that are not running (moved to archive/YYYY/MM/DD/<id>/).\n\nExample: codex-tasks archive 0199d7c2\nExample: codex-tasks archive --all",
  ),
)
