import { Effect } from "effect"
import type { TaskStore } from "../store/TaskStore.js"
import { lastTurnFiles } from "./logFiles.js"
import { worktreeChanges } from "./taskDiff.js"
import type { TaskView } from "./view.js"
import { readWorktree } from "./worktree.js"

/**
 * `status`'s view of a task with its last turn's files (read from its log) and, for a worktree
 * task, its worktree (branch, base, changed files: git runs only for those).
 */
export const withChanges = (store: TaskStore, views: ReadonlyArray<TaskView>) =>
  Effect.forEach(views, (v) =>
    Effect.gen(function* () {
      const withFiles = { ...v, lastTurnFiles: lastTurnFiles(store.logPath(v.loc)) }
      const w = readWorktree(v.loc.dir)
      if (w === undefined) return withFiles satisfies TaskView
      const c = yield* worktreeChanges(w, { color: false, patch: false }).pipe(Effect.option)
      if (c._tag === "None") return withFiles satisfies TaskView
      return {
        ...withFiles,
        worktree: {
          path: w.path,
          branch: w.branch,
          base: w.base,
          changedFiles: c.value.files.length,
        },
      } satisfies TaskView
    }),
  )
