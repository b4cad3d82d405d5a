import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { colorEnabled } from "../render/style.js"
import { Tasks } from "../tasks/Tasks.js"
import type { TaskChanges } from "../tasks/taskDiff.js"
import { printJson, printLine } from "./Printer.js"
import { globalOptions } from "./root.js"
import { withTasks } from "./runtime.js"
import { jsonOption, taskArg } from "./shared.js"

const count = (n: number | null) => (n === null ? "-" : String(n))

const statText = (c: TaskChanges) =>
  c.files.length === 0
    ? "No changes."
    : [
        ...c.files.map((f) => `${f.path} | +${count(f.added)} -${count(f.deleted)}`),
        `${c.files.length} file(s) changed, +${c.files.reduce((a, f) => a + (f.added ?? 0), 0)} -${c.files.reduce((a, f) => a + (f.deleted ?? 0), 0)}`,
      ].join("\n")

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
    withTasks(
      Effect.gen(function* () {
        const color = !o.json && !o.stat && colorEnabled(process.stdout, process.env)
        const { id, changes: c } = yield* (yield* Tasks).changes(o.task, { color, patch: !o.stat })
        if (o.json) {
          return yield* printJson({
            id: id,
            worktree:
              c.worktree === undefined
                ? null
                : { path: c.worktree.path, branch: c.worktree.branch, base: c.worktree.base },
            files: c.files,
            touched: c.worktree === undefined ? c.touched : null,
            ...(o.stat ? {} : { patch: c.patch }),
          })
        }
        if (o.stat) return yield* printLine(statText(c))
        if (c.worktree === undefined && c.touched.length > 0 && c.patch === "") {
          return yield* printLine(
            `Files the task changed (no uncommitted change of them now):\n${c.touched.join("\n")}`,
          )
        }
        if (c.patch === "") return yield* printLine("No changes.")
        yield* Effect.sync(() => process.stdout.write(c.patch))
      }),
      o,
    ),
).pipe(
  Command.withDescription(
    "Show what a task changed: for a worktree task everything on its branch and in its worktree against its base, else the files its patches touched (and their current git diff).\n\nExample: codex-tasks diff 0199d7c2\nExample: codex-tasks diff --stat 0199d7c2",
  ),
)
