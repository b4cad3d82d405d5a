import { Effect } from "effect"
import type { TaskStore } from "../store/TaskStore.js"
import { lastTurnFiles, taskChanges } from "./taskDiff.js"
import type { TaskView } from "./view.js"
import { readWorktree } from "./worktree.js"

/**
 * `status`'s view of a task with its last turn's files (read from its log) and, for a worktree
 * task, its worktree (branch, base, changed files: git runs only for those).
 */
export const withChanges = (store: TaskStore, views: ReadonlyArray<TaskView>) =>
  Effect.forEach(views, (v) =>
    Effect.gen(function* () {
      const log = store.logPath(v.loc)
      const withFiles = { ...v, lastTurnFiles: lastTurnFiles(log) } satisfies TaskView
      if (readWorktree(v.loc.dir) === undefined) return withFiles
      const c = yield* taskChanges(v.loc.dir, log, v.meta.working_dir, {
        color: false,
        patch: false,
      }).pipe(Effect.option)
      const w = c._tag === "Some" ? c.value.worktree : undefined
      return w === undefined || c._tag === "None"
        ? withFiles
        : ({
            ...withFiles,
            worktree: {
              path: w.path,
              branch: w.branch,
              base: w.base,
              changedFiles: c.value.files.length,
            },
          } satisfies TaskView)
    }),
  )
