import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { ExitCode, ExitWith, UsageError } from "../domain/exit.js"
import { TaskStore } from "../store/TaskStore.js"
import { archiveTaskWith } from "../tasks/archive.js"
import { printLine } from "./input.js"
import { globalOptions } from "./root.js"
import { storeOf } from "./runtime.js"

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
    tasks: Args.text({ name: "TASK" }).pipe(Args.repeated),
  },
  (o) =>
    storeOf(
      Effect.gen(function* () {
        if (o.all === o.tasks.length > 0) {
          return yield* new UsageError({
            message: "Name the tasks to archive, or use --all (not both).",
          })
        }
        const store = yield* TaskStore
        const locs = o.all
          ? (yield* store.list({ includeArchived: false })).map((e) => e.loc)
          : yield* Effect.forEach(o.tasks, (ref) => store.resolve(ref, { includeArchived: true }))
        let archived = 0
        let skipped = 0
        for (const loc of locs) {
          const r = yield* archiveTaskWith(loc, { deleteBranch: o.deleteBranch, force: o.force })
          if (r.status === "archived") {
            archived++
            const killed = r.leftoversKilled ?? 0
            yield* printLine(
              `Task ${r.id} archived to ${r.dir}${killed > 0 ? ` (killed ${killed} leftover process(es) of its last worker first)` : ""}.`,
            )
          } else if (r.status === "skipped") {
            skipped++
            yield* printLine(`Skipping task ${r.id} (${r.state}).`)
          } else {
            yield* printLine(`Task ${r.id} is already archived in ${r.dir}.`)
          }
        }
        if (o.all) yield* printLine(`Archived ${archived} task(s); skipped ${skipped} running.`)
        else if (skipped > 0) return yield* new ExitWith({ code: ExitCode.Error, message: "" })
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "Archive tasks that are not running (moved to archive/YYYY/MM/DD/<id>/).\n\nExample: codex-tasks archive 0199d7c2\nExample: codex-tasks archive --all",
  ),
)
