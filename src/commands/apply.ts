import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { TaskStore } from "../store/TaskStore.js"
import { applyTaskChanges } from "../tasks/taskDiff.js"
import { printJson, printLine } from "./Printer.js"
import { globalOptions } from "./root.js"
import { withTasks } from "./runtime.js"
import { jsonOption } from "./shared.js"

/** `codex-tasks apply`: bring a worktree task's changes into the directory it started from. */
export const apply = Command.make(
  "apply",
  {
    ...globalOptions,
    commit: Options.boolean("commit").pipe(
      Options.withDescription("Commit the applied files there, with the task's title as message."),
    ),
    json: jsonOption,
    task: Args.text({ name: "TASK" }).pipe(Args.withDescription("Task id or unique prefix.")),
  },
  (o) =>
    withTasks(
      Effect.gen(function* () {
        const store = yield* TaskStore
        const loc = yield* store.resolve(o.task, { includeArchived: true })
        const meta = yield* store.read(loc)
        const r = yield* applyTaskChanges(loc.dir, loc.id, meta.title, o.commit)
        const files = r._tag === "Applied" ? r.files : []
        if (o.json) {
          return yield* printJson({ id: loc.id, dir: r.record.repo, files, committed: r.committed })
        }
        if (files.length === 0) return yield* printLine(`Task ${loc.id} changed nothing to apply.`)
        yield* printLine(
          `Applied ${files.length} file(s) of task ${loc.id} to ${r.record.repo}${r.committed ? " and committed them" : ""}:\n${files.join("\n")}`,
        )
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "Apply a worktree task's changes to the directory it was started from (three-way; refused with the conflicting paths, never half-applied).\n\nExample: codex-tasks apply 0199d7c2\nExample: codex-tasks apply --commit 0199d7c2",
  ),
)
